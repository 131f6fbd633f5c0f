"""``csw aeo``: import the registry, change a registration, show an operator, list MRAs.

Registered on the main group with ``main.add_command(aeo)`` (app/cli.py). Each command
runs in one transaction: the change and its history event are committed together.
"""
from __future__ import annotations

import getpass
import sys
from datetime import date, datetime
from pathlib import Path

import click

from app.aeo import service
from app.reference.mra import MraDataError, MraPartners, load_mra_partners
from app.aeo.registry import RENEWAL_NOTICE_MONTHS, RegistryError, renewal_due_from
from app.config import Settings
from app.platform.clock import utcnow
from app.platform.commands import reading as command_reading
from app.platform.commands import unit_of_work as command_unit_of_work
from app.domain.time import HONG_KONG

_today_option = click.option(
    "--today", "on", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
    help="The registry's date, YYYY-MM-DD (default: today in Hong Kong).",
)
_actor_option = click.option("--actor", default=None, help="Who is acting (default: cli:<login name>).")



def _today(on: datetime | None) -> date:
    return on.date() if on is not None else utcnow().astimezone(HONG_KONG).date()


def _actor(actor: str | None) -> str:
    if actor:
        return actor
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # noqa: BLE001 - no login name in some containers
        return "cli"


def mra_partners(settings: Settings) -> MraPartners:
    """``rules/aeo/mra_partners.toml``, or a one-line error naming the file, line and reason."""
    try:
        return load_mra_partners(settings.rules_dir / "aeo" / "mra_partners.toml")
    except MraDataError as exc:
        raise click.ClickException(f"the MRA partners cannot be used: {exc}") from None


@click.group()
def aeo() -> None:
    """Authorized Economic Operators: the registry and the MRA partners."""


@aeo.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check and report, change nothing.")
@_today_option
@_actor_option
def import_command(file: Path, dry_run: bool, on: datetime | None, actor: str | None) -> None:
    """Create or update operators from a CSV file (operator_id,name,tier,status,valid_from,
    valid_until[,revoked_on]). Valid rows are applied, rejected rows are listed with their
    line; the exit status is 1 if any row is rejected. Importing a file twice changes
    nothing the second time."""
    settings = Settings.from_env()
    mra = mra_partners(settings)
    with file.open(encoding="utf-8-sig", newline="") as stream:
        try:
            rows = service.read_csv_rows(stream)
        except RegistryError as exc:
            raise click.ClickException(f"{file}: {exc.message}") from None
    with command_unit_of_work(settings) as uow:
        uow.write_lock()
        report = service.import_operators(uow.session, rows, _actor(actor), _today(on), mra, source=file.name)
        if dry_run:
            uow.rollback()
        else:
            uow.commit()
    prefix = "dry run, nothing stored: " if dry_run else ""
    click.echo(f"{prefix}{file.name}: created {len(report.created)}, updated {len(report.updated)}, "
               f"unchanged {len(report.unchanged)}, rejected {len(report.rejected)}")
    for rejected in report.rejected:
        click.echo(f"  line {rejected.line}: {rejected.operator_id or '-'}: {rejected.reason}")
    sys.exit(1 if report.rejected else 0)


def _status_command(action: str, summary: str) -> None:
    @aeo.command(action, help=f"{summary} Prints the registration afterwards.")
    @click.argument("operator_id")
    @click.option("--reason", required=True, help="Why (3 to 500 characters; kept in the history).")
    @_today_option
    @_actor_option
    def command(operator_id: str, reason: str, on: datetime | None, actor: str | None) -> None:
        settings = Settings.from_env()
        today = _today(on)
        with command_unit_of_work(settings) as uow:
            uow.write_lock()
            try:
                operator = service.change_status(uow.session, operator_id.strip(), action, reason, _actor(actor),
                                                 today)
            except RegistryError as exc:
                raise click.ClickException(f"{exc.code}: {exc.message}") from None
            uow.commit()
            click.echo(f"{operator.operator_id}: {action} done; now {operator.status}, valid "
                       f"{operator.valid_from.isoformat()} to {operator.valid_until.isoformat()}")


for _action, _summary in (
    ("suspend", "Suspend an active registration (active -> suspended)."),
    ("reinstate", "Reinstate a suspended registration within its validity (suspended -> active)."),
    ("revoke", "Revoke a registration (bars re-admission for 2 years)."),
    ("withdraw", "Record the operator's withdrawal from the programme."),
    ("renew", f"Renew: due {RENEWAL_NOTICE_MONTHS} months before the end of validity, or re-admit an "
              "expired, withdrawn or (after the 2-year bar) revoked operator."),
):
    _status_command(_action, _summary)


@aeo.command("show")
@click.argument("operator_id")
@_today_option
def show_command(operator_id: str, on: datetime | None) -> None:
    """An operator's status, tier, validity, renewal and history."""
    settings = Settings.from_env()
    mra = mra_partners(settings)
    today = _today(on)
    with command_reading(settings) as session:
        operator = service.lookup(session, operator_id.strip())
        if operator is None:
            raise click.ClickException(f"no AEO operator {operator_id} in the registry")
        standing = service.standing_of(operator, today, mra)
        click.echo(f"{operator.operator_id}  {operator.name}")
        click.echo(f"  country      {operator.country}")
        click.echo(f"  status       {operator.status}")
        click.echo(f"  tier         {operator.tier}")
        click.echo(f"  valid        {operator.valid_from.isoformat()} to {operator.valid_until.isoformat()}")
        if operator.revoked_on is not None:
            click.echo(f"  revoked on   {operator.revoked_on.isoformat()}")
        due = "yes" if standing.renewal_due else "no"
        click.echo(f"  renewal due  {due} (from {renewal_due_from(operator.valid_until).isoformat()})")
        recognised = "yes" if standing.recognised else f"no: {standing.reason}"
        click.echo(f"  recognised   {recognised} (on {today.isoformat()})")
        click.echo("  history:")
        for event in operator.history:
            moment_text = event.occurred_at.strftime("%Y-%m-%d %H:%M:%S")
            click.echo(f"    {moment_text}Z  {event.status_from or '-'} -> {event.status_to}  "
                       f"by {event.actor}: {event.reason}")


@aeo.command("partners")
@_today_option
def partners_command(on: datetime | None) -> None:
    """The MRA partners, and whether each MRA is in force."""
    mra = mra_partners(Settings.from_env())
    today = _today(on)
    for partner in mra:
        state = "in force" if partner.in_force(today) else "not in force"
        mark = "" if partner.confirmed else " [date unconfirmed]"
        click.echo(f"{partner.economy}\t{partner.in_force_from.isoformat()}{mark}\t{state}\t"
                   f"{partner.name_en} / {partner.name_zh}\t{partner.programme}")
