"""Profile the lodging path in one process: where the CPU of a declaration (or of road cargo
information, ``--cargo``) goes.

Why: the HTTP benchmark (``bench/intake.py``) says how fast the service is; this says why. It
migrates and seeds a scratch database (SQLite, or PostgreSQL with ``--postgres-url``), then posts
declarations with unique LRNs through the Flask test client under pyinstrument (or cProfile with
``--cprofile``) and prints the profile. SQL statements per declaration are counted
(``before_cursor_execute``; an executemany counts once). No timing is asserted anywhere.

    .venv/bin/python -m bench.profile_intake --count 500
    .venv/bin/python -m bench.profile_intake --count 500 --cargo     # POST /api/v1/cargo
"""
from __future__ import annotations

import argparse
import cProfile
import pstats
import re
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from flask import Flask

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine

from bench.intake import (
    API_KEY,
    CARGO_ENDPOINT,
    ENDPOINT,
    cargo_body,
    declaration_body,
    process_cpu_seconds,
)
from app.db import bulk
from bench.inprocess import scratch_client

LRN = re.compile(rb"(<FunctionalReferenceID>)[^<]*(</FunctionalReferenceID>)")


def bodies(count: int, tag: str, items: int = 5, cargo: bool = False) -> list[bytes]:
    """``count`` copies of the bench's ``items``-item declaration (or its cargo information),
    each with its own LRN."""
    template, _source = cargo_body() if cargo else declaration_body(items)
    return [LRN.sub(rb"\g<1>" + f"{tag}-{n}".encode() + rb"\g<2>", template, count=1) for n in range(count)]


def server_cpu(url: str | None) -> float | None:
    """CPU seconds the PostgreSQL backends serving ``url``'s database have used so far (read
    from /proc: the server is on this machine), or None for SQLite or another host. Why: a
    statement's cost is paid twice, by the client and by the server, and only the client's is
    in this process's CPU time."""
    if url is None:
        return None
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            pids = connection.execute(text(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND backend_type = 'client backend' AND pid <> pg_backend_pid()")).scalars().all()
    finally:
        engine.dispose()
    total = 0.0
    for pid in pids:
        used = process_cpu_seconds(pid)
        if used is None:
            return None
        total += used
    return total


_SPENT_LOCK = threading.Lock()


def _timed(fn: Callable[..., Any], label: str, spent: dict[str, float]) -> Callable[..., Any]:
    """``fn`` adding its calling thread's CPU time to ``spent[label]`` (so that with
    ``--threads`` a step's time is its own, not the other threads' meanwhile)."""
    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.thread_time()
        try:
            return fn(*args, **kwargs)
        finally:
            used = time.thread_time() - started
            with _SPENT_LOCK:
                spent[label] += used
    return timed


def time_stages(app: Flask, spent: dict[str, float]) -> None:
    """Add the CPU time of each step of a single post to ``spent``: the request as Flask
    serves it, the limiter with the API key look-up, reading the document, the rules, the
    risk score, storage with its handlers, the commit and the acknowledgement. Why: a
    profiler's overhead falls unevenly on many small Python calls; these are CPU times
    without one (``--stages``)."""
    from app.declarations import pipeline, service  # noqa: PLC0415 (the application is configured by now)
    from app.platform.uow import UnitOfWork  # noqa: PLC0415
    from app.web import api  # noqa: PLC0415

    app.wsgi_app = _timed(app.wsgi_app, "the whole request in Flask", spent)  # type: ignore[method-assign]
    hooks = app.before_request_funcs.setdefault(None, [])
    hooks[:] = [_timed(hook, "limiter and API key", spent) if "_check_request_limit" in getattr(hook, "__name__", "")
                else hook for hook in hooks]
    runtime = app.extensions["csw"]
    score_many = runtime.lodging.score_many
    runtime.lodging = replace(runtime.lodging, assess=_timed(runtime.lodging.assess, "  AEO, rules, charges", spent),
                              score=_timed(runtime.lodging.score, "  risk score", spent),
                              score_many=score_many and _timed(score_many, "  risk score", spent))
    api._request = _timed(api._request, "read the document (parse, schema, map)", spent)
    pipeline.lodge = _timed(pipeline.lodge, "pipeline.lodge (rules, risk, storage, handlers)", spent)
    pipeline._store_group = _timed(pipeline._store_group, "  a group's storage (with --threads; all of it)", spent)
    service.submit_many = _timed(service.submit_many, "    storing the group's declarations", spent)
    pipeline.drain = _timed(pipeline.drain, "    the handlers", spent)
    UnitOfWork.commit = _timed(UnitOfWork.commit, "commit", spent)  # type: ignore[method-assign]
    api._acknowledgement = _timed(api._acknowledgement, "acknowledgement", spent)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=500, help="declarations profiled (after 50 warm-up)")
    parser.add_argument("--items", type=int, choices=(5, 50, 999), default=5, help="goods items per declaration")
    parser.add_argument("--cargo", action="store_true",
                        help="road cargo information (POST /api/v1/cargo) instead of declarations")
    parser.add_argument("--postgres-url", help="scratch PostgreSQL database (its schema public is dropped)")
    parser.add_argument("--cprofile", action="store_true", help="cProfile instead of pyinstrument")
    parser.add_argument("--sort", default="cumulative", help="cProfile sort key (cumulative, tottime, ...)")
    parser.add_argument("--show-all", action="store_true", help="pyinstrument: show library frames too")
    parser.add_argument("--plain", action="store_true", help="no profiler: time per declaration only")
    parser.add_argument("--statements", action="store_true", help="list the statements by kind")
    parser.add_argument("--threads", type=int, default=1,
                        help="post from this many threads at once (each its own test client), as a served "
                             "worker's thread pool does; concurrent new declarations are stored together")
    parser.add_argument("--stages", action="store_true",
                        help="no profiler: CPU time per declaration of each step of a single post (each "
                             "thread's own CPU time, so it may be used with --threads)")
    parser.add_argument("--default-gc", action="store_true",
                        help="leave the garbage collector as CPython sets it (a served worker tunes it)")
    args = parser.parse_args()

    with scratch_client(args.postgres_url, "csw-profile-", default_gc=args.default_gc) as client:
        statements = [0]
        kinds: Counter[str] = Counter()
        counting = [False]

        @event.listens_for(Engine, "before_cursor_execute")
        def _count(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
            if counting[0]:
                statements[0] += 1
                kinds[" ".join(statement.split()[:6])[:100]] += 1

        held = [0, 0, 0]  # inserts held back (``hold_back_inserts``), the round trips and the statements that sent them
        send_held = bulk._send_held

        def _count_held(connection: Any, *, commit: bool) -> None:
            if counting[0]:
                waiting = bulk._HELD.get(connection) or []
                sent = bulk._together(waiting)
                held[0] += len(waiting)
                held[1] += 1
                held[2] += len(sent)
                statements[0] += len(sent)
                for insert in waiting:
                    kinds["(held back) " + " ".join(insert.text.split()[:6])[:100]] += 1
            send_held(connection, commit=commit)

        bulk._send_held = _count_held  # type: ignore[assignment]

        spent: defaultdict[str, float] = defaultdict(float)
        if args.stages and not args.cargo:
            time_stages(client.application, spent)
        headers = {"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/xml"}
        tag = f"P{int(time.time())}"
        endpoint = CARGO_ENDPOINT if args.cargo else ENDPOINT
        what = "cargo lodgements" if args.cargo else "declarations"

        def post_from(poster: object, batch: list[bytes], failures: list[str]) -> None:
            for body in batch:
                answer = poster.post(endpoint, data=body, headers=headers)  # type: ignore[attr-defined]
                if answer.status_code != 202:
                    failures.append(f"expected 202, got {answer.status_code}: {answer.data[:500]!r}")
                    return

        def post_all(batch: list[bytes]) -> None:
            failures: list[str] = []
            if args.threads == 1:
                post_from(client, batch, failures)
            else:
                threads = [threading.Thread(target=post_from, args=(client.application.test_client(),
                                                                    batch[n::args.threads], failures))
                           for n in range(args.threads)]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join()
            if failures:
                raise SystemExit(failures[0])

        post_all(bodies(min(50, args.count), tag + "w", args.items, args.cargo))
        batch = bodies(args.count, tag, args.items, args.cargo)
        counting[0] = True
        spent.clear()
        server_started = server_cpu(args.postgres_url)
        started, cpu_started = time.perf_counter(), time.process_time()
        if args.plain or args.stages:
            post_all(batch)
            elapsed = time.perf_counter() - started
        elif args.cprofile:
            profiler = cProfile.Profile(time.thread_time)  # CPU, not the waits for replies
            profiler.runcall(post_all, batch)
            elapsed = time.perf_counter() - started
            pstats.Stats(profiler).sort_stats(args.sort).print_stats(60)
        else:
            from pyinstrument import Profiler

            with Profiler(interval=0.0002) as profiler:
                post_all(batch)
            elapsed = time.perf_counter() - started
            print(profiler.output_text(unicode=True, color=False, show_all=args.show_all))
        cpu = time.process_time() - cpu_started
        server_ended = server_cpu(args.postgres_url)
        for label, seconds in spent.items():
            print(f"{seconds / args.count * 1000:8.3f} ms  {label}")
        if args.statements:
            for text, count in kinds.most_common(40):
                print(f"{count / args.count:8.2f}  {text}")
        print(f"{args.count} {what} in {elapsed:.2f} s{'' if args.plain or args.stages else ' under the profiler'}: "
              f"{elapsed / args.count * 1000:.2f} ms each, {cpu / args.count * 1000:.2f} ms of CPU, "
              f"{statements[0] / args.count:.1f} statements ({held[2] / args.count:.2f} of them carrying "
              f"{held[0] / args.count:.1f} inserts held back, sent together in {held[1] / args.count:.2f} round trips)"
              + (f", {(server_ended - server_started) / args.count * 1000:.2f} ms of the server's CPU"
                 if server_started is not None and server_ended is not None else ""))


if __name__ == "__main__":
    main()
