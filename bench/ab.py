"""Two full services that differ in their code or in their environment, measured in turns (A/B).

Why: this host's speed moves by a quarter within minutes, more than most changes to the intake
gain, so a change measured in one run and its baseline in another says little. Here both
services are served at once (gunicorn, two workers each, as ``csw serve`` runs them), each on its
own fresh database, and wrk posts the 5-item declaration to one and then the other, alternating
which goes first, so both meet the same host. Each turn prints the rate, the p99 and the CPU a
declaration (workers and the whole machine, from ``/proc``). It asserts nothing.

Service A runs the code of ``--tree-a`` (another checkout, say a ``git worktree`` of the
baseline; by default this one), B the code of this checkout; ``--env-a``/``--env-b`` set
environment variables of one of them (a setting, such as ``CSW_PIN_WORKERS=0``):

    git worktree add /tmp/baseline HEAD~1
    .venv/bin/python -m bench.ab --tree-a /tmp/baseline --backend postgresql \\
        --postgres-url postgresql+psycopg://postgres@127.0.0.1:5432/benchpg \\
        --postgres-url-b postgresql+psycopg://postgres@127.0.0.1:5432/benchpg_c
    .venv/bin/python -m bench.ab --env-a CSW_PIN_WORKERS=0 --turns 6

``--large-connections N`` mixes the traffic: while each turn posts the 5-item declaration, N
more connections post the 999-item one to the same service, and the turn prints the large
posts' rate and latency too (what a large declaration costs the small ones around it).
"""
from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

from app.config import PROJECT_ROOT
from bench.intake import (
    Case,
    CpuMark,
    Load,
    Server,
    WrkResult,
    declaration_body,
    gunicorn_server,
    require_wrk,
    seeded_service,
    wait_for_workers,
)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--tree-a", type=Path, default=PROJECT_ROOT,
                        help="the checkout whose code service A runs (default: this one)")
    parser.add_argument("--env-a", action="append", default=[], metavar="NAME=VALUE",
                        help="an environment variable of service A (repeatable)")
    parser.add_argument("--env-b", action="append", default=[], metavar="NAME=VALUE",
                        help="an environment variable of service B (repeatable)")
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--postgres-url", default=os.environ.get("CSW_BENCH_POSTGRES_URL", ""),
                        help="service A's scratch PostgreSQL database (its schema public is dropped)")
    parser.add_argument("--postgres-url-b", default=os.environ.get("CSW_BENCH_POSTGRES_URL_B", ""),
                        help="service B's scratch PostgreSQL database (another one)")
    parser.add_argument("--turns", type=int, default=4)
    parser.add_argument("--duration", type=int, default=8, help="seconds of each turn")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--large-connections", type=int, default=0,
                        help="connections posting the 999-item declaration during each turn (mixed traffic)")
    args = parser.parse_args(argv)
    if args.backend == "postgresql" and not (args.postgres_url and args.postgres_url_b
                                             and args.postgres_url != args.postgres_url_b):
        parser.error("postgresql needs two different scratch databases: --postgres-url and --postgres-url-b")
    if not all("=" in setting for setting in args.env_a + args.env_b):
        parser.error("--env-a and --env-b take NAME=VALUE")
    return args


def _described(tree: Path, settings: list[str]) -> str:
    code = "this checkout" if tree.resolve() == PROJECT_ROOT.resolve() else str(tree)
    return ", ".join([code, *settings])


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    load = Load(require_wrk(), args.duration, args.warmup, 2)
    trees = {"A": args.tree_a, "B": PROJECT_ROOT}
    settings = {"A": list(args.env_a), "B": list(args.env_b)}
    labels = {name: _described(trees[name], settings[name]) for name in ("A", "B")}
    urls = {"A": args.postgres_url, "B": args.postgres_url_b}
    with tempfile.TemporaryDirectory(prefix="csw-ab-") as temp, contextlib.ExitStack() as stack:
        work = Path(temp)
        body, source = declaration_body(5)
        body_file = work / "declaration-5.xml"
        body_file.write_bytes(body)
        case = Case("5", 5, body_file, source, args.connections)
        large: Case | None = None
        if args.large_connections:
            large_body, large_source = declaration_body(999)
            (work / "declaration-999.xml").write_bytes(large_body)
            large = Case("999", 999, work / "declaration-999.xml", large_source, args.large_connections)
        servers: dict[str, Server] = {}
        for name in ("A", "B"):
            _url, env = seeded_service(work / name, args.backend, urls[name], f"{name}: {labels[name]}")
            env.update(setting.split("=", 1) for setting in settings[name])
            server = stack.enter_context(gunicorn_server("app.wsgi:app", args.workers, env, work / name / "g.log",
                                                         trees[name]))
            wait_for_workers(server.pid, args.workers)
            load.warm(server.base, case, name)
            servers[name] = server
        rates: dict[str, list[float]] = {"A": [], "B": []}
        for turn in range(args.turns):
            for name in ("A", "B") if turn % 2 == 0 else ("B", "A"):
                server = servers[name]
                mark = CpuMark.now(server.pid)
                with _alongside(load, server, large, args.duration) as large_result:
                    result = load.post_once(server.base, case, args.duration, f"T{secrets.token_hex(3)}")
                cpu = mark.since(result.accepted + sum(r.accepted for r in large_result))
                rates[name].append(result.accepted_per_s)
                print(f"turn {turn + 1} {name} ({labels[name]}): {result.accepted_per_s:.1f}/s, "
                      f"p50 {result.p50_ms:.1f} ms, p99 {result.p99_ms:.1f} ms, {result.non_2xx} non-2xx"
                      + "".join(f"; 999 items {r.accepted_per_s:.1f}/s, p50 {r.p50_ms:.1f} ms, "
                                f"p99 {r.p99_ms:.1f} ms, {r.non_2xx} non-2xx" for r in large_result)
                      + (f"; {cpu.describe()}" if cpu else ""), flush=True)
        wins = sum(b > a for a, b in zip(rates["A"], rates["B"], strict=True))
        for name in ("A", "B"):
            print(f"{name} ({labels[name]}): {', '.join(f'{r:.0f}' for r in rates[name])}/s, "
                  f"mean {sum(rates[name]) / len(rates[name]):.1f}/s", flush=True)
        print(f"B answered more in {wins} of {args.turns} turns", flush=True)
    return 0


@contextlib.contextmanager
def _alongside(load: Load, server: Server, large: Case | None, seconds: int) -> Iterator[list[WrkResult]]:
    """While the block runs, ``large`` posted to ``server`` for ``seconds`` by a second wrk
    (nothing without it); the list holds its result once the block is done."""
    done: list[WrkResult] = []
    if large is None:
        yield done
        return
    thread = threading.Thread(target=lambda: done.append(
        load.post_once(server.base, large, seconds, f"L{secrets.token_hex(3)}")), daemon=True)
    thread.start()
    try:
        yield done
    finally:
        thread.join()


if __name__ == "__main__":
    raise SystemExit(main())
