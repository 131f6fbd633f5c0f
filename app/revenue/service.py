"""Revenue use cases: demands raised and reconciled with the duty owed, secured by a deferment
account or guarantee, paid through the payment gateway with a receipt, refunded when no longer
owed; securities opened, changed and closed.

Every change writes a ``RevenueEvent`` (what, how much, who, when) in the caller's transaction
and emits the domain events the other capabilities follow (``DutyDemandRaised``, ``DutySettled``,
``DutyRefunded``); nothing here commits. Lock order: the declaration row first, then its
demands, then the securities, as every other writer of a declaration does.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import models
from app.db.revenue_models import DutyDemand, Payment, Refund, RevenueEvent, Security
from app.domain.actors import Caller
from app.domain.events import DutyDemandRaised, DutyRefunded, DutySettled
from app.domain.problems import Problem, Rejection
from app.domain.reference import DEMAND, RECEIPT, REFUND, is_valid_declaration_reference, new_reference
from app.domain.revenue import (
    ZERO,
    DemandState,
    DemandView,
    RevenueRuleError,
    SecurityKind,
    SecurityStatus,
    SecurityView,
    check_payment,
    parse_amount,
    parse_payment_reference,
    reconcile,
    security_for,
)
from app.domain.time import hong_kong_date
from app.platform.clock import utcnow
from app.platform.uow import emit
from app.revenue.gateway import PaymentDeclined, PaymentGateway, PaymentRequest

SYSTEM = "system:revenue"


def refusal(error: RevenueRuleError) -> Rejection:
    """A revenue rule's refusal in the service's error envelope (path and rule named)."""
    return Rejection(error.code, error.message, [Problem(message=error.message, message_zh=error.message_zh,
                                                         path=error.field, rule=error.code.lower())])


def _event(session: Session, kind: str, actor: str, now: datetime, *, declaration_id: str | None = None,
           demand: DutyDemand | None = None, security: Security | None = None, amount: Decimal | None = None,
           note: str | None = None) -> None:
    session.add(RevenueEvent(kind=kind, declaration_id=declaration_id, demand_id=demand.id if demand else None,
                             security_id=security.id if security else None, amount=amount, actor=actor,
                             occurred_at=now, note=note))


def _plain(amounts: Mapping[str, Decimal]) -> dict[str, str]:
    return {commodity: f"{amount:.2f}" for commodity, amount in amounts.items()}


def _decimals(amounts: Mapping[str, str] | None) -> dict[str, Decimal]:
    return {commodity: Decimal(amount) for commodity, amount in (amounts or {}).items()}


def demand_view(row: DutyDemand) -> DemandView:
    return DemandView(row.id, DemandState(row.state), Decimal(row.amount), Decimal(row.refunded),
                      _decimals(row.commodities))


def _security_view(row: Security) -> SecurityView:
    return SecurityView(row.id, SecurityKind(row.kind), SecurityStatus(row.status), Decimal(row.limit_amount),
                        Decimal(row.balance), row.valid_until)


def demands_of(session: Session, declaration_id: str, *, for_update: bool = False) -> list[DutyDemand]:
    query = select(DutyDemand).where(DutyDemand.declaration_id == declaration_id).order_by(DutyDemand.id)
    return list(session.scalars(query.with_for_update() if for_update else query))


# --- demands ------------------------------------------------------------------------------

def reconcile_declaration(session: Session, declaration_id: str, party_id: int, duty: Decimal,
                          commodities: Mapping[str, Decimal], actor: str, now: datetime, reason: str) -> None:
    """Bring the declaration's demands in line with the duty now owed (``app.domain.revenue.
    reconcile``): withdraw what is unpaid, release securities, refund what was paid beyond the
    duty, raise a demand for what is still owed and secure it when the declarant's deferment
    account or guarantee is in credit."""
    rows = demands_of(session, declaration_id, for_update=True)
    plan = reconcile(duty, commodities, [demand_view(row) for row in rows])
    if not plan.changes:
        return
    by_id = {row.id: row for row in rows}
    for demand_id in plan.withdraw:
        _withdraw(session, by_id[demand_id], actor, now, reason)
    for demand_id in plan.release:
        demand = by_id[demand_id]
        security = session.get(Security, demand.security_id, with_for_update=True) if demand.security_id else None
        if security is not None:
            security.balance = Decimal(security.balance) - Decimal(demand.amount)
            security.updated_at = now
            _event(session, "security_released", actor, now, declaration_id=declaration_id, demand=demand,
                   security=security, amount=demand.amount, note=reason)
        _withdraw(session, demand, actor, now, reason)
    for demand_id, amount in plan.refunds:
        _refund(session, by_id[demand_id], amount, actor, now, reason)
    raised = None
    if plan.raise_amount > 0:
        raised = _raise(session, declaration_id, party_id, plan.raise_amount, plan.raise_commodities, actor, now,
                        reason)
    if raised is not None and _secure(session, raised, actor, now):
        return
    if raised is None and (plan.withdraw or plan.release) and not _due(session, declaration_id):
        emit(session, DutySettled(None, declaration_id, party_id, ZERO, "not_owed", reason, True, actor, now))


def _withdraw(session: Session, demand: DutyDemand, actor: str, now: datetime, reason: str) -> None:
    demand.state = DemandState.WITHDRAWN.value
    demand.withdrawn_at = demand.updated_at = now
    _event(session, "withdrawn", actor, now, declaration_id=demand.declaration_id, demand=demand,
           amount=demand.amount, note=reason)


def _raise(session: Session, declaration_id: str, party_id: int, amount: Decimal, commodities: Mapping[str, Decimal],
           actor: str, now: datetime, reason: str) -> DutyDemand:
    demand = DutyDemand(reference=new_reference(now, DEMAND), declaration_id=declaration_id,
                        declarant_party_id=party_id, amount=amount, refunded=ZERO, commodities=_plain(commodities),
                        state=DemandState.DUE.value, raised_at=now, updated_at=now)
    session.add(demand)
    session.flush()
    _event(session, "raised", actor, now, declaration_id=declaration_id, demand=demand, amount=amount, note=reason)
    emit(session, DutyDemandRaised(demand.reference, declaration_id, party_id, amount, actor, now))
    return demand


def _secure(session: Session, demand: DutyDemand, actor: str, now: datetime) -> bool:
    """Secure ``demand`` on the declarant's deferment account or guarantee, if one is in credit."""
    rows = list(session.scalars(select(Security).where(
        Security.party_id == demand.declarant_party_id, Security.status == SecurityStatus.ACTIVE.value)
        .order_by(Security.id).with_for_update()))
    chosen = security_for([_security_view(row) for row in rows], Decimal(demand.amount), hong_kong_date(now))
    if chosen is None:
        return False
    security = next(row for row in rows if row.id == chosen.id)
    security.balance = Decimal(security.balance) + Decimal(demand.amount)
    security.updated_at = now
    demand.state = DemandState.SECURED.value
    demand.security_id = security.id
    demand.secured_at = demand.updated_at = now
    _event(session, "secured", actor, now, declaration_id=demand.declaration_id, demand=demand, security=security,
           amount=demand.amount, note=f"{security.kind} {security.reference}")
    emit(session, DutySettled(demand.reference, demand.declaration_id, demand.declarant_party_id,
                              Decimal(demand.amount), "secured", f"{security.kind} {security.reference}",
                              not _due(session, demand.declaration_id), actor, now))
    return True


def _due(session: Session, declaration_id: str) -> bool:
    session.flush()
    return session.scalar(select(DutyDemand.id).where(DutyDemand.declaration_id == declaration_id,
                                                      DutyDemand.state == DemandState.DUE.value).limit(1)) is not None


def _refund(session: Session, demand: DutyDemand, amount: Decimal, actor: str, now: datetime, reason: str) -> Refund:
    share = amount / Decimal(demand.amount)
    commodities = {c: (a * share).quantize(Decimal("0.01")) for c, a in _decimals(demand.commodities).items()}
    if commodities:
        largest = max(commodities, key=lambda c: commodities[c])
        commodities[largest] += amount - sum(commodities.values(), ZERO)
    refund = Refund(reference=new_reference(now, REFUND), demand_id=demand.id, declaration_id=demand.declaration_id,
                    party_id=demand.declarant_party_id, amount=amount, commodities=_plain(commodities),
                    reason=reason, created_at=now, actor=actor)
    session.add(refund)
    demand.refunded = Decimal(demand.refunded) + amount
    demand.updated_at = now
    _event(session, "refunded", actor, now, declaration_id=demand.declaration_id, demand=demand, amount=amount,
           note=f"{refund.reference}: {reason}")
    emit(session, DutyRefunded(refund.reference, demand.reference, demand.declaration_id, demand.declarant_party_id,
                               amount, reason, actor, now))
    return refund


# --- payments ------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class PaymentRecorded:
    """What the payer is told: the receipt, and whether the goods may go now."""

    payment: Payment
    demand: DutyDemand
    all_settled: bool


def pay(session: Session, declaration_id: str, caller: Caller, amount: object, payment_reference: object,
        gateway: PaymentGateway, *, demand_reference: str | None = None, now: datetime | None = None
        ) -> PaymentRecorded:
    """Pay the duty due (or secured) on the caller's declaration: exactly the amount of one
    demand, once. Another party's declaration answers as a missing one (NOT_FOUND); bad input,
    an overpayment, an underpayment or a second payment is refused and nothing changes."""
    now = now or utcnow()
    if not is_valid_declaration_reference(declaration_id):
        raise Rejection("INVALID_REFERENCE", f"{declaration_id[:40]!r} is not a declaration reference",
                        [Problem(message="format or check character wrong", path="id",
                                 rule="reference-check-character")])
    row = session.scalar(select(models.Declaration).where(
        models.Declaration.id == declaration_id, models.Declaration.declarant_party_id == caller.party_id)
        .with_for_update())
    if row is None or caller.party_id is None:
        raise Rejection("NOT_FOUND", f"no declaration {declaration_id}")
    try:
        paid_amount = parse_amount(amount)
        reference = parse_payment_reference(payment_reference)
    except RevenueRuleError as error:
        raise refusal(error) from None
    demands = demands_of(session, declaration_id, for_update=True)
    open_demands = [d for d in demands if d.state in (DemandState.DUE.value, DemandState.SECURED.value)]
    if demand_reference is not None:
        chosen = next((d for d in demands if d.reference == demand_reference), None)
        if chosen is None:
            raise Rejection("NOT_FOUND", f"declaration {declaration_id} has no duty demand {demand_reference[:40]}",
                            [Problem(message="no such demand", path="demand_reference", rule="demand-of-declaration")])
    elif open_demands:
        chosen = open_demands[0]
    elif any(d.state == DemandState.PAID.value for d in demands):
        chosen = next(d for d in reversed(demands) if d.state == DemandState.PAID.value)
    else:
        raise Rejection("NO_DUTY_DUE", f"no duty is due on declaration {declaration_id}",
                        [Problem(message="nothing to pay", path="amount", rule="no_duty_due",
                                 message_zh=f"報關單 {declaration_id} 並無應繳稅款")])
    try:
        check_payment(DemandState(chosen.state), Decimal(chosen.amount), paid_amount, chosen.reference)
    except RevenueRuleError as error:
        raise refusal(error) from None
    try:
        confirmation = gateway.collect(PaymentRequest(chosen.reference, declaration_id, caller.party_id,
                                                      paid_amount, reference, now))
    except PaymentDeclined as declined:
        raise Rejection("PAYMENT_DECLINED", f"the payment was declined: {declined}") from None
    payment = Payment(receipt_number=new_reference(now, RECEIPT), demand_id=chosen.id, declaration_id=declaration_id,
                      party_id=caller.party_id, amount=paid_amount, payment_reference=reference,
                      gateway=confirmation.gateway, gateway_reference=confirmation.gateway_reference[:64],
                      received_at=now, actor=caller.actor)
    session.add(payment)
    if chosen.state == DemandState.SECURED.value and chosen.security_id is not None:
        security = session.get(Security, chosen.security_id, with_for_update=True)
        if security is not None:
            security.balance = Decimal(security.balance) - paid_amount
            security.updated_at = now
            _event(session, "security_repaid", caller.actor, now, declaration_id=declaration_id, demand=chosen,
                   security=security, amount=paid_amount, note=payment.receipt_number)
    chosen.state = DemandState.PAID.value
    chosen.paid_at = chosen.updated_at = now
    session.flush()
    _event(session, "paid", caller.actor, now, declaration_id=declaration_id, demand=chosen, amount=paid_amount,
           note=f"receipt {payment.receipt_number}, payment reference {reference} ({confirmation.gateway})")
    settled = not _due(session, declaration_id)
    emit(session, DutySettled(chosen.reference, declaration_id, caller.party_id, paid_amount, "paid",
                              f"receipt {payment.receipt_number}", settled, caller.actor, now))
    return PaymentRecorded(payment, chosen, settled)


# --- securities -----------------------------------------------------------------------------

def _party(session: Session, identifier: str) -> models.Party:
    party = session.scalar(select(models.Party).where(models.Party.identifier == identifier))
    if party is None:
        raise Rejection("NOT_FOUND", f"no party {identifier[:40]}", [Problem(message="unknown party", path="party")])
    return party


def open_security(session: Session, party_identifier: str, kind: str, reference: str, limit: object,
                  valid_until: date | None, actor: str, now: datetime | None = None) -> Security:
    """Open a deferment account or record a guarantee for a party."""
    now = now or utcnow()
    party = _party(session, party_identifier)
    try:
        security_kind = SecurityKind(kind)
    except ValueError:
        raise Rejection("INVALID_PARAMETER", "kind must be deferment or guarantee",
                        [Problem(message=f"got {kind[:20]!r}", path="kind")]) from None
    try:
        amount = parse_amount(limit, "limit")
    except RevenueRuleError as error:
        raise refusal(error) from None
    if not reference.strip() or len(reference.strip()) > 35:
        raise Rejection("INVALID_PARAMETER", "reference must be 1 to 35 characters",
                        [Problem(message="bad reference", path="reference")])
    if security_kind is SecurityKind.GUARANTEE and valid_until is None:
        raise Rejection("INVALID_PARAMETER", "a guarantee needs its expiry date",
                        [Problem(message="no expiry", path="valid_until")])
    exists = session.scalar(select(Security.id).where(Security.party_id == party.id, Security.kind == kind,
                                                      Security.reference == reference.strip()))
    if exists is not None:
        raise Rejection("DUPLICATE_SECURITY", f"{party.identifier} already has {kind} {reference.strip()}")
    security = Security(party_id=party.id, kind=security_kind.value, reference=reference.strip(), limit_amount=amount,
                        balance=ZERO, valid_until=valid_until, status=SecurityStatus.ACTIVE.value, created_at=now,
                        updated_at=now)
    session.add(security)
    session.flush()
    _event(session, "security_opened", actor, now, security=security, amount=amount,
           note=f"{kind} {security.reference} for {party.identifier}" + (f", until {valid_until}" if valid_until
                                                                         else ""))
    return security


def change_security(session: Session, security_id: int, actor: str, reason: str, *, limit: object | None = None,
                    status: str | None = None, now: datetime | None = None) -> Security:
    """A new limit, or a new status (``active``, ``suspended``, ``closed``), with the reason."""
    now = now or utcnow()
    security = session.get(Security, security_id, with_for_update=True)
    if security is None:
        raise Rejection("NOT_FOUND", f"no security {security_id}")
    if not reason.strip():
        raise Rejection("REASON_REQUIRED", "a change of a security needs a reason")
    if limit is not None:
        try:
            security.limit_amount = parse_amount(limit, "limit")
        except RevenueRuleError as error:
            raise refusal(error) from None
        _event(session, "security_limit", actor, now, security=security, amount=security.limit_amount, note=reason)
    if status is not None:
        try:
            security.status = SecurityStatus(status).value
        except ValueError:
            raise Rejection("INVALID_PARAMETER", "status must be active, suspended or closed") from None
        _event(session, f"security_{security.status}", actor, now, security=security, note=reason)
    security.updated_at = now
    return security


def secure_due(session: Session, declaration_id: str, actor: str, now: datetime | None = None) -> bool:
    """Try again to secure the declaration's due demands (after an account was opened or its
    limit raised); True when something was secured."""
    now = now or utcnow()
    secured = False
    for demand in demands_of(session, declaration_id, for_update=True):
        if demand.state == DemandState.DUE.value:
            secured = _secure(session, demand, actor, now) or secured
    return secured
