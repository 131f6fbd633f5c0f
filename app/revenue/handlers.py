"""How revenue follows the declarations: a dutiable declaration lodged or amended has its
demands reconciled with the duty it is assessed (raised, secured when the declarant's account
is in credit), a cancelled or refused one has them withdrawn, its securities released and
what was paid refunded."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.revenue_models import DutyDemand
from app.domain.charges import Assessment
from app.domain.events import DeclarationAmended, DeclarationLodged, DeclarationStatusChanged
from app.revenue.service import reconcile_declaration

ENDING = {"cancelled": "declaration cancelled", "refused": "declaration refused"}


def _duty(charges: Assessment | None) -> tuple[Decimal, dict[str, Decimal]]:
    if charges is None:
        return Decimal(0), {}
    return charges.duty_total, charges.duty_by_commodity()


def _has_demands(session: Session, declaration_id: str) -> bool:
    return session.scalar(select(DutyDemand.id).where(DutyDemand.declaration_id == declaration_id).limit(1)) is not None


def on_declaration_lodged(session: Session, event: DeclarationLodged) -> None:
    duty, commodities = _duty(event.charges)
    if duty <= 0 or event.caller.party_id is None:
        return
    reconcile_declaration(session, event.declaration_id, event.caller.party_id, duty, commodities,
                          event.caller.actor, event.at, "duty assessed on lodgement")


def on_declaration_amended(session: Session, event: DeclarationAmended) -> None:
    duty, commodities = _duty(event.charges)
    if event.caller.party_id is None or (duty <= 0 and not _has_demands(session, event.declaration_id)):
        return
    reconcile_declaration(session, event.declaration_id, event.caller.party_id, duty, commodities,
                          event.caller.actor, event.at, f"duty assessed on amendment (version {event.version})")


def on_status_changed(session: Session, event: DeclarationStatusChanged) -> None:
    reason = ENDING.get(event.facts.status)
    if reason is None or not _has_demands(session, event.facts.id):
        return
    reconcile_declaration(session, event.facts.id, event.facts.declarant_party_id, Decimal(0), {}, event.actor,
                          event.at, f"{reason}: {event.note}" if event.note else reason)
