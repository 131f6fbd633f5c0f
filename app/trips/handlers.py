"""A trip's manifest follows its consignments: any change of a linked declaration's status,
lane or content, or an officer's decision on bundled cargo, re-evaluates the kiosk decision."""
from __future__ import annotations

from sqlalchemy.orm import Session

from app.domain.events import (
    CargoControlDecided,
    DeclarationAmended,
    DeclarationLaneChanged,
    DeclarationStatusChanged,
)
from app.reference.routing import RoutingRules
from app.trips.service import cargo_changed, declaration_changed


def on_status_changed(session: Session, event: DeclarationStatusChanged, *, rules: RoutingRules) -> None:
    """A declaration released as it is lodged is on no trip yet: trips link stored declarations
    in their own transactions, so there is nothing to look up (one statement per lodgement)."""
    if event.on_lodging:
        return
    declaration_changed(session, event.facts.id, event.actor, event.at, rules)


def on_lane_changed(session: Session, event: DeclarationLaneChanged, *, rules: RoutingRules) -> None:
    declaration_changed(session, event.declaration_id, event.actor, event.at, rules)


def on_declaration_amended(session: Session, event: DeclarationAmended, *, rules: RoutingRules) -> None:
    declaration_changed(session, event.declaration_id, event.caller.actor, event.at, rules)


def on_cargo_control_decided(session: Session, event: CargoControlDecided, *, rules: RoutingRules) -> None:
    """An officer released or held bundled cargo: the truck's kiosk decision follows."""
    cargo_changed(session, event.cargo_reference, event.actor, event.at, rules)
