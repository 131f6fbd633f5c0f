"""Read-only views of the revenue: a declaration's duty statement (demands, payments, refunds,
what is due), a receipt, a party's securities, the officers' list of unpaid dutiable
declarations, and the supervisors' report of charges and duty per day and per commodity."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from app.db import models
from app.db.revenue_models import DutyDemand, Payment, Refund, RevenueEvent, Security
from app.domain.problems import Problem, Rejection
from app.domain.reference import RECEIPT, is_valid_declaration_reference, is_valid_reference
from app.domain.revenue import ZERO, DemandState, status_of
from app.domain.time import HONG_KONG
from app.revenue.service import demand_view


@dataclass(frozen=True, slots=True)
class Statement:
    """A declaration's duty: its demands, payments and refunds, and what they come to."""

    declaration_id: str
    status: str  # none | due | secured | paid
    demands: list[DutyDemand]
    payments: list[Payment]
    refunds: list[Refund]
    events: list[RevenueEvent]
    due: Decimal
    secured: Decimal
    paid: Decimal
    refunded: Decimal
    release_waits: bool

    def payment_of(self, demand: DutyDemand) -> Payment | None:
        return next((p for p in self.payments if p.demand_id == demand.id), None)


def _declaration(session: Session, reference: str, party_id: int | None) -> models.Declaration:
    """The declaration if ``party_id`` (None: any) may see it; another party's answers as a
    missing one, so references reveal nothing."""
    if not is_valid_declaration_reference(reference):
        raise Rejection("INVALID_REFERENCE", f"{reference[:40]!r} is not a declaration reference",
                        [Problem(message="format or check character wrong", path="id",
                                 rule="reference-check-character")])
    query = select(models.Declaration).where(models.Declaration.id == reference)
    if party_id is not None:
        query = query.where(models.Declaration.declarant_party_id == party_id)
    row = session.scalar(query)
    if row is None:
        raise Rejection("NOT_FOUND", f"no declaration {reference}")
    return row


def statement(session: Session, reference: str, party_id: int | None) -> Statement:
    row = _declaration(session, reference, party_id)
    demands = list(session.scalars(select(DutyDemand).where(DutyDemand.declaration_id == row.id)
                                   .order_by(DutyDemand.id)))
    payments = list(session.scalars(select(Payment).where(Payment.declaration_id == row.id).order_by(Payment.id)))
    refunds = list(session.scalars(select(Refund).where(Refund.declaration_id == row.id).order_by(Refund.id)))
    events = list(session.scalars(select(RevenueEvent).where(RevenueEvent.declaration_id == row.id)
                                  .order_by(RevenueEvent.id)))

    def total(state: DemandState) -> Decimal:
        return sum((Decimal(d.amount) for d in demands if d.state == state.value), ZERO)

    return Statement(
        declaration_id=row.id, status=status_of([demand_view(d) for d in demands]), demands=demands, payments=payments,
        refunds=refunds, events=events, due=total(DemandState.DUE), secured=total(DemandState.SECURED),
        paid=sum((Decimal(p.amount) for p in payments), ZERO), refunded=sum((Decimal(r.amount) for r in refunds), ZERO),
        release_waits=bool(row.release_on_settlement))


def duty_status_of(session: Session, declaration_ids: list[str]) -> dict[str, str]:
    """The duty status (due, secured, paid) of each of the declarations that has demands."""
    if not declaration_ids:
        return {}
    by_declaration: dict[str, list[DutyDemand]] = {}
    for demand in session.scalars(select(DutyDemand).where(DutyDemand.declaration_id.in_(declaration_ids))):
        by_declaration.setdefault(demand.declaration_id, []).append(demand)
    return {declaration_id: status_of([demand_view(d) for d in rows])
            for declaration_id, rows in by_declaration.items()}


def receipt(session: Session, number: str, party_id: int | None) -> tuple[Payment, DutyDemand]:
    """A payment by its receipt number, if ``party_id`` (None: any) made it."""
    if not is_valid_reference(number, RECEIPT):
        raise Rejection("INVALID_REFERENCE", f"{number[:40]!r} is not a receipt number",
                        [Problem(message="format or check character wrong", path="receipt",
                                 rule="reference-check-character")])
    query = select(Payment, DutyDemand).join(DutyDemand, DutyDemand.id == Payment.demand_id).where(
        Payment.receipt_number == number)
    if party_id is not None:
        query = query.where(Payment.party_id == party_id)
    found = session.execute(query).first()
    if found is None:
        raise Rejection("NOT_FOUND", f"no receipt {number}")
    return found[0], found[1]


@dataclass(frozen=True, slots=True)
class Account:
    """A party's securities and the duty secured on them and not yet paid."""

    securities: list[Security]
    secured: list[DutyDemand]


def account(session: Session, party_id: int) -> Account:
    securities = list(session.scalars(select(Security).where(Security.party_id == party_id).order_by(Security.id)))
    secured = list(session.scalars(select(DutyDemand).where(
        DutyDemand.declarant_party_id == party_id, DutyDemand.state == DemandState.SECURED.value)
        .order_by(DutyDemand.raised_at)))
    return Account(securities, secured)


def securities(session: Session, party_identifier: str | None = None) -> list[tuple[Security, str]]:
    """Every security with its party's identifier (one party's when given)."""
    query = (select(Security, models.Party.identifier).join(models.Party, models.Party.id == Security.party_id)
             .order_by(Security.id))
    if party_identifier:
        query = query.where(models.Party.identifier == party_identifier)
    return [(row[0], row[1]) for row in session.execute(query)]


@dataclass(frozen=True, slots=True)
class Unpaid:
    """A dutiable declaration whose goods wait for the duty (officers' list)."""

    demand: DutyDemand
    declaration_id: str
    lrn: str
    status: str
    lane: str | None
    control_point: str | None
    declarant: str
    release_waits: bool


def _unpaid_query() -> Select[DutyDemand, models.Declaration, models.Party]:
    return (select(DutyDemand, models.Declaration, models.Party)
            .join(models.Declaration, models.Declaration.id == DutyDemand.declaration_id)
            .join(models.Party, models.Party.id == DutyDemand.declarant_party_id)
            .where(DutyDemand.state == DemandState.DUE.value))


def unpaid(session: Session, limit: int = 50, offset: int = 0) -> tuple[list[Unpaid], int]:
    """Demands still due, oldest first, with their declarations; and how many there are."""
    count = session.scalar(select(func.count()).select_from(DutyDemand)
                           .where(DutyDemand.state == DemandState.DUE.value)) or 0
    rows = session.execute(_unpaid_query().order_by(DutyDemand.raised_at, DutyDemand.id).limit(limit).offset(offset))
    return [Unpaid(d, decl.id, decl.lrn, decl.status, decl.lane, decl.control_point, party.name,
                   bool(decl.release_on_settlement)) for d, decl, party in rows], count


def due_of_party(session: Session, party_id: int) -> list[str]:
    """The declarations of a party with duty still due, oldest demand first."""
    rows = session.execute(select(DutyDemand.declaration_id, func.min(DutyDemand.raised_at)).where(
        DutyDemand.declarant_party_id == party_id, DutyDemand.state == DemandState.DUE.value)
        .group_by(DutyDemand.declaration_id).order_by(func.min(DutyDemand.raised_at)))
    return [row[0] for row in rows]


def demands(session: Session, state: str | None = None, party_identifier: str | None = None,
            limit: int = 200) -> list[tuple[DutyDemand, str]]:
    """Demands, newest first, with the declarant's identifier (for ``csw revenue demands``)."""
    query = (select(DutyDemand, models.Party.identifier).join(models.Party, models.Party.id
                                                               == DutyDemand.declarant_party_id)
             .order_by(DutyDemand.id.desc()).limit(limit))
    if state:
        query = query.where(DutyDemand.state == state)
    if party_identifier:
        query = query.where(models.Party.identifier == party_identifier)
    return [(row[0], row[1]) for row in session.execute(query)]


# --- the supervisors' report -----------------------------------------------------------------

REPORT_COLUMNS = ("declarations", "declaration_charge", "clothing_levy", "penalty", "duty_assessed",
                  "duty_demanded", "duty_secured", "duty_paid", "duty_refunded")
COMMODITY_COLUMNS = ("duty_demanded", "duty_paid", "duty_refunded")
MAX_REPORT_DAYS = 366


@dataclass
class Report:
    """Charges and duty per Hong Kong day and per dutiable commodity, ``start``..``end``
    inclusive. Charges are assessed on the declarations lodged that day (cancelled and refused
    ones left out: they are not charged); duty is demanded, secured, paid (collected) and
    refunded on the day it happens."""

    start: date
    end: date
    days: dict[date, dict[str, Decimal]] = field(default_factory=dict)
    commodities: dict[str, dict[str, Decimal]] = field(default_factory=dict)

    def total(self, column: str) -> Decimal:
        return sum((row[column] for row in self.days.values()), Decimal(0))

    def rows(self) -> Iterator[tuple[date, dict[str, Decimal]]]:
        return iter(sorted(self.days.items()))


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    return (datetime(start.year, start.month, start.day, tzinfo=HONG_KONG),
            datetime(end.year, end.month, end.day, tzinfo=HONG_KONG) + timedelta(days=1))


def _day(moment: datetime) -> date:
    return moment.astimezone(HONG_KONG).date()


def _money(value: object) -> Decimal:
    try:
        return Decimal(str(value)) if value is not None else ZERO
    except ArithmeticError:
        return ZERO


def report(session: Session, start: date, end: date) -> Report:
    """The report of ``start``..``end`` (Hong Kong days, at most a year)."""
    if end < start:
        raise Rejection("INVALID_PARAMETER", "the report's end is before its start",
                        [Problem(message=f"{start} .. {end}", path="to", rule="range")])
    if (end - start).days >= MAX_REPORT_DAYS:
        raise Rejection("INVALID_PARAMETER", f"a report covers at most {MAX_REPORT_DAYS} days",
                        [Problem(message=f"{start} .. {end}", path="to", rule="range")])
    low, high = _bounds(start, end)
    result = Report(start, end)
    day_count = (end - start).days + 1
    for offset in range(day_count):
        result.days[start + timedelta(days=offset)] = {column: Decimal(0) if column == "declarations" else ZERO
                                                       for column in REPORT_COLUMNS}

    def commodity(name: str) -> dict[str, Decimal]:
        return result.commodities.setdefault(name, {column: ZERO for column in COMMODITY_COLUMNS})

    charged = session.execute(select(models.Declaration.received_at, models.Declaration.charges).where(
        models.Declaration.received_at >= low, models.Declaration.received_at < high,
        models.Declaration.status.not_in(("cancelled", "refused"))))
    for received_at, charges in charged:
        row = result.days[_day(received_at)]
        row["declarations"] += 1
        for column, key in (("declaration_charge", "declaration_charge"), ("clothing_levy", "clothing_levy"),
                            ("penalty", "penalty"), ("duty_assessed", "duty_total")):
            row[column] += _money((charges or {}).get(key))
    raised = session.execute(select(DutyDemand.raised_at, DutyDemand.amount, DutyDemand.commodities).where(
        DutyDemand.raised_at >= low, DutyDemand.raised_at < high))
    for raised_at, amount, split in raised:
        result.days[_day(raised_at)]["duty_demanded"] += Decimal(amount)
        for name, value in (split or {}).items():
            commodity(name)["duty_demanded"] += _money(value)
    secured = session.execute(select(DutyDemand.secured_at, DutyDemand.amount).where(
        DutyDemand.secured_at >= low, DutyDemand.secured_at < high))
    for secured_at, amount in secured:
        if secured_at is not None:
            result.days[_day(secured_at)]["duty_secured"] += Decimal(amount)
    paid = session.execute(select(Payment.received_at, Payment.amount, DutyDemand.amount, DutyDemand.commodities)
                           .join(DutyDemand, DutyDemand.id == Payment.demand_id)
                           .where(Payment.received_at >= low, Payment.received_at < high))
    for received_at, amount, demanded, split in paid:
        result.days[_day(received_at)]["duty_paid"] += Decimal(amount)
        for name, value in (split or {}).items():
            commodity(name)["duty_paid"] += _money(value) * Decimal(amount) / Decimal(demanded)
    refunded = session.execute(select(Refund.created_at, Refund.amount, Refund.commodities).where(
        Refund.created_at >= low, Refund.created_at < high))
    for created_at, amount, split in refunded:
        result.days[_day(created_at)]["duty_refunded"] += Decimal(amount)
        for name, value in (split or {}).items():
            commodity(name)["duty_refunded"] += _money(value)
    for values in result.commodities.values():
        for column in COMMODITY_COLUMNS:
            values[column] = values[column].quantize(Decimal("0.01"))
    return result


def report_csv_rows(result: Report) -> Iterator[list[str]]:
    """The report as CSV rows: a header, one row per day, a total row, then per commodity."""
    yield ["day", *REPORT_COLUMNS]
    for day, values in result.rows():
        yield [day.isoformat(), *(str(values[c]) if c == "declarations" else f"{values[c]:.2f}"
                                  for c in REPORT_COLUMNS)]
    yield ["total", *(str(result.total(c)) if c == "declarations" else f"{result.total(c):.2f}"
                      for c in REPORT_COLUMNS)]
    yield []
    yield ["commodity", *COMMODITY_COLUMNS]
    for name, values in sorted(result.commodities.items()):
        yield [name, *(f"{values[c]:.2f}" for c in COMMODITY_COLUMNS)]
