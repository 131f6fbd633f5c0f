"""How e-lock journeys follow declarations: opened when a transhipment is lodged, re-planned
when it is amended, closed when it is cancelled, and ended released when an officer
releases a declaration whose journeys wait at their destination."""
from __future__ import annotations

from sqlalchemy.orm import Session

from app.domain.declaration import DeclarationStatus, DeclarationType
from app.domain.events import (
    DeclarationAmended,
    DeclarationCancelled,
    DeclarationLodged,
    DeclarationStatusChanged,
)
from app.transit.network import Network
from app.transit.service import (
    amend_journeys_for_declaration,
    close_journeys_for_declaration,
    open_journey_for_declaration,
    release_held_journeys,
)


def on_declaration_lodged(session: Session, event: DeclarationLodged, *, network: Network) -> None:
    """A transhipment's journeys open with it; a route, vehicle or e-lock problem refuses the
    whole lodgement (nothing is stored)."""
    open_journey_for_declaration(session, event.declaration_id, event.declaration, event.caller, event.at, network)


def on_declaration_amended(session: Session, event: DeclarationAmended, *, network: Network) -> None:
    amend_journeys_for_declaration(session, event.declaration_id, event.declaration, event.version, event.caller,
                                   event.at, network)


def on_declaration_cancelled(session: Session, event: DeclarationCancelled) -> None:
    close_journeys_for_declaration(session, event.declaration_id, event.caller, event.at, event.reason)


def on_status_changed(session: Session, event: DeclarationStatusChanged) -> None:
    if (event.facts.status == DeclarationStatus.RELEASED.value
            and event.facts.type_code == DeclarationType.TRANSHIPMENT.value):
        release_held_journeys(session, event.facts.id, event.actor, event.at, event.note)
