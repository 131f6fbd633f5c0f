"""The cost of each declaration message in one process: v1, v2 and WCO DEC-DMS, interleaved.

Why: issue 20 asks that a 5-item v2 or DEC-DMS declaration be lodged within 20 % of v1's
rate. ``bench/intake.py --cases v1bl,v2,dms`` measures that over HTTP, one case after the
other, so a machine whose load changes between cases skews the ratio. Here the same
declarations go through the Flask test client in turns (one of each, round after round), and
each message's CPU time (``time.thread_time``) and wall time are summed apart: whatever else the
machine does falls on all of them alike. Every answer must be a 202. ``v1bl`` is the v1 sample
naming the v2 sample's bill of lading (the same declaration in each message, see
``bench/intake.py``). SQL statements per declaration are counted. No timing is asserted.

    .venv/bin/python -m bench.messages --rounds 300 [--postgres-url URL]
"""
from __future__ import annotations

import argparse
import os
import re
import time
from collections import Counter

from sqlalchemy import event
from sqlalchemy.engine import Engine

from bench.inprocess import scratch_client
from bench.intake import API_KEY, TARGET_PROFILE_RATIO, declaration_body

LRN = re.compile(rb"(<FunctionalReferenceID>)[^<]*(</FunctionalReferenceID>)")
MESSAGES = ("v1", "v1bl", "v2", "dms")
WARM_UP_ROUNDS = 20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=300, help="declarations of each message measured")
    parser.add_argument("--postgres-url", help="scratch PostgreSQL database (its schema public is dropped)")
    args = parser.parse_args()
    templates = {name: declaration_body(5, name)[0] for name in MESSAGES}
    tag = f"M{int(time.time())}"

    with scratch_client(args.postgres_url, "csw-messages-") as client:
        headers = {"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/xml"}
        counting: list[str | None] = [None]
        statements: Counter[str] = Counter()

        @event.listens_for(Engine, "before_cursor_execute")
        def _count(*_args: object) -> None:
            if counting[0] is not None:
                statements[counting[0]] += 1

        cpu: Counter[str] = Counter()
        wall: Counter[str] = Counter()
        for round_number in range(WARM_UP_ROUNDS + args.rounds):
            measured = round_number >= WARM_UP_ROUNDS
            for name in MESSAGES:
                body = LRN.sub(rb"\g<1>" + f"{tag}-{name}-{round_number}".encode() + rb"\g<2>", templates[name],
                               count=1)
                counting[0] = name if measured else None
                started, cpu_started = time.perf_counter(), time.thread_time()
                answer = client.post("/api/v1/declarations", data=body, headers=headers)
                if measured:
                    cpu[name] += time.thread_time() - cpu_started
                    wall[name] += time.perf_counter() - started
                counting[0] = None
                if answer.status_code != 202:
                    raise SystemExit(f"{name}: expected 202, got {answer.status_code}: {answer.data[:500]!r}")

    backend = "PostgreSQL" if args.postgres_url else "SQLite"
    print(f"{backend}, {args.rounds} declarations of each message, interleaved, after {WARM_UP_ROUNDS} rounds of "
          f"warm-up; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("| message | CPU ms per declaration | wall ms | statements | rate from CPU vs v1 naming the same cargo |")
    print("|---|---|---|---|---|")
    base = cpu["v1bl"] / args.rounds
    for name in MESSAGES:
        each = cpu[name] / args.rounds
        share = base / each if each else 0.0
        verdict = "" if name in ("v1", "v1bl") else (" meets" if share >= TARGET_PROFILE_RATIO else " MISSES")
        print(f"| {name} | {each * 1000:.2f} | {wall[name] / args.rounds * 1000:.2f} | "
              f"{statements[name] / args.rounds:.1f} | {share:.2f}{verdict} |")


if __name__ == "__main__":
    main()
