"""The outbox follows the rest: a declaration's new status routes its notice (release,
refusal, cancellation), a trip's changed manifest routes the new copy, a duty demand raised,
settled or refunded routes its notice to the declarant, and every step of a declaration's life
becomes a lifecycle notification for its declarant's systems."""
from __future__ import annotations

from sqlalchemy.orm import Session

from app.domain.events import (
    CargoLineOverdue,
    CargoManifestDecided,
    DeclarationAmended,
    DeclarationLaneChanged,
    DeclarationLodged,
    DeclarationStatusChanged,
    DocumentsAnswered,
    DocumentsRequested,
    DutyDemandRaised,
    DutyRefunded,
    DutySettled,
    InspectionOrdered,
    InspectionOutcomeRecorded,
    ManifestChanged,
)
from app.domain.notifications import KIND_BY_STATUS, NotificationKind
from app.domain.routing import MessageType
from app.reference.routing import RoutingRules
from app.routing import notifications, outbox
from app.routing.notifications import Subject


def on_status_changed(session: Session, event: DeclarationStatusChanged, *, rules: RoutingRules) -> None:
    outbox.declaration_notice(session, rules, event.facts, event.at, event.note)


def on_manifest_changed(session: Session, event: ManifestChanged, *, rules: RoutingRules) -> None:
    outbox.manifest_message(session, rules, event)


def on_cargo_line_overdue(session: Session, event: CargoLineOverdue, *, rules: RoutingRules) -> None:
    outbox.cargo_line_notice(session, rules, event)
def on_cargo_manifest_decided(session: Session, event: CargoManifestDecided, *, rules: RoutingRules) -> None:
    outbox.cargo_manifest_message(session, rules, event)


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


# --- lifecycle notifications ----------------------------------------------------------------

def notify_lodged(session: Session, event: DeclarationLodged) -> None:
    """Received and accepted: the subject is in the event (the row was just inserted)."""
    assert event.caller.party_id is not None
    notifications.notify(session, Subject(event.declaration_id, event.caller.party_id, event.declaration.lrn, 1,
                                          event.conversation_id, "accepted",
                                          event.risk.lane.value if event.risk else None),
                         NotificationKind.ACCEPTED, event.at)


def notify_amended(session: Session, event: DeclarationAmended) -> None:
    subject = notifications.subject_of(session, event.declaration_id)
    if subject is not None:
        notifications.notify(session, subject, NotificationKind.AMENDED, event.at)


def notify_status_changed(session: Session, event: DeclarationStatusChanged) -> None:
    """Released, refused, cancelled; the note says why (an officer's reason for a refusal, the
    trader's own for a cancellation)."""
    kind = KIND_BY_STATUS.get(event.facts.status)
    subject = notifications.subject_of_facts(session, event.facts) if kind else None
    if kind is not None and subject is not None:
        notifications.notify(session, subject, kind, event.at, status=event.facts.status,
                             detail={"note": event.note})


def notify_documents_requested(session: Session, event: DocumentsRequested) -> None:
    subject = notifications.subject_of(session, event.declaration_id)
    if subject is not None:
        notifications.notify(session, subject, NotificationKind.DOCUMENTS_REQUESTED, event.at, detail={
            "request_id": event.request_id, "documents": event.documents, "message": event.note})


def notify_documents_answered(session: Session, event: DocumentsAnswered) -> None:
    subject = notifications.subject_of(session, event.declaration_id)
    if subject is not None:
        notifications.notify(session, subject, NotificationKind.DOCUMENTS_ANSWERED, event.at,
                             detail={"request_id": event.request_id})


def notify_inspection_ordered(session: Session, event: InspectionOrdered) -> None:
    """The declarant learns that the goods will be inspected, not why (the reason is the risk
    officer's)."""
    subject = notifications.subject_of(session, event.declaration_id)
    if subject is not None:
        notifications.notify(session, subject, NotificationKind.INSPECTION_ORDERED, event.at)


def notify_inspection_outcome(session: Session, event: InspectionOutcomeRecorded) -> None:
    """The result of the inspection; whether it was a random sample stays with customs."""
    subject = notifications.subject_of(session, event.declaration_id)
    if subject is not None:
        notifications.notify(session, subject, NotificationKind.INSPECTION_OUTCOME, event.at,
                             detail={"result": event.result})


def notify_rerouted(session: Session, event: DeclarationLaneChanged) -> None:
    """The new lane only: never the officer's note, which may quote the risk criteria."""
    subject = notifications.subject_of(session, event.declaration_id)
    if subject is not None:
        notifications.notify(session, subject, NotificationKind.REROUTED, event.at, lane=event.lane_to)


def notify_duty_demanded(session: Session, event: DutyDemandRaised) -> None:
    """Duty is due: the release waits until it is paid or secured."""
    subject = notifications.subject_of(session, event.declaration_id)
    if subject is not None:
        notifications.notify(session, subject, NotificationKind.DUTY_DEMANDED, event.at, detail={
            "demand_id": event.demand_reference, "amount": f"{event.amount:.2f}"})


def notify_duty_settled(session: Session, event: DutySettled) -> None:
    """Paid, secured, or withdrawn (not owed any more): ``note`` says which."""
    subject = notifications.subject_of(session, event.declaration_id)
    if subject is not None:
        notifications.notify(session, subject, NotificationKind.DUTY_SETTLED, event.at, detail={
            "demand_id": event.demand_reference, "amount": f"{event.amount:.2f}", "note": event.how})


def notify_duty_refunded(session: Session, event: DutyRefunded) -> None:
    subject = notifications.subject_of(session, event.declaration_id)
    if subject is not None:
        notifications.notify(session, subject, NotificationKind.DUTY_REFUNDED, event.at, detail={
            "demand_id": event.demand_reference, "amount": f"{event.amount:.2f}", "note": event.reason})
