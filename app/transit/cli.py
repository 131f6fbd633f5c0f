"""``csw transit``: register companies, vehicles and e-locks and show their history; list
journeys and alerts; check the route network; post a telemetry file. Registered on the main
group with ``main.add_command(transit)`` (app/cli.py). Each command commits its one
transaction; registrations are recorded with the actor ``cli:<os user>``."""
from __future__ import annotations

import getpass
import sys
from datetime import datetime
from pathlib import Path

import click

from app.config import Settings
from app.platform.clock import utcnow
from app.platform.commands import reading as command_reading
from app.platform.commands import transaction as command_transaction
from app.domain.problems import Rejection
from app.platform.schemas import DocumentChecker
from app.domain.problems import RulesDataError
from app.domain.actors import Caller
from app.transit import service, telemetry
from app.transit.network import load_network, network_for



def _when(moment: datetime) -> str:
    """UTC, to the second."""
    return moment.isoformat(timespec="seconds")


def _actor() -> str:
    """Who ran the command, for the registry history."""
    return f"cli:{getpass.getuser()}"


def _fail(rejection: Rejection) -> None:
    click.echo(f"refused: {rejection.message}", err=True)
    for problem in rejection.problems:
        click.echo(f"  {problem.path or '-'}: {problem.message} [{problem.rule}]", err=True)
    sys.exit(1)


@click.group()
def transit() -> None:
    """Single E-lock Scheme: registrations, journeys, routes."""


@transit.command("register-company")
@click.option("--br", "br_number", required=True, help="8-digit BR number (as in ROCARS)")
@click.option("--name", required=True)
@click.option("--mode", type=click.Choice(service.MODES), required=True)
@click.option("--note", default=None, help="Why (kept on the company's history).")
def register_company(br_number: str, name: str, mode: str, note: str | None) -> None:
    settings = Settings.from_env()
    with command_transaction(settings) as session:
        try:
            company = service.register_company(session, br_number, name, mode, utcnow(), actor=_actor(), note=note)
        except Rejection as rejection:
            _fail(rejection)
        click.echo(f"company {company.br_number} {company.name} ({company.mode})")


@transit.command("register-vehicle")
@click.option("--mark", required=True, help="HK registration mark, e.g. XY1234")
@click.option("--company", "company_br", required=True, help="BR number of the registered company")
@click.option("--note", default=None, help="Why (kept on the vehicle's history).")
def register_vehicle(mark: str, company_br: str, note: str | None) -> None:
    settings = Settings.from_env()
    with command_transaction(settings) as session:
        try:
            vehicle = service.register_vehicle(session, mark, company_br, utcnow(), actor=_actor(), note=note)
        except Rejection as rejection:
            _fail(rejection)
        click.echo(f"vehicle {vehicle.registration_mark} for company {company_br}")


@transit.command("register-elock")
@click.argument("elock_id")
@click.option("--supplier", required=True, help="an accredited supplier (rules/transit/routes.toml)")
@click.option("--note", default=None, help="Why (kept on the e-lock's history).")
def register_elock(elock_id: str, supplier: str, note: str | None) -> None:
    settings = Settings.from_env()
    network = network_for(settings.rules_dir)
    with command_transaction(settings) as session:
        try:
            lock = service.register_elock(session, elock_id, supplier, utcnow(), network, actor=_actor(), note=note)
        except Rejection as rejection:
            _fail(rejection)
        click.echo(f"e-lock {lock.elock_id} ({lock.supplier}): {lock.status}")


@transit.command("elock-status")
@click.argument("elock_id")
@click.argument("status", type=click.Choice(["available", "faulty", "retired"]))
@click.option("--note", default=None, help="Why, e.g. the fault seen (kept on the e-lock's history).")
def elock_status(elock_id: str, status: str, note: str | None) -> None:
    settings = Settings.from_env()
    with command_transaction(settings) as session:
        try:
            lock = service.set_elock_status(session, elock_id, status, utcnow(), actor=_actor(), note=note)
        except Rejection as rejection:
            _fail(rejection)
        click.echo(f"e-lock {lock.elock_id}: {lock.status}")


@transit.command("history")
@click.argument("subject_kind", metavar="{company|vehicle|elock}", type=click.Choice(service.SUBJECT_KINDS))
@click.argument("subject_id")
def history(subject_kind: str, subject_id: str) -> None:
    """Every registration and administrative change of a company (BR number), vehicle (mark)
    or e-lock: when, what, by whom, from and to, why. A lock's journeys are on their timelines."""
    settings = Settings.from_env()
    with command_reading(settings) as session:
        events = service.registry_history(session, subject_kind, subject_id)
        for event in events:
            click.echo(f"{_when(event.occurred_at)}\t{event.kind}\t{event.actor}\t"
                       f"{describe_change(event.detail)}\t{' '.join((event.note or '').split())}")
        if not events:
            click.echo(f"no history for {subject_kind} {subject_id}", err=True)
            sys.exit(1)


def describe_change(detail: dict[str, object] | None) -> str:
    """``field=from->to`` per changed field (``field=to`` for a registration)."""
    if not detail:
        return ""
    after = detail.get("to")
    before = detail.get("from")
    if not isinstance(after, dict):
        return " ".join(f"{key}={value}" for key, value in detail.items())
    before = before if isinstance(before, dict) else None
    return " ".join(f"{key}={before.get(key)}->{value}" if before is not None else f"{key}={value}"
                    for key, value in after.items())


@transit.command("journeys")
@click.option("--state", default=None, help="registered, sealed, in_transit, arrived, released, exception, cancelled")
@click.option("--alert", default=None, help="an alert kind, 'any' or 'none'")
@click.option("--limit", default=50, show_default=True, type=int)
def journeys(state: str | None, alert: str | None, limit: int) -> None:
    """Journeys, most recently changed first: id, state, declaration, e-lock, route, alerts."""
    settings = Settings.from_env()
    with command_reading(settings) as session:
        page = service.list_journeys(session, state, alert, None, 1, max(1, min(limit, 1000)))
        for journey in page.items:
            click.echo(f"{journey.id}\t{journey.state}\t{journey.declaration_id}\t{journey.elock_id}\t"
                       f"{journey.route_code}\talerts={journey.alert_count}")
        click.echo(f"{page.total} journeys")


@transit.command("alerts")
@click.option("--kind", default=None)
@click.option("--limit", default=50, show_default=True, type=int)
def alerts(kind: str | None, limit: int) -> None:
    settings = Settings.from_env()
    with command_reading(settings) as session:
        items, total = service.list_alerts(session, kind, 1, max(1, min(limit, 1000)))
        for alert in items:
            click.echo(f"{alert.id}\t{alert.kind}\t{alert.journey_id}\t{alert.declaration_id}\t{alert.message}")
        click.echo(f"{total} alerts")


@transit.command("routes")
@click.option("--dir", "directory", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="a rules/transit folder to check (default: the configured one)")
def routes(directory: Path | None) -> None:
    """Load and check the route network; print each route (exit 1 with file:line if wrong)."""
    settings = Settings.from_env()
    try:
        network = load_network(directory or settings.rules_dir / "transit")
    except RulesDataError as error:
        click.echo(str(error), err=True)
        sys.exit(1)
    for route in network.routes.values():
        click.echo(f"{route.code}\t{route.origin} -> {route.control_point} -> {route.destination}\t"
                   f"buffer {route.buffer_m:g} m, max journey {route.max_journey}, max stop {route.max_stop}")
    click.echo(f"{len(network.points)} clearance points, {len(network.routes)} routes, "
               f"silence threshold {network.silence}")


@transit.command("ingest")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def ingest(file: Path) -> None:
    """Post a telemetry batch file (XML or JSON) as the gateway would (for replays and demos)."""
    settings = Settings.from_env()
    body = file.read_bytes()
    try:
        events = (telemetry.read_json(body) if body.lstrip()[:1] in (b"{", b"[")
                  else telemetry.read_xml(DocumentChecker(settings.schema_dir), body))
    except Rejection as rejection:
        _fail(rejection)
    network = network_for(settings.rules_dir)
    with command_transaction(settings) as session:
        report = service.ingest(session, events, Caller(actor="cli:transit-ingest", role="gateway"), utcnow(), network)
        for result in report.results:
            if result.status != "accepted":
                click.echo(f"{result.event_id}\t{result.status}\t{result.reason or ''}\t{result.message or ''}")
        for alert in report.alerts:
            click.echo(f"alert {alert.kind} on journey {alert.journey_id}: {alert.message}")
        click.echo(f"{report.count('accepted')} accepted, {report.count('duplicate')} duplicate, "
                   f"{report.count('rejected')} rejected, {len(report.alerts)} alerts")
