"""Benchmark e-lock telemetry intake: events per second through ``POST /api/v1/elock/events``
in batches of 500, on SQLite and PostgreSQL.

Why: the Single E-lock Scheme carries millions of shipments a year, each reporting its
position every few seconds to minutes; the target is at least 5,000 events/s on this 2-core
machine. The run is realistic rather than flattering: the real service under gunicorn; a
fresh database per backend, migrated and seeded; live journeys opened by real transhipment
declarations; every event a GPS position moving along its approved corridor (placed against
the corridor and the clearance points, run through the journey rules, stored); each sender
owns a share of the journeys and sends their events in time order, as a gateway would.
Afterwards every event sent must be stored and accepted.

    .venv/bin/python -m bench.telemetry [--journeys 100] [--events-per-journey 300]
        [--senders 4] [--workers N] [--format json|xml|both] [--backend sqlite|postgresql|both]
        [--write-results]
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import text

from app import create_app
from app.config import Settings
from app.domain.transit import ReadingKind
from app.users.clients import create_client, ensure_party
from app.transit import service as transit_service
from app.transit.network import network_for
from app.transit.replay import along
from app.transit.telemetry import GatewayEvent, to_json, to_xml
from bench.intake import (
    DEFAULT_POSTGRES_URL,
    PROJECT_ROOT,
    BenchError,
    Machine,
    _engine,
    gunicorn,
    migrate_and_seed,
    reset_postgres,
    service_env,
)
from bench.results import RESULTS, write_section

BATCH = 500
TARGET = 5_000
GATEWAY_KEY = "csw_bench_gateway_000000000000000"
TRADER_KEY = "csw_demo_trading_0000000000000000"
ROUTE = "HKG-LMC-SZX"


@dataclass
class Run:
    backend: str
    form: str
    events: int
    batches: int
    seconds: float
    stored: int
    accepted: int
    failures: int

    @property
    def per_s(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


def open_journeys(url: str, instance: Path, tag: str, count: int) -> list[str]:
    """``count`` e-locks registered and sealing journeys of fresh TS declarations; returns their ids."""
    settings = Settings.from_env(database_url=url, instance_dir=instance, log_level="WARNING",
                                 api_rate_limit="1000000 per second")
    app = create_app(settings)
    sessions = app.extensions["csw"].sessions
    network = network_for(settings.rules_dir)
    locks = [f"BL-{tag}-{n:05d}" for n in range(count)]
    now = datetime.now(timezone.utc)
    with sessions() as session, session.begin():
        for lock in locks:
            transit_service.register_elock(session, lock, network.suppliers[0], now, network,
                                           actor="system:bench")
        customs = ensure_party(session, "HKCED0001", "Customs and Excise Department")
        if session.execute(text("SELECT 1 FROM api_clients WHERE name = 'bench-gateway'")).first() is None:
            create_client(session, "bench-gateway", customs, key=GATEWAY_KEY, role="gateway")
    template = (PROJECT_ROOT / "samples" / "valid" / "transhipment-elock.xml").read_text()
    client = app.test_client()
    for n, lock in enumerate(locks):
        body = template.replace("DTC-TS-2026-000301", f"BENCH-{tag}-{n:05d}").replace("EL-000123", lock)
        answer = client.post("/api/v1/declarations", data=body.encode(), headers={
            "Authorization": f"Bearer {TRADER_KEY}", "Content-Type": "application/xml",
            "Accept": "application/json"})
        if answer.status_code != 202:
            raise BenchError(f"could not lodge the bench declaration for {lock}: {answer.get_json()}")
    app.extensions["csw"].engine.dispose()
    return locks


def traffic(locks: list[str], per_journey: int, tag: str) -> list[GatewayEvent]:
    """Each lock: a seal at the airport, then positions along the corridor every 20 s, in
    time order across locks (the gateway's interleaving)."""
    route = network_for(PROJECT_ROOT / "rules").routes[ROUTE]
    start = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(minutes=1)
    # positions over the first 90% of the route: the journeys stay live (no unseal)
    track = [along(route, 0.9 * n / per_journey) for n in range(per_journey)]
    events: list[GatewayEvent] = []
    for n in range(per_journey):
        lon, lat = track[n]
        kind = ReadingKind.SEAL if n == 0 else ReadingKind.POSITION
        at = start + timedelta(seconds=20 * n)
        events.extend(GatewayEvent(f"{tag}-{lock}-{n:05d}", lock, kind, at, lat, lon) for lock in locks)
    return events


def send(base: str, batches: list[bytes], content_type: str, failures: list[str]) -> int:
    """One sender: its batches in order over one keep-alive connection; returns events accepted."""
    host, port = base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=60)
    accepted = 0
    headers = {"Authorization": f"Bearer {GATEWAY_KEY}", "Content-Type": content_type, "Accept": "application/json"}
    try:
        for body in batches:
            connection.request("POST", "/api/v1/elock/events", body=body, headers=headers)
            answer = connection.getresponse()
            payload = answer.read()
            if answer.status != 200:
                failures.append(f"HTTP {answer.status}: {payload[:300]!r}")
                continue
            accepted += int(json.loads(payload)["accepted"])
    finally:
        connection.close()
    return accepted


def measure(backend: str, form: str, base: str, url: str, instance: Path, journeys: int, per_journey: int,
            senders: int) -> Run:
    tag = f"{form.upper()}{int(time.time()) % 100000}"
    locks = open_journeys(url, instance, tag, journeys)
    shares = [locks[i::senders] for i in range(senders)]
    encode = to_json if form == "json" else to_xml
    content_type = "application/json" if form == "json" else "application/xml"
    plans: list[list[bytes]] = []
    for share in shares:
        events = traffic(share, per_journey, tag)
        plans.append([encode(events[i:i + BATCH]) for i in range(0, len(events), BATCH)])
    total = sum(len(share) for share in shares) * per_journey
    failures: list[str] = []
    results = [0] * senders
    print(f"  [{backend}/{form}] {total} events in {sum(len(p) for p in plans)} batches of up to {BATCH}, "
          f"{senders} senders, {journeys} live journeys", flush=True)

    def work(index: int) -> None:
        results[index] = send(base, plans[index], content_type, failures)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(senders)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    engine = _engine(url)
    with engine.connect() as connection:
        stored = int(connection.execute(text("SELECT count(*) FROM elock_events WHERE event_id LIKE :p"),
                                        {"p": f"{tag}-%"}).scalar_one())
    engine.dispose()
    return Run(backend, form, total, sum(len(p) for p in plans), seconds, stored, sum(results), len(failures))


def bench_backend(backend: str, args: argparse.Namespace, work_dir: Path) -> list[Run]:
    instance = work_dir / backend
    instance.mkdir()
    if backend == "sqlite":
        url = f"sqlite:///{instance / 'csw.db'}"
    else:
        url = args.postgres_url
        reset_postgres(url)
    env = service_env(url, instance)
    env["CSW_API_RATE_LIMIT"] = "1000000 per second"
    Path(env["PROMETHEUS_MULTIPROC_DIR"]).mkdir(parents=True, exist_ok=True)  # the CLI's metrics need it too
    print(f"[{backend}] migrating and seeding a fresh database", flush=True)
    migrate_and_seed(env)
    forms = ["json", "xml"] if args.format == "both" else [args.format]
    runs = []
    with gunicorn("app.wsgi:app", args.workers, env, instance / "gunicorn.log") as base:
        print(f"[{backend}] gunicorn app.wsgi:app, {args.workers} workers at {base}", flush=True)
        for form in forms:
            runs.append(measure(backend, form, base, url, instance, args.journeys, args.events_per_journey,
                                args.senders))
    return runs


def report(machine: Machine, args: argparse.Namespace, runs: list[Run]) -> list[str]:
    lines = [
        f"- {machine.date}, revision {machine.revision}, {machine.cpus} CPU ({machine.cpu_model}), "
        f"Python {machine.python}, load average before {machine.load_average}",
        f"- gunicorn {args.workers} workers as `csw serve` runs them; {args.senders} senders, each owning its "
        f"journeys and sending their events in time order; {args.journeys} live journeys on route {ROUTE}, "
        f"{args.events_per_journey} events each (a seal, then GPS positions along the corridor)",
        "",
        "| backend | format | events | batches | seconds | events/s | stored | accepted | failed batches |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for run in runs:
        lines.append(f"| {run.backend} | {run.form} | {run.events:,} | {run.batches} | {run.seconds:.2f} | "
                     f"**{run.per_s:,.0f}** | {run.stored:,} | {run.accepted:,} | {run.failures} |")
    lines.append("")
    for run in runs:
        verdict = "meets" if run.per_s >= TARGET else "misses"
        lines.append(f"- {run.backend}/{run.form}: {run.per_s:,.0f} events/s {verdict} the target of "
                     f"{TARGET:,}/s; every event stored: {'yes' if run.stored == run.events else 'NO'}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--journeys", type=int, default=100)
    parser.add_argument("--events-per-journey", type=int, default=300)
    parser.add_argument("--senders", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1))
    parser.add_argument("--format", choices=["json", "xml", "both"], default="both")
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--postgres-url", default=os.environ.get("CSW_BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL),
                        help="scratch PostgreSQL database; its schema public is dropped")
    parser.add_argument("--write-results", action="store_true", help=f"write {RESULTS.name}")
    args = parser.parse_args(argv)
    if min(args.journeys, args.events_per_journey, args.senders, args.workers) < 1:
        parser.error("counts must be at least 1")
    machine = Machine.describe()
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    try:
        with tempfile.TemporaryDirectory(prefix="csw-bench-telemetry-") as temp:
            runs = [run for backend in backends for run in bench_backend(backend, args, Path(temp))]
    except BenchError as exc:
        print(f"bench/telemetry.py: {exc}", file=sys.stderr)
        return 2
    lines = report(machine, args, runs)
    print("\n".join(lines))
    if args.write_results:
        write_section("telemetry", "## E-lock telemetry intake (`bench/telemetry.py`)\n\n"
                      f"Target: at least {TARGET:,} events/s in batches of {BATCH} on each backend.\n\n"
                      + "\n".join(lines) + "\n")
        print(f"\nwrote {RESULTS.relative_to(PROJECT_ROOT)}")
    return 0 if all(run.stored == run.events and run.failures == 0 for run in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
