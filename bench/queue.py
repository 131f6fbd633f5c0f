"""p95 time of an officers' queue page with 100,000 open cases (target < 150 ms).

Why: the queue is the page officers load most; with a backlog it must still answer at once.
This fills a migrated database with open cases (spread over lanes, control points, types,
alert kinds, officers and priorities), signs an officer in, and times whole queue pages
(query + template) through the Flask test client: the first page, deep pages, each filter
and "assigned to me". It also prints the database's plan for the first page.

    .venv/bin/python -m bench.queue [--cases 100000] [--requests 200]
        [--backend sqlite|postgresql] [--database-url URL]   # default: a temporary SQLite file

The database named by --database-url is emptied first (PostgreSQL: schema dropped).
"""
from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import tempfile
import time
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

from sqlalchemy import create_engine, insert, text

from app import create_app
from app.config import Settings
from app.db import migrate
from app.db.case_models import Case, User
from app.db.session import normalise_url
from app.domain.cases import PriorityInputs, priority
from app.users.service import hash_password
from bench.results import stamp, write_section

PASSWORD = "bench-officer-password"
LANES = ("yellow", "red")
CONTROL_POINTS = ("HKLMC", "HKSWC", "HKHZM", "HKMKT", "HKKTC", "HKCKC")
TYPES = ("IM", "EX", "TS")
ALERTS = ("tamper", "route_deviation", "overdue", "signal_lost")
PATHS = ("/officer/", "/officer/?page=2", "/officer/?page=20", "/officer/?lane=red", "/officer/?lane=yellow&page=3",
         "/officer/?control_point=HKSWC", "/officer/?type=TS", "/officer/?alert_kind=tamper", "/officer/?mine=1",
         "/officer/?state=open&lane=red")


def _reset(url: str) -> None:
    engine = create_engine(normalise_url(url))
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def fill(url: str, count: int, seed: int = 7) -> None:
    """``count`` active cases (20% claimed by one of 50 officers), in batches of 5,000."""
    rng = random.Random(seed)
    engine = create_engine(normalise_url(url))
    now = datetime.now(timezone.utc)
    hashed = hash_password(PASSWORD)
    with engine.begin() as connection:
        connection.execute(insert(User), [
            {"username": f"officer{n}", "display_name": f"Officer {n}", "role": "officer", "password_hash": hashed,
             "locale": "en", "active": True, "created_at": now} for n in range(50)])
        batch: list[dict[str, object]] = []
        for number in range(count):
            risk = rng.randint(0, 100)
            revenue = Decimal(rng.choice((0, 500, 5_000, 50_000, 500_000)))
            aeo = rng.choice((0, 0, 0, 1, 2))
            deadline = now + timedelta(hours=rng.randint(-2, 72)) if rng.random() < 0.5 else None
            opened = now - timedelta(minutes=rng.randint(0, 60 * 24 * 10))
            is_alert = rng.random() < 0.1
            claimed = rng.random() < 0.2
            batch.append({
                "declaration_id": None, "journey_id": f"TJ26{number:010X}" if is_alert else None,
                "alert_id": number if is_alert else None, "state": "claimed" if claimed else "open", "active": True,
                "source": "alert" if is_alert else "declaration", "lane": rng.choice(LANES),
                "control_point": rng.choice(CONTROL_POINTS), "type_code": rng.choice(TYPES),
                "alert_kind": rng.choice(ALERTS) if is_alert else None, "selection": "targeted",
                "risk_score": risk, "revenue_at_stake": revenue, "aeo_priority": aeo, "deadline_at": deadline,
                "priority": priority(PriorityInputs(risk, revenue, aeo, deadline), now), "escalation_level": 0,
                "reasons": [{"source": "lane", "code": "red", "message": "bench"}],
                "assigned_to_id": rng.randint(1, 50) if claimed else None, "claimed_at": now if claimed else None,
                "opened_at": opened, "updated_at": opened,
            })
            if len(batch) == 5000:
                connection.execute(insert(Case), batch)
                batch.clear()
        if batch:
            connection.execute(insert(Case), batch)
        if engine.dialect.name == "postgresql":
            connection.execute(text("ANALYZE cases"))
        else:
            connection.execute(text("ANALYZE"))
    engine.dispose()


def plan(url: str) -> str:
    engine = create_engine(normalise_url(url))
    query = ("SELECT id FROM cases WHERE active = true ORDER BY priority DESC, opened_at, id LIMIT 51 OFFSET 0")
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            rows = connection.execute(text("EXPLAIN " + query)).all()
            return "\n".join(row[0] for row in rows)
        rows = connection.execute(text("EXPLAIN QUERY PLAN " + query.replace("true", "1"))).all()
        return "\n".join(str(row[-1]) for row in rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite",
                        help="sqlite: a temporary file; postgresql: --database-url or CSW_BENCH_POSTGRES_URL")
    parser.add_argument("--database-url", default=None, help="the database to fill (emptied first)")
    parser.add_argument("--write-results", action="store_true", help="write the queue section of RESULTS.md")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="csw-bench-queue-"))
    url = args.database_url or (f"sqlite:///{workdir / 'queue.db'}" if args.backend == "sqlite" else os.environ.get(
        "CSW_BENCH_POSTGRES_URL", "postgresql+psycopg://127.0.0.1:5432/test"))
    backend = "postgresql" if normalise_url(url).startswith("postgresql") else "sqlite"
    _reset(url)
    migrate.upgrade(url)
    started = time.perf_counter()
    fill(url, args.cases)
    print(f"filled {args.cases:,} active cases in {time.perf_counter() - started:.1f} s ({url.split('@')[-1]})")
    print("plan of the first page:\n  " + plan(url).replace("\n", "\n  "))

    app = create_app(Settings.from_env(database_url=url, instance_dir=workdir, secret_key="bench",
                                       log_level="WARNING"))
    client = app.test_client()
    login = client.get("/login")
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', login.text)
    assert token is not None
    signed_in = client.post("/login", data={"username": "officer1", "password": PASSWORD,
                                            "csrf_token": token.group(1)})
    assert signed_in.status_code == 302, signed_in.status_code
    for path in PATHS:  # warm-up: templates compiled, connections open
        assert client.get(path).status_code == 200, path

    timings: dict[str, list[float]] = {path: [] for path in PATHS}
    for number in range(args.requests):
        path = PATHS[number % len(PATHS)]
        begun = time.perf_counter()
        response = client.get(path)
        timings[path].append(time.perf_counter() - begun)
        assert response.status_code == 200
    every = sorted(t for values in timings.values() for t in values)
    p95 = every[int(len(every) * 0.95) - 1]
    lines = [f"- {args.cases:,} active cases, {len(every)} page loads over {len(PATHS)} queue views, "
             f"{'PostgreSQL' if url.startswith('postgresql') else 'SQLite'}",
             f"- queue page (query + HTML): median {statistics.median(every) * 1000:.1f} ms, "
             f"**p95 {p95 * 1000:.1f} ms** (target < 150 ms)"]
    for path, values in timings.items():
        lines.append(f"  - `{path}`: median {statistics.median(values) * 1000:.1f} ms, max {max(values) * 1000:.1f} ms")
    print("\n".join(lines))
    if args.write_results:
        write_section("queue" if backend == "sqlite" else f"queue-{backend}",
                      f"## Officers' queue page on {backend} (`bench/queue.py`)\n\n"
                      f"- {stamp()}, Flask test client, one process\n" + "\n".join(lines))


if __name__ == "__main__":
    main()
