"""p99 of the kiosk decision with 10,000 open trips carrying bundled cargo (target < 20 ms).

Why: at a land control point every truck's kiosk asks for its decision as it drives up; with a
day's open trips stored, the answer must still come at once. This fills a migrated database
with open trips (1 to 5 cargo references each, some selected by their lane), then times,
through the Flask test client and the API key of a control-point system:

- ``GET /api/v1/trips/{id}/decision`` (the kiosk's question, a fresh answer),
- the same with ``If-None-Match`` (the kiosk polling: 304 while nothing changed),
- an officer's release of selected cargo (``POST /api/v1/cargo/{ref}/control-decisions``), which
  re-decides the truck's trip in the same transaction.

    .venv/bin/python -m bench.kiosk [--trips 10000] [--requests 2000]
        [--backend sqlite|postgresql] [--database-url URL] [--write-results]

The database named by --database-url is emptied first (PostgreSQL: schema dropped).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import tempfile
import time
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

from sqlalchemy import create_engine, insert, text

from app import create_app
from app.config import Settings
from app.db import migrate, models
from app.db.cargo_models import CargoRecord
from app.db.routing_models import Trip, TripConsignment
from app.db.session import normalise_url
from app.domain.cargo import new_cargo_reference
from app.domain.trips import new_trip_reference
from app.users.clients import create_client, ensure_party
from bench.results import stamp, write_section

ADMIN_KEY = "csw_bench_kiosk_admin_key_000000000"
LANES = ("green",) * 8 + ("yellow", "red")
_PARTY = {"name": "Bench Shipper", "address": {"line": "1 Bench Road", "city": "Shenzhen", "country": "CN"}}


def _reset(url: str) -> None:
    engine = create_engine(normalise_url(url))
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def fill(url: str, trips: int, seed: int = 11) -> tuple[list[str], list[str]]:
    """``trips`` open trips with 1-5 cargo references each (a tenth of the cargo red or yellow);
    returns the trip ids and the selected cargo references."""
    rng = random.Random(seed)
    engine = create_engine(normalise_url(url))
    now = datetime.now(timezone.utc)
    trip_ids, selected = [], []
    with engine.begin() as connection:
        party = connection.execute(insert(models.Party).values(identifier="99999999", name="Bench Shipper",
                                                               created_at=now).returning(models.Party.id)).scalar()
        cargo_rows: list[dict[str, object]] = []
        trip_rows: list[dict[str, object]] = []
        link_rows: list[dict[str, object]] = []
        for number in range(trips):
            trip_id = new_trip_reference(now)
            count = rng.randint(1, 5)
            lanes = [rng.choice(LANES) for _ in range(count)]
            references = [new_cargo_reference(now) for _ in range(count)]
            chosen = [ref for ref, lane in zip(references, lanes) if lane != "green"]
            selected.extend(chosen)
            trip_ids.append(trip_id)
            trip_rows.append({
                "id": trip_id, "carrier_party_id": party, "vehicle_mark": f"BX{number % 9999 + 1}",
                "control_point": "HKLMC", "boundary": "shenzhen",
                "expected_crossing_at": now + timedelta(hours=rng.randint(1, 48)),
                "decision": "inspection" if chosen else "cleared", "selected": sorted(chosen) or None,
                "state_version": 2, "created_at": now, "updated_at": now})
            for ref, lane in zip(references, lanes):
                cargo_rows.append({
                    "id": ref, "submitter_party_id": party, "lrn": f"ECI-BENCH-{ref}", "status": "lodged",
                    "version": 1, "direction": "IM", "control_point": "HKLMC",
                    "expected_crossing_at": now + timedelta(hours=6), "consignor": _PARTY, "consignee": _PARTY,
                    "package_count": 10, "package_type": "CT", "marks": None, "goods_description": "bench goods",
                    "gross_mass_kg": Decimal("100.000"), "hs_code": None, "origin_country": "CN", "lane": lane,
                    "risk_score": 10, "findings": [], "control_decision": None, "moved_at": None,
                    "received_at": now, "updated_at": now})
                link_rows.append({"trip_id": trip_id, "declaration_id": None, "cargo_id": ref, "linked_at": now,
                                  "linked_by": "bench"})
            if len(trip_rows) >= 2000:
                _flush(connection, cargo_rows, trip_rows, link_rows)
        _flush(connection, cargo_rows, trip_rows, link_rows)
        connection.execute(text("ANALYZE"))
    engine.dispose()
    return trip_ids, selected


def _flush(connection, cargo: list, trips: list, links: list) -> None:  # type: ignore[no-untyped-def]
    if trips:
        connection.execute(insert(CargoRecord), cargo)
        connection.execute(insert(Trip), trips)
        connection.execute(insert(TripConsignment), links)
    cargo.clear()
    trips.clear()
    links.clear()


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    return {"p50": at(0.50), "p95": at(0.95), "p99": at(0.99), "mean": statistics.fmean(ordered) * 1000}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trips", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--database-url", default=None, help="the database to fill (emptied first)")
    parser.add_argument("--write-results", action="store_true", help="write the kiosk section of RESULTS.md")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="csw-bench-kiosk-"))
    url = args.database_url or (f"sqlite:///{workdir / 'kiosk.db'}" if args.backend == "sqlite" else os.environ.get(
        "CSW_BENCH_POSTGRES_URL", "postgresql+psycopg://127.0.0.1:5432/test"))
    backend = "postgresql" if normalise_url(url).startswith("postgresql") else "sqlite"
    _reset(url)
    migrate.upgrade(url)
    started = time.perf_counter()
    trip_ids, selected = fill(url, args.trips)
    print(f"filled {args.trips:,} open trips ({len(selected):,} selected cargo) in "
          f"{time.perf_counter() - started:.1f} s")

    app = create_app(Settings.from_env(database_url=url, instance_dir=workdir, secret_key="bench",
                                       log_level="WARNING", api_rate_limit="1000000 per second"))
    with app.extensions["csw"].sessions() as session, session.begin():
        create_client(session, "bench-control-point", ensure_party(session, "HKCED0001", "Customs and Excise"),
                      key=ADMIN_KEY, role="admin")
    client = app.test_client()
    auth = {"Authorization": f"Bearer {ADMIN_KEY}", "Accept": "application/json"}
    rng = random.Random(3)
    for trip_id in trip_ids[:50]:  # warm-up
        assert client.get(f"/api/v1/trips/{trip_id}/decision", headers=auth).status_code == 200

    fresh, revalidated, decided = [], [], []
    for _ in range(args.requests):
        trip_id = rng.choice(trip_ids)
        begun = time.perf_counter()
        answer = client.get(f"/api/v1/trips/{trip_id}/decision", headers=auth)
        fresh.append(time.perf_counter() - begun)
        assert answer.status_code == 200
        begun = time.perf_counter()
        again = client.get(f"/api/v1/trips/{trip_id}/decision",
                           headers={**auth, "If-None-Match": answer.headers["ETag"]})
        revalidated.append(time.perf_counter() - begun)
        assert again.status_code == 304
    for reference in rng.sample(selected, min(len(selected), max(1, args.requests // 10))):
        begun = time.perf_counter()
        answer = client.post(f"/api/v1/cargo/{reference}/control-decisions",
                             data=json.dumps({"decision": "release"}),
                             headers={**auth, "Content-Type": "application/json"})
        decided.append(time.perf_counter() - begun)
        assert answer.status_code == 200, answer.text

    rows = [("kiosk decision (200)", _percentiles(fresh)), ("kiosk revalidation (304)", _percentiles(revalidated)),
            ("officer releases selected cargo (trip re-decided)", _percentiles(decided))]
    lines = [f"## Kiosk decision ({backend})", "",
             f"{stamp()}; {args.trips:,} open trips, {len(fresh):,} kiosk requests, {len(decided):,} decisions, "
             "through the Flask test client (no HTTP server). Target: kiosk decision p99 < 20 ms.", "",
             "| request | p50 ms | p95 ms | p99 ms | mean ms |", "|---|---|---|---|---|"]
    lines += [f"| {name} | {p['p50']:.2f} | {p['p95']:.2f} | {p['p99']:.2f} | {p['mean']:.2f} |" for name, p in rows]
    print("\n".join(lines))
    if args.write_results:
        write_section(f"kiosk-{backend}", "\n".join(lines))
    p99 = rows[0][1]["p99"]
    print(f"kiosk decision p99 {p99:.2f} ms: {'PASS' if p99 < 20 else 'FAIL'} (target < 20 ms)")


if __name__ == "__main__":
    main()
