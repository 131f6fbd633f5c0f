"""Benchmark bulk submission: batches of 1,000 five-item declarations posted to
``/api/v1/declaration-batches`` of a real server (gunicorn, as bench/intake.py runs it) on a
fresh, seeded database per backend.

Why: issue 26 asks for >= 1,000 declarations/s in bulk on each backend on 2 cores, and a batch
of 1,000 answered in < 3 s. Each batch carries unique LRNs (every result is a real insert);
``--clients`` batches are posted at once; afterwards the rows stored are counted (every
accepted result must be stored).

    .venv/bin/python -m bench.batch [--batches 4] [--size 1000] [--clients 1] [--workers N]
                                    [--backend sqlite|postgresql|both]
"""
from __future__ import annotations

import argparse
import json
import os
import re
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.intake import (
    API_KEY,
    DEFAULT_POSTGRES_URL,
    SAMPLE,
    count_declarations,
    gunicorn,
    migrate_and_seed,
    reset_postgres,
    service_env,
)

TARGET_RATE = 1000.0
TARGET_BATCH_S = 3.0
_PROLOG = re.compile(rb"^<\?xml[^>]*\?>\s*")
_LRN = re.compile(rb"<FunctionalReferenceID>[^<]+</FunctionalReferenceID>")


def batch_body(tag: str, size: int) -> bytes:
    """``size`` copies of the 5-item sample, each with its own LRN ``<tag>-<n>``."""
    template = _PROLOG.sub(b"", SAMPLE.read_bytes())
    inner = b"".join(_LRN.sub(f"<FunctionalReferenceID>{tag}-{n:05d}</FunctionalReferenceID>".encode(), template)
                     for n in range(size))
    return (b'<?xml version="1.0" encoding="UTF-8"?>\n<DeclarationBatch xmlns="urn:csw:declaration-batch:v1">'
            + inner + b"</DeclarationBatch>")


def post(base: str, body: bytes) -> tuple[float, dict[str, object]]:
    request = urllib.request.Request(base + "/api/v1/declaration-batches", data=body, method="POST", headers={
        "Authorization": f"Bearer {API_KEY}", "Content-Type": "application/xml", "Accept": "application/json"})
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=120) as answer:
        payload = json.loads(answer.read())
    return time.perf_counter() - started, payload


def run(backend: str, url: str, args: argparse.Namespace) -> dict[str, object]:
    instance = Path(tempfile.mkdtemp(prefix=f"csw-batch-{backend}-"))
    if backend == "postgresql":
        reset_postgres(url)
    env = service_env(url, instance)
    env["CSW_API_RATE_LIMIT"] = "1000000 per second"
    migrate_and_seed(env)
    with gunicorn("app.wsgi:app", args.workers, env, instance / "server.log") as base:
        post(base, batch_body(f"W{os.getpid()}", 50))  # warm-up: workers loaded, caches filled
        bodies = [batch_body(f"B{n:02d}", args.size) for n in range(args.batches)]
        started = time.perf_counter()
        with ThreadPoolExecutor(args.clients) as pool:
            answers = list(pool.map(lambda body: post(base, body), bodies))
        elapsed = time.perf_counter() - started
    accepted = sum(int(payload["accepted"]) for _, payload in answers)  # type: ignore[call-overload]
    stored = count_declarations(url, [f"B{n:02d}" for n in range(args.batches)])
    times = sorted(seconds for seconds, _ in answers)
    return {"backend": backend, "batches": args.batches, "size": args.size, "clients": args.clients,
            "accepted": accepted, "stored": stored, "declarations_per_s": round(accepted / elapsed, 1),
            "batch_s_median": round(times[len(times) // 2], 2), "batch_s_max": round(times[-1], 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batches", type=int, default=4)
    parser.add_argument("--size", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=1)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    args = parser.parse_args()
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    for backend in backends:
        url = (f"sqlite:///{tempfile.mkdtemp(prefix='csw-batch-db-')}/csw.db" if backend == "sqlite"
               else os.environ.get("CSW_BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL))
        figures = run(backend, url, args)
        verdict = "meets" if (figures["declarations_per_s"] >= TARGET_RATE  # type: ignore[operator]
                              and figures["batch_s_max"] < TARGET_BATCH_S) else "MISSES"  # type: ignore[operator]
        print(f"[{backend}] {figures['accepted']} accepted, {figures['stored']} stored: "
              f"{figures['declarations_per_s']} declarations/s; a batch of {args.size} answered in "
              f"{figures['batch_s_median']} s (median), {figures['batch_s_max']} s (max) -> {verdict} the targets "
              f"(>= {TARGET_RATE:.0f}/s, < {TARGET_BATCH_S:.0f} s)", flush=True)
        print("BATCH_RESULT " + json.dumps(figures), flush=True)


if __name__ == "__main__":
    main()
