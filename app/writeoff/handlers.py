"""How write-off follows the rest: cargo and manifest lines arrive, move and are withdrawn;
declarations cover them through their previous documents (and stop covering them when
cancelled or refused); a released e-lock journey closes an exempt line."""
from __future__ import annotations

from sqlalchemy.orm import Session

from app.domain.events import (
    CargoLineCancelled,
    CargoLineLodged,
    CargoMoved,
    DeclarationAmended,
    DeclarationCancelled,
    DeclarationLodged,
    DeclarationStatusChanged,
    JourneyReleased,
)
from app.writeoff import service
from app.writeoff.rules import WriteOffRules



def on_cargo_line_lodged(session: Session, event: CargoLineLodged, *, rules: WriteOffRules) -> None:
    service.line_lodged(session, event.kind, event.identifier, event.package_count, event.gross_mass,
                        event.responsible_party_id, event.exempt, event.caller.actor, event.at, rules)


def on_cargo_line_cancelled(session: Session, event: CargoLineCancelled) -> None:
    service.line_cancelled(session, event.kind, event.identifier, event.caller.actor, event.at)


def on_cargo_moved(session: Session, event: CargoMoved) -> None:
    service.line_moved(session, event.kind, event.identifier, event.moved_at, event.caller.actor, event.at)


def on_declaration_lodged(session: Session, event: DeclarationLodged, *, rules: WriteOffRules) -> None:
    if event.declaration.previous_documents:
        service.declaration_covers(session, event.declaration_id, event.declaration.previous_documents,
                                   event.caller.actor, event.at, rules, first_version=True)


def on_declaration_amended(session: Session, event: DeclarationAmended, *, rules: WriteOffRules) -> None:
    service.declaration_covers(session, event.declaration_id, event.declaration.previous_documents,
                               event.caller.actor, event.at, rules)


def on_declaration_cancelled(session: Session, event: DeclarationCancelled, *, rules: WriteOffRules) -> None:
    service.declaration_withdrawn(session, event.declaration_id, event.caller.actor, event.at, rules)


def on_status_changed(session: Session, event: DeclarationStatusChanged, *, rules: WriteOffRules) -> None:
    """A refused declaration covers nothing (a cancelled one: ``on_declaration_cancelled``)."""
    if event.facts.status == "refused":
        service.declaration_withdrawn(session, event.facts.id, event.actor, event.at, rules)


def on_journey_released(session: Session, event: JourneyReleased) -> None:
    if event.all_released:
        service.journey_released(session, event.declaration_id, event.caller.actor, event.at)
