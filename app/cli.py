"""The ``csw`` command: database, seed data, server, offline validation, API clients."""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import sys
import threading
from datetime import datetime, timedelta
from pathlib import Path

import click
from sqlalchemy import select

from app.aeo.cli import aeo
from app.bootstrap import Runtime, build, install_handlers
from app.cargo import manifest_rules, offline
from app.cargo import manifests as manifest_service
from app.cargo import service as cargo_service
from app.cargo import rules as cargo_rules
from app.declarations.cli import declarations, lodge_documents
from app.declarations.pipeline import LodgingTools
from app.domain.actors import Caller
from app.platform.clock import utcnow
from app.platform.uow import UnitOfWork
from app.revenue.cli import revenue
from app.risk.cli import risk
from app.routing.cli import dispatch, outbox, subscribers
from app.trips import service as trips_service
from app.transit.cli import transit
from app.transit.network import network_for
from app.transit.service import seed_demo_fleet
from app.audit.cli import audit
from app.users.cli import seed_demo_traders, seed_demo_users, users
from app.aeo.service import import_operators, read_csv_rows
from app.config import PROJECT_ROOT, Settings
from app.db import migrate, models
from app.platform.commands import database as command_database
from app.platform.commands import reading as command_reading
from app.platform.commands import transaction as command_transaction
from app.documents import error_payload, to_xml
from app.domain.problems import Rejection
from app.intake.service import Intake
from app.intake.wco import WcoCancellation
from app.domain.declaration import ReceivedDeclaration
from app.jobs import JOBS, run_job, start_scheduler
from app.logs import configure_logging
from app.rules.assessment import RuleSet, assess
from app.domain.time import HONG_KONG, hong_kong_date
from app.domain.problems import RulesDataError
from app.rules.versions import history, record_activation
from app.users.clients import ROLES, create_client, ensure_party, hash_key, revoke_client

DEMO_PARTIES = [
    ("12345678", "Demo Trading Company Limited"),
    ("87654321", "Harbour Logistics Limited"),
    ("HKCED0001", "Customs and Excise Department"),
]
DEMO_CLIENTS = [
    ("demo-trading-tms", "12345678", "trader", "csw_demo_trading_0000000000000000"),
    ("demo-harbour-tms", "87654321", "trader", "csw_demo_harbour_000000000000000"),
    ("demo-harbour-carrier", "87654321", "carrier", "csw_demo_carrier_0000000000000000"),
    ("demo-partner-customs", "HKCED0001", "partner", "csw_demo_partner_000000000000000"),
    ("demo-customs-admin", "HKCED0001", "admin", "csw_demo_admin_00000000000000000"),
]
DEMO_AEO_REGISTRY = PROJECT_ROOT / "samples" / "aeo" / "operators.csv"
# The road flow: cargo of the demo trader and the import declaration naming its cargo reference.
DEMO_ROAD_CARGO = PROJECT_ROOT / "samples" / "cargo" / "road-electronics.xml"
DEMO_ROAD_DECLARATION = PROJECT_ROOT / "samples" / "cargo" / "road-electronics-declaration.xml"
# Declarations that need an officer (watchlisted importer, roundabout route, an AEO claim the
# registry does not confirm), lodged by the harbour client so the officers' queue has work.
DEMO_DECLARATIONS = PROJECT_ROOT / "samples" / "demo"
# Sea and air manifests of the harbour's carrier client, due to arrive the day after seeding.
DEMO_MANIFESTS = (PROJECT_ROOT / "samples" / "manifest" / "sea-arrival.xml",
                  PROJECT_ROOT / "samples" / "manifest" / "air-arrival.xml")



class LazyRuntime:
    """The process's wiring, built on first use: ``csw db upgrade`` needs none of it."""

    def __init__(self) -> None:
        self._runtime: Runtime | None = None

    def get(self) -> Runtime:
        if self._runtime is None:
            self._runtime = build(Settings.from_env())
        return self._runtime

    @property
    def lodging(self) -> LodgingTools:
        return self.get().lodging

    def unit_of_work(self) -> UnitOfWork:
        return self.get().unit_of_work()

    def client_caller(self, name: str) -> Caller | None:
        return self.get().client_caller(name)


@click.group()
@click.pass_context
def main(ctx: click.Context) -> None:
    """Customs Single Window."""
    if ctx.invoked_subcommand not in (None, "db", "serve", "validate", "rules"):
        settings = Settings.from_env()
        try:
            install_handlers(settings)  # a command's changes reach every capability
        except RulesDataError as exc:
            raise click.ClickException(f"the rules in {settings.rules_dir} cannot be used: {exc}") from None
    ctx.obj = LazyRuntime()


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Apply the Alembic migrations."""
    settings = Settings.from_env()
    migrate.upgrade(settings.database_url, revision)
    click.echo(f"database at {revision}: {settings.database_url.split('@')[-1]}")


@main.command()
def seed() -> None:
    """Load reference data and demo accounts (idempotent): demo parties and API clients, and
    the demo AEO registry (samples/aeo/operators.csv)."""
    settings = Settings.from_env()
    rule_set = _rule_set(settings)
    today = hong_kong_date(utcnow())
    with command_transaction(settings) as session:
        parties = {identifier: ensure_party(session, identifier, name) for identifier, name in DEMO_PARTIES}
        for name, party_identifier, role, key in DEMO_CLIENTS:
            exists = session.scalar(select(models.ApiClient).where(models.ApiClient.key_hash == hash_key(key)))
            if exists is None:
                create_client(session, name, parties[party_identifier], key=key, role=role)
            click.echo(f"demo {role} API client {name} (party {party_identifier}): {key}")
        rows = read_csv_rows(DEMO_AEO_REGISTRY.read_text(encoding="utf-8").splitlines(keepends=True))
        report = import_operators(session, rows, "seed", today, rule_set.mra)
        click.echo(f"demo AEO registry: {len(report.created)} created, {len(report.updated)} updated, "
                   f"{len(report.unchanged)} unchanged, {len(report.rejected)} rejected")
        for line in seed_demo_users(session):
            click.echo(line)
        for line in seed_demo_traders(session):
            click.echo(line)
        seed_demo_fleet(session, utcnow(), network_for(settings.rules_dir))
        click.echo("demo e-lock fleet: companies 40617295, 12345678; vehicles XY1234, KT88, LM2468; "
                   "e-locks EL-000001..3, EL-000123..5")
    for line in _lodge_demo_declarations(settings):
        click.echo(line)
    for line in _lodge_demo_manifests(settings):
        click.echo(line)
    for line in _lodge_demo_road_cargo(settings):
        click.echo(line)


def _lodge_demo_declarations(settings: Settings) -> list[str]:
    """Lodge the demo declarations through the one intake pipeline, as the harbour's system
    would. A re-seed re-sends identical documents, which are answered as replays: nothing is
    lodged twice."""
    runtime = build(settings)
    try:
        caller = runtime.client_caller("demo-harbour-tms")
        assert caller is not None, "the demo clients are created first"
        lodged = lodge_documents(runtime, caller, ((path.name, path.read_bytes())
                                                   for path in sorted(DEMO_DECLARATIONS.glob("*.xml"))))
    finally:
        runtime.engine.dispose()
    return [f"demo declaration {result.line()}" for result in lodged]


def _lodge_demo_manifests(settings: Settings) -> list[str]:
    """Lodge the demo manifests as the harbour's carrier system would, scheduled to arrive
    tomorrow. A re-seed the same day replays them; on a later day their LRNs are taken and
    they are left as they are."""
    runtime = build(settings)
    lines = []
    try:
        caller = runtime.client_caller("demo-harbour-carrier")
        assert caller is not None, "the demo clients are created first"
        arrival = (utcnow() + timedelta(days=1)).astimezone(HONG_KONG).replace(hour=9, minute=0, second=0,
                                                                                microsecond=0)
        for path in DEMO_MANIFESTS:
            body = re.sub(rb"<ScheduledDateTime>[^<]*<", f"<ScheduledDateTime>{arrival.isoformat()}<".encode(),
                          path.read_bytes())
            body = re.sub(rb"<FlightDate>[^<]*<", f"<FlightDate>{arrival.date().isoformat()}<".encode(), body)
            try:
                with runtime.unit_of_work() as uow:
                    outcome = manifest_service.lodge(uow, runtime.manifests, body, caller, None)
                    uow.commit()
            except Rejection as rejection:
                lines.append(f"demo manifest {path.name}: {rejection.code} {rejection.message}")
            else:
                lines.append(f"demo manifest {path.name}: {outcome.record.id} {outcome.record.decision}"
                             f"{' (replay)' if outcome.replay else ''}")
    finally:
        runtime.engine.dispose()
    return lines


def _lodge_demo_road_cargo(settings: Settings) -> list[str]:
    """The road flow once, so the portal shows a written-off line: the demo trader's cargo
    (expected in two hours), bundled by the harbour's carrier to truck XY1234, its crossing
    recorded by customs, and the trader's declaration naming its cargo reference. A re-seed
    finds the cargo's LRN taken and leaves everything as it is."""
    runtime = build(settings)
    try:
        trader, carrier = runtime.client_caller("demo-trading-tms"), runtime.client_caller("demo-harbour-carrier")
        customs = runtime.client_caller("demo-customs-admin")
        assert trader and carrier and customs, "the demo clients are created first"
        expected = (utcnow() + timedelta(hours=2)).astimezone(HONG_KONG).replace(second=0, microsecond=0)
        body = re.sub(rb"<ExpectedCrossingDateTime>[^<]*<",
                      f"<ExpectedCrossingDateTime>{expected.isoformat()}<".encode(), DEMO_ROAD_CARGO.read_bytes())
        try:
            with runtime.unit_of_work() as uow:
                cargo = cargo_service.lodge(uow, runtime.cargo, body, trader, None)
                uow.commit()
        except Rejection as rejection:
            return [f"demo road cargo: {rejection.code} {rejection.message}"]
        if cargo.replay:
            return [f"demo road cargo: {cargo.record.id} (replay)"]
        reference = cargo.record.id
        rules = runtime.reference.routing_rules
        with runtime.unit_of_work().write_lock() as uow:
            trip = trips_service.open_trip(uow.session, carrier, "XY1234", cargo.record.control_point, expected,
                                           rules=rules)
            trips_service.link(uow.session, trip.id, [reference], carrier, rules=rules)
            trip_id, decision = trip.id, trip.decision
            uow.commit()
        if decision != "cleared":  # the lane drew a check: the demo officer found nothing
            with runtime.unit_of_work().write_lock() as uow:
                cargo_service.decide(uow.session, reference, "release", "demo: checked, as lodged", customs, None)
                uow.commit()
        with runtime.unit_of_work().write_lock() as uow:
            trips_service.record_crossing(uow.session, trip_id, customs)
            uow.commit()
        declaration = DEMO_ROAD_DECLARATION.read_bytes().replace(b"HK26C0000000001", reference.encode())
        lodged = lodge_documents(runtime, trader, [(DEMO_ROAD_DECLARATION.name, declaration)])
    except Rejection as rejection:
        return [f"demo road flow: {rejection.code} {rejection.message}"]
    finally:
        runtime.engine.dispose()
    return [f"demo road cargo {reference} on trip {trip_id} (truck XY1234), crossed",
            *(f"demo road declaration {result.line()}" for result in lodged)]


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int)
@click.option("--threads", default=8, show_default=True, type=int, help="application threads per worker")
def serve(host: str, port: int, workers: int, threads: int) -> None:
    """Serve the application with gunicorn (after checking rules/, so a bad edit is reported
    plainly instead of as a worker that fails to boot): asyncio workers that read whole
    requests before a thread runs the application (app/serving)."""
    settings = Settings.from_env()
    _record_rules_in_force(settings, "csw serve")
    metrics_dir = Path(os.environ.get("PROMETHEUS_MULTIPROC_DIR", settings.instance_dir / "prometheus"))
    shutil.rmtree(metrics_dir, ignore_errors=True)
    metrics_dir.mkdir(parents=True, exist_ok=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    gunicorn = Path(sys.executable).with_name("gunicorn")
    args = [str(gunicorn), "--bind", f"{host}:{port}", "--workers", str(workers), "--threads", str(threads),
            "--worker-class", "app.serving.worker.Worker", "--access-logfile", "-", "--timeout", "30",
            "--config", "python:app.gunicorn_conf", "app.wsgi:app"]
    os.execv(args[0], args)


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print error reports as JSON instead of XML.")
def validate(files: tuple[Path, ...], as_json: bool) -> None:
    """Check declaration, cargo and manifest files offline, with the API's error report: the
    schema, and for cargo and manifests their rules as of a day before the movement they name."""
    settings = Settings.from_env()
    intake = Intake(settings.schema_dir, settings.max_error_count)
    rule_set = _rule_set(settings)
    try:
        cargo, manifests = cargo_rules.load_rules(settings.rules_dir), manifest_rules.load_rules(settings.rules_dir)
    except RulesDataError as exc:
        raise click.ClickException(f"the rules in {settings.rules_dir} cannot be used: {exc}") from None
    failed = 0
    for path in files:
        body = path.read_bytes()
        try:
            kind = offline.kind_of(body)
            received: ReceivedDeclaration | WcoCancellation | None = None
            if kind is None:
                received = intake.receive_document(body)
            else:
                for finding in offline.check(intake, kind, body, cargo, manifests, rule_set.code_lists):
                    click.echo(f"{path}: {finding.code} {finding.severity.value} {finding.path}: {finding.message_en}")
        except Rejection as rejection:
            failed += 1
            payload = error_payload(rejection, None)
            click.echo(f"{path}: INVALID")
            if as_json:
                click.echo(json.dumps(payload, indent=2, default=str))
            else:
                click.echo(to_xml("ErrorResponse", payload).decode())
        else:
            click.echo(_validated(path, received))
    sys.exit(1 if failed else 0)


def _validated(path: Path, received: ReceivedDeclaration | WcoCancellation | None) -> str:
    """``valid``, with what intake made of a WCO document (each element it did not read, each
    national code it read as CSW's: the info findings R951-R954 lodging would give). ``None``:
    cargo or a manifest, whose findings are already printed."""
    if received is None:
        return f"{path}: valid"
    if isinstance(received, WcoCancellation):
        return f"{path}: valid (WCO cancellation of declaration {received.reference})"
    particulars = received.declaration.particulars
    if particulars is None:
        return f"{path}: valid"
    lines = [f"{path}: valid ({received.namespace}, read as {received.declaration.type.value})"]
    lines.extend(f"  {note.kind} {note.path} {' '.join(f'{k}={v}' for k, v in note.values)}".rstrip()
                 for note in particulars.notes)
    return "\n".join(lines)


@main.group()
def clients() -> None:
    """API clients (logistics systems) and their keys."""


@clients.command("create")
@click.option("--name", required=True)
@click.option("--party", "party_identifier", required=True, help="HK BR number of the party it lodges for")
@click.option("--party-name", default=None, help="Name for the party if it is new")
@click.option("--role", type=click.Choice(ROLES), default="trader", show_default=True,
              help="trader: lodges for its party; partner: looks up AEO status; admin: also changes it")
def clients_create(name: str, party_identifier: str, party_name: str | None, role: str) -> None:
    """Create a client; its key is printed once, alone on the last line."""
    settings = Settings.from_env()
    with command_transaction(settings) as session:
        party = ensure_party(session, party_identifier, party_name or party_identifier)
        client, key = create_client(session, name, party, role=role)
        client_id = client.id
    click.echo(f"{role} client {client_id} '{name}' for party {party_identifier}; the key is shown once:")
    click.echo(key)


@clients.command("list")
def clients_list() -> None:
    settings = Settings.from_env()
    with command_reading(settings) as session:
        for client in session.scalars(select(models.ApiClient).order_by(models.ApiClient.id)):
            state = f"revoked {client.revoked_at:%Y-%m-%d}" if client.revoked_at else "active"
            click.echo(f"{client.id}\t{client.name}\t{client.role}\t{client.party.identifier}\t"
                       f"{client.key_prefix}...\t{state}")


@clients.command("revoke")
@click.argument("client_id", type=int)
def clients_revoke(client_id: int) -> None:
    settings = Settings.from_env()
    with command_transaction(settings) as session:
        client = revoke_client(session, client_id)
        if client is None:
            raise click.ClickException(f"no client {client_id}")
    click.echo(f"client {client_id} revoked")


@main.group()
def rules() -> None:
    """Business rules (rules/packs), code lists and rate tables."""


def _rule_set(settings: Settings) -> RuleSet:
    """The rules/ folder, or a one-line error naming the file, line and reason."""
    try:
        return RuleSet.load(settings.rules_dir)
    except RulesDataError as exc:
        raise click.ClickException(f"the rules in {settings.rules_dir} cannot be used: {exc}") from None


def _record_rules_in_force(settings: Settings, actor: str) -> None:
    """A server starting on changed rules leaves an event saying so (audited like any event)."""
    rule_set = _rule_set(settings)
    with command_transaction(settings) as session:
        event = record_activation(session, rule_set, actor, utcnow())
    if event is not None:
        click.echo(f"rules version {rule_set.version} now in force (was {event.previous_version or 'none'})")


@rules.command("history")
def rules_history() -> None:
    """When each rules version came into force, and who started it."""
    settings = Settings.from_env()
    with command_reading(settings) as session:
        for event in history(session):
            click.echo(f"{event.occurred_at.isoformat()}\t{event.version}\t{event.rule_count} rules\t{event.actor}")


@rules.command("list")
def rules_list() -> None:
    """Every rule with its severity, declaration types and dates."""
    rule_set = _rule_set(Settings.from_env())
    click.echo(f"rules version {rule_set.version}")
    for rule in rule_set.rules:
        until = rule.effective_until.isoformat() if rule.effective_until else "open"
        click.echo(f"{rule.code}\t{rule.severity.value:6}\t{' '.join(sorted(rule.applies_to)):8}\t"
                   f"{rule.effective_from}..{until}\t{rule.title_en} / {rule.title_zh}")


@rules.command("check")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
def rules_check(files: tuple[Path, ...]) -> None:
    """Schema + business rules + charges offline; exit 1 if any file is refused."""
    settings = Settings.from_env()
    intake = Intake(settings.schema_dir, settings.max_error_count)
    rule_set = _rule_set(settings)
    refused = 0
    for path in files:
        try:
            received = intake.receive_declaration(path.read_bytes())
        except Rejection as rejection:
            refused += 1
            click.echo(f"{path}: {rejection.code}: {rejection.message}")
            for problem in rejection.problems:
                click.echo(f"  line {problem.line or '-'} {problem.path or ''}: {problem.message}")
            continue
        assessed = assess(rule_set, received.declaration, utcnow())
        refused += assessed.rejected
        click.echo(f"{path}: {'REFUSED' if assessed.rejected else 'accepted'} "
                   f"({len(assessed.findings)} finding(s), rules {rule_set.version[:12]})")
        for finding in assessed.findings:
            click.echo(f"  {finding.code} {finding.severity.value:6} {finding.path or '-'}: {finding.message_en}")
        charges = assessed.charges
        click.echo(f"  charges: HK${charges.total:.2f} (declaration charge {charges.declaration_charge:.2f}, "
                   f"levy {charges.clothing_levy:.2f}, duty {charges.duty_total:.2f})")
    sys.exit(1 if refused else 0)


@main.command()
def scheduler() -> None:
    """Run the scheduled jobs (and a dispatcher) in this process until stopped: the scale-out
    set-up's scheduler, beside ``csw serve`` instances started with CSW_SCHEDULER=0. Two may run
    for availability: each job still runs once per period."""
    settings = Settings.from_env()
    configure_logging(settings.log_level)
    install_handlers(settings)
    running = start_scheduler(command_database(settings), settings)
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda _signal, _frame: stopping.set())
    signal.signal(signal.SIGINT, lambda _signal, _frame: stopping.set())
    click.echo(f"scheduler started: {', '.join(job.id for job in running.get_jobs())}")
    try:
        stopping.wait()
    finally:
        running.shutdown(wait=True)


@main.group()
def jobs() -> None:
    """Scheduled jobs (they also run daily under csw serve)."""


@jobs.command("run")
@click.argument("job", type=click.Choice(sorted(JOBS)))
@click.option("--day", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Run as of this day (Hong Kong date); default today")
def jobs_run(job: str, day: datetime | None) -> None:
    """Run a job now and print what it did."""
    run = run_job(command_database(Settings.from_env()), job, JOBS[job], day.date() if day else None)
    if run is None:
        raise click.ClickException(f"{job} is running elsewhere")
    click.echo(f"{job}: {run.outcome} {json.dumps(run.detail, ensure_ascii=False)}")
    if run.outcome != "ok":
        sys.exit(1)


main.add_command(aeo)
main.add_command(dispatch)
main.add_command(subscribers)
main.add_command(outbox)
main.add_command(transit)
main.add_command(audit)
main.add_command(users)
main.add_command(risk)
main.add_command(declarations)
main.add_command(revenue)
