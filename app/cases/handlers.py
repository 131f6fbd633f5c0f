"""How the officers' queue follows the rest: a case opens when a declaration needs an officer
or a transit alert is raised, updates when the declaration is amended or the trader answers a
document request, and closes when the trader cancels."""
from __future__ import annotations

from sqlalchemy.orm import Session

from app.cases.service import (
    close_cargo_cases,
    close_cases_for_declaration,
    sync_cargo_cases,
    open_case_for_cargo_line,
    documents_answered,
    open_case_for_alert,
    open_cases_for_declaration,
)
from app.domain.time import hong_kong_date
from app.domain.events import (
    CargoLineOverdue,
    CargoSelected,
    CargoSelectionClosed,
    DeclarationAmended,
    DeclarationCancelled,
    DeclarationLodged,
    DocumentsAnswered,
    TransitAlertRaised,
)


def on_declaration_lodged(session: Session, event: DeclarationLodged) -> None:
    if event.needs_officer:
        open_cases_for_declaration(session, event.declaration_id, now=event.at, actor=event.caller.actor,
                                   first_version=True,
                                   random_sample=event.risk.random_sample if event.risk is not None else None)


def on_declaration_amended(session: Session, event: DeclarationAmended) -> None:
    """New reasons join the active case (or open one); documents asked for count as answered."""
    open_cases_for_declaration(session, event.declaration_id, now=event.at, actor=event.caller.actor)


def on_declaration_cancelled(session: Session, event: DeclarationCancelled) -> None:
    close_cases_for_declaration(session, event.declaration_id, reason=event.reason, actor=event.caller.actor,
                                now=event.at)


def on_transit_alert(session: Session, event: TransitAlertRaised) -> None:
    open_case_for_alert(session, alert_id=event.alert_id, journey_id=event.journey_id,
                        declaration_id=event.declaration_id, kind=event.kind, occurred_at=event.occurred_at,
                        evidence=event.evidence, actor=event.actor)


def on_documents_answered(session: Session, event: DocumentsAnswered) -> None:
    documents_answered(session, request_id=event.request_id, actor=event.actor, now=event.at)


def on_cargo_line_overdue(session: Session, event: CargoLineOverdue) -> None:
    """A cargo line left open after the period to declare: a case for officers."""
    moved = hong_kong_date(event.moved_at).isoformat()
    open_case_for_cargo_line(
        session, kind=event.kind, identifier=event.identifier, declarations=event.declarations,
        message_en=f"{event.kind} {event.identifier} moved on {moved}: {event.packages_declared} of "
                   f"{event.package_count} packages declared",
        message_zh=f"{event.kind} {event.identifier} 於 {moved} 進出口：{event.package_count} 件中只有 "
                   f"{event.packages_declared} 件已報關",
        actor=event.actor, now=event.at)


def on_cargo_selected(session: Session, event: CargoSelected) -> None:
    """Cargo selected before it moved is an entry in the officers' queue."""
    sync_cargo_cases(session, event)


def on_cargo_selection_closed(session: Session, event: CargoSelectionClosed) -> None:
    """Released or withdrawn cargo leaves the queue, by whichever path it was decided."""
    close_cargo_cases(session, event)
