"""The outbox follows the rest: a declaration's new status routes its notice (release,
refusal, cancellation), a trip's changed manifest routes the new copy, and a duty demand
raised, settled or refunded routes its notice to the declarant."""
from __future__ import annotations

from sqlalchemy.orm import Session

from app.domain.events import (
    DeclarationStatusChanged,
    DutyDemandRaised,
    DutyRefunded,
    DutySettled,
    ManifestChanged,
)
from app.domain.routing import MessageType
from app.routing import outbox
from app.reference.routing import RoutingRules


def on_status_changed(session: Session, event: DeclarationStatusChanged, *, rules: RoutingRules) -> None:
    outbox.declaration_notice(session, rules, event.facts, event.at, event.note)


def on_manifest_changed(session: Session, event: ManifestChanged, *, rules: RoutingRules) -> None:
    outbox.manifest_message(session, rules, event)


def on_duty_demand_raised(session: Session, event: DutyDemandRaised, *, rules: RoutingRules) -> None:
    outbox.duty_notice(session, rules, MessageType.DUTY_DEMAND_NOTICE, event.declaration_id, event.declarant_party_id,
                       {"demand_id": event.demand_reference, "amount": f"{event.amount:.2f}", "currency": "HKD",
                        "status": "due",
                        "note": "duty is due: pay it, or secure it on a deferment account or guarantee, "
                                "before the goods are released"}, event.at)


def on_duty_settled(session: Session, event: DutySettled, *, rules: RoutingRules) -> None:
    """Paid or secured demands are notified; demands withdrawn (nothing owed) are not."""
    if event.how not in ("paid", "secured"):
        return
    outbox.duty_notice(session, rules, MessageType.DUTY_SETTLED_NOTICE, event.declaration_id,
                       event.declarant_party_id,
                       {"demand_id": event.demand_reference, "amount": f"{event.amount:.2f}", "currency": "HKD",
                        "status": event.how, "note": event.detail}, event.at)


def on_duty_refunded(session: Session, event: DutyRefunded, *, rules: RoutingRules) -> None:
    outbox.duty_notice(session, rules, MessageType.DUTY_REFUND_NOTICE, event.declaration_id, event.declarant_party_id,
                       {"demand_id": event.demand_reference, "refund_id": event.refund_reference,
                        "amount": f"{event.amount:.2f}", "currency": "HKD", "status": "refunded",
                        "note": event.reason}, event.at)
