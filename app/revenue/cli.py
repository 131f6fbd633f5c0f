"""``csw revenue``: duty demands and statements, payments at the counter, deferment accounts and
guarantees, and the report of charges and duty.

Registered on the main group with ``main.add_command(revenue)`` (app/cli.py). Each change runs in
one transaction behind the write gate (``app.platform.commands.transaction``): the change, its
revenue events and what the other capabilities do about it (a release that waited for the duty)
are committed together.
"""
from __future__ import annotations

import csv
import getpass
import sys
from datetime import date, datetime, timedelta

import click
from sqlalchemy import select

from app.db import models
from app.domain.actors import Caller
from app.domain.problems import Rejection
from app.domain.time import HONG_KONG
from app.platform.clock import utcnow
from app.platform.commands import reading as command_reading
from app.platform.commands import transaction as command_transaction
from app.revenue import queries, service
from app.revenue.gateway import RecordedPayment


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # noqa: BLE001 - no login name in some containers
        return "cli"


def _refused(rejection: Rejection) -> click.ClickException:
    detail = "; ".join(p.message for p in rejection.problems if p.message != rejection.message)
    return click.ClickException(f"{rejection.code}: {rejection.message}" + (f" ({detail})" if detail else ""))


@click.group()
def revenue() -> None:
    """Duty demands, payments, deferment accounts and guarantees, and the revenue report."""


@revenue.command("demands")
@click.option("--state", type=click.Choice(["due", "secured", "paid", "withdrawn"]), default=None)
@click.option("--party", default=None, help="The declarant's BR number.")
def demands_command(state: str | None, party: str | None) -> None:
    """Duty demands, newest first (at most 200)."""
    with command_reading() as session:
        for demand, identifier in queries.demands(session, state, party):
            click.echo(f"{demand.reference}  {demand.declaration_id}  {identifier}  {demand.state:<9}  "
                       f"HK${demand.amount:>14,.2f}  raised {demand.raised_at.astimezone(HONG_KONG):%Y-%m-%d %H:%M}")


@revenue.command("statement")
@click.argument("declaration")
def statement_command(declaration: str) -> None:
    """A declaration's duty: demands, payments, refunds and events."""
    with command_reading() as session:
        try:
            found = queries.statement(session, declaration, None)
        except Rejection as rejection:
            raise _refused(rejection) from None
        click.echo(f"{found.declaration_id}: duty {found.status}; due HK${found.due:,.2f}, secured "
                   f"HK${found.secured:,.2f}, paid HK${found.paid:,.2f}, refunded HK${found.refunded:,.2f}"
                   + ("; release waits for the duty" if found.release_waits else ""))
        for event in found.events:
            amount = f" HK${event.amount:,.2f}" if event.amount is not None else ""
            click.echo(f"  {event.occurred_at.astimezone(HONG_KONG):%Y-%m-%d %H:%M}  {event.kind}{amount}  "
                       f"{event.actor}  {event.note or ''}")


@revenue.command("pay")
@click.argument("declaration")
@click.option("--amount", required=True, help="HKD, exactly the amount of the demand.")
@click.option("--reference", "payment_reference", required=True, help="The payment's reference (bank, cheque).")
@click.option("--demand", default=None, help="The demand to pay (default: the oldest unpaid).")
def pay_command(declaration: str, amount: str, payment_reference: str, demand: str | None) -> None:
    """Record a payment made at a customs counter for the declarant of DECLARATION."""
    with command_reading() as session:
        row = session.scalar(select(models.Declaration).where(models.Declaration.id == declaration))
        if row is None:
            raise click.ClickException(f"NOT_FOUND: no declaration {declaration}")
        party = session.get(models.Party, row.declarant_party_id)
        assert party is not None
        caller = Caller(f"{_actor()} (counter)", party.id, party.identifier, role="trader")
    try:
        with command_transaction() as session:
            recorded = service.pay(session, declaration, caller, amount, payment_reference, RecordedPayment(),
                                   demand_reference=demand)
            receipt = recorded.payment.receipt_number
    except Rejection as rejection:
        raise _refused(rejection) from None
    click.echo(f"receipt {receipt}: HK${recorded.payment.amount:,.2f} on {recorded.demand.reference}"
               + ("; nothing is due any more" if recorded.all_settled else ""))


@revenue.group("securities")
def securities() -> None:
    """Deferment accounts and guarantees."""


@securities.command("list")
@click.option("--party", default=None, help="One party's BR number.")
def securities_list(party: str | None) -> None:
    with command_reading() as session:
        for security, identifier in queries.securities(session, party):
            until = f" until {security.valid_until}" if security.valid_until else ""
            click.echo(f"#{security.id}  {identifier}  {security.kind:<9}  {security.reference}  {security.status:<9}  "
                       f"limit HK${security.limit_amount:,.2f}  balance HK${security.balance:,.2f}{until}")


@securities.command("open")
@click.option("--party", required=True, help="The trader's BR number.")
@click.option("--kind", type=click.Choice(["deferment", "guarantee"]), required=True)
@click.option("--reference", required=True, help="The account or guarantee number.")
@click.option("--limit", "limit_amount", required=True, help="HKD.")
@click.option("--until", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Last day of a guarantee (YYYY-MM-DD); required for a guarantee.")
def securities_open(party: str, kind: str, reference: str, limit_amount: str, until: datetime | None) -> None:
    """Open a deferment account or record a guarantee; due demands of the party are secured
    on it at once where it is in credit."""
    try:
        with command_transaction() as session:
            security = service.open_security(session, party, kind, reference, limit_amount,
                                             until.date() if until else None, _actor())
            secured = [d for d in queries.due_of_party(session, security.party_id)
                       if service.secure_due(session, d, _actor())]
            number = security.id
    except Rejection as rejection:
        raise _refused(rejection) from None
    click.echo(f"#{number}: {kind} {reference} for {party}, limit HK${security.limit_amount:,.2f}"
               + (f"; secured the duty of {', '.join(secured)}" if secured else ""))


def _change(security_id: int, reason: str, limit: str | None = None, status: str | None = None) -> None:
    try:
        with command_transaction() as session:
            security = service.change_security(session, security_id, _actor(), reason, limit=limit, status=status)
            line = (f"#{security.id}: {security.kind} {security.reference} {security.status}, "
                    f"limit HK${security.limit_amount:,.2f}, balance HK${security.balance:,.2f}")
    except Rejection as rejection:
        raise _refused(rejection) from None
    click.echo(line)


@securities.command("limit")
@click.argument("security_id", type=int)
@click.argument("limit_amount")
@click.option("--reason", required=True)
def securities_limit(security_id: int, limit_amount: str, reason: str) -> None:
    """Set a new limit."""
    _change(security_id, reason, limit=limit_amount)


@securities.command("status")
@click.argument("security_id", type=int)
@click.argument("status", type=click.Choice(["active", "suspended", "closed"]))
@click.option("--reason", required=True)
def securities_status(security_id: int, status: str, reason: str) -> None:
    """Suspend, reinstate or close (nothing more is secured on it unless it is active)."""
    _change(security_id, reason, status=status)


@revenue.command("report")
@click.option("--from", "start", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="First Hong Kong day (default: 30 days before --to).")
@click.option("--to", "end", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Last Hong Kong day (default: today).")
def report_command(start: datetime | None, end: datetime | None) -> None:
    """Charges and duty per day and per commodity, as CSV on standard output."""
    last: date = end.date() if end else utcnow().astimezone(HONG_KONG).date()
    first: date = start.date() if start else last - timedelta(days=29)
    with command_reading() as session:
        try:
            result = queries.report(session, first, last)
        except Rejection as rejection:
            raise _refused(rejection) from None
    writer = csv.writer(sys.stdout, lineterminator="\n")
    for row in queries.report_csv_rows(result):
        writer.writerow(row)
