"""Profile bulk lodging in one process: where the CPU of a declaration in a batch goes.

Why: ``bench/batch.py`` says how fast bulk submission is over HTTP on a real server; this says
why, without wall-clock noise from other work on the machine. It migrates and seeds a scratch
database (SQLite, or PostgreSQL with ``--postgres-url``), posts batches of five-item
declarations with unique LRNs to ``/api/v1/declaration-batches`` through the Flask test client
and reports process CPU time and SQL statements per declaration (statements counted with a
SQLAlchemy ``before_cursor_execute`` listener; an executemany counts once), optionally under
cProfile or pyinstrument. No timing is asserted anywhere.

    .venv/bin/python -m bench.profile_batch --batches 3 --size 1000 [--cprofile | --pyinstrument]
"""
from __future__ import annotations

import argparse
import cProfile
import pstats
import time
from collections import Counter

from sqlalchemy import event
from sqlalchemy.engine import Engine

from bench.batch import batch_body
from bench.intake import API_KEY, process_cpu_seconds
from bench.inprocess import scratch_client


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=3)
    parser.add_argument("--size", type=int, default=1000)
    parser.add_argument("--postgres-url", help="scratch PostgreSQL database (its schema public is dropped)")
    parser.add_argument("--cprofile", action="store_true")
    parser.add_argument("--pyinstrument", action="store_true")
    parser.add_argument("--sort", default="cumulative")
    parser.add_argument("--lines", type=int, default=70)
    parser.add_argument("--statements", action="store_true", help="list the statements by kind")
    parser.add_argument("--default-gc", action="store_true",
                        help="leave the garbage collector as CPython sets it (a served worker tunes it)")
    args = parser.parse_args()

    backends: set[int] = set()

    @event.listens_for(Engine, "connect")
    def _backend(dbapi_connection, record):  # type: ignore[no-untyped-def]
        pid = getattr(getattr(dbapi_connection, "info", None), "backend_pid", None)
        if pid is not None:
            backends.add(pid)

    with scratch_client(args.postgres_url, "csw-profile-batch-", default_gc=args.default_gc) as client:
        headers = {"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/xml",
                   "Accept": "application/json"}
        tag = f"Q{int(time.time()) % 100000}"
        statements: Counter[str] = Counter()
        counting = [False]

        @event.listens_for(Engine, "before_cursor_execute")
        def _count(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
            if counting[0]:
                statements[" ".join(statement.split()[:4])[:80]] += 1

        def post_all(bodies: list[bytes]) -> None:
            for body in bodies:
                answer = client.post("/api/v1/declaration-batches", data=body, headers=headers)
                payload = answer.get_json()
                if answer.status_code != 200 or payload["refused"]:
                    raise SystemExit(f"batch failed: {answer.status_code} {str(payload)[:800]}")

        post_all([batch_body(tag + "w", 100)])
        bodies = [batch_body(f"{tag}b{n}", args.size) for n in range(args.batches)]
        total = args.batches * args.size
        counting[0] = True
        started, cpu_started, server_started = time.perf_counter(), time.process_time(), server_cpu(backends)
        if args.cprofile:
            profiler = cProfile.Profile()
            profiler.runcall(post_all, bodies)
            pstats.Stats(profiler).sort_stats(args.sort).print_stats(args.lines)
        elif args.pyinstrument:
            from pyinstrument import Profiler

            with Profiler(interval=0.0005) as instrument:
                post_all(bodies)
            print(instrument.output_text(unicode=True, color=False))
        else:
            post_all(bodies)
        cpu = time.process_time() - cpu_started
        server_ended = server_cpu(backends)
        server: float | None = None
        if server_started:
            server = sum(server_ended[pid] - server_started[pid] for pid in server_ended.keys() & server_started)
        elapsed = time.perf_counter() - started
        counting[0] = False
        if args.statements:
            for text, count in statements.most_common(40):
                print(f"{count / total:8.2f}  {text}")
        print(f"{total} declarations in {args.batches} batches: {elapsed:.2f} s wall, "
              f"{cpu / total * 1000:.3f} ms of CPU and {sum(statements.values()) / total:.1f} statements "
              f"per declaration{'' if not (args.cprofile or args.pyinstrument) else ' (under the profiler)'}"
              + ("" if server is None else f"; the PostgreSQL server's backends {server / total * 1000:.3f} ms "
                 "of CPU per declaration"))


def server_cpu(backends: set[int]) -> dict[int, float]:
    """CPU seconds used so far by each PostgreSQL backend serving this process that is still
    running, read from /proc (a server on this machine, Linux). Why: the server's work shares
    the 2 cores with the workers, and how rows are sent changes it."""
    return {pid: used for pid in backends if (used := process_cpu_seconds(pid)) is not None}


if __name__ == "__main__":
    main()
