"""How declarations follow what other capabilities decide: an officer's decision on a case,
the intact arrival of a transhipment's e-lock journeys, and the duty being settled (a release
decided while duty was due waits for it)."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import models
from app.declarations.service import change_lane, change_status, release
from app.domain.declaration import FINAL_STATUSES, DeclarationStatus
from app.domain.events import (
    DocumentsRequested,
    DutySettled,
    InspectionOrdered,
    JourneyReleased,
    RefusalDecided,
    ReleaseDecided,
    RerouteDecided,
)


def _declaration(session: Session, declaration_id: str) -> models.Declaration:
    row = session.get(models.Declaration, declaration_id)
    assert row is not None, f"declaration {declaration_id} vanished inside its own transaction"
    return row


def on_release_decided(session: Session, event: ReleaseDecided) -> None:
    """The officer's release, or (duty still due) a release waiting for the duty."""
    release(session, _declaration(session, event.declaration_id), event.actor, event.conversation_id,
            note=event.note, now=event.at)


def on_refusal_decided(session: Session, event: RefusalDecided) -> None:
    change_status(session, _declaration(session, event.declaration_id), DeclarationStatus.REFUSED, "refused",
                  event.actor, event.conversation_id, note=event.note, now=event.at)


def on_inspection_ordered(session: Session, event: InspectionOrdered) -> None:
    change_status(session, _declaration(session, event.declaration_id), DeclarationStatus.UNDER_REVIEW,
                  "inspection_ordered", event.actor, event.conversation_id,
                  note=event.note or "physical inspection ordered", now=event.at)


def on_documents_requested(session: Session, event: DocumentsRequested) -> None:
    change_status(session, _declaration(session, event.declaration_id), DeclarationStatus.UNDER_REVIEW,
                  "documents_requested", event.actor, event.conversation_id,
                  note=f"documents requested: {event.documents} ({event.note or ''})", now=event.at)


def on_reroute_decided(session: Session, event: RerouteDecided) -> None:
    """A new lane is a change every capability hears of (the trip's manifest follows it); the
    green lane also releases."""
    row = _declaration(session, event.declaration_id)
    reason = event.note or ""
    change_lane(session, row, event.lane_to, event.actor, event.conversation_id,
                note=f"lane {event.lane_from or 'none'} -> {event.lane_to}: {reason}", now=event.at)
    if event.lane_to == "green":
        release(session, row, event.actor, event.conversation_id, note=f"re-routed to the green lane: {reason}",
                now=event.at)


def on_journey_released(session: Session, event: JourneyReleased) -> None:
    """A transhipment is released once every e-lock journey of it is released."""
    if not event.all_released:
        return
    row = session.scalar(select(models.Declaration).where(models.Declaration.id == event.declaration_id)
                         .with_for_update())
    if row is None or DeclarationStatus(row.status) in FINAL_STATUSES:
        return
    release(session, row, event.caller, None, note=f"journey {event.journey_id}: {event.note}", now=event.at)


def on_duty_settled(session: Session, event: DutySettled) -> None:
    """Nothing is due any more: a release that waited for the duty goes ahead."""
    if not event.all_settled:
        return
    row = session.scalar(select(models.Declaration).where(models.Declaration.id == event.declaration_id)
                         .with_for_update())
    if row is None or not row.release_on_settlement or DeclarationStatus(row.status) in FINAL_STATUSES:
        return
    words = {"paid": "duty paid", "secured": "duty secured", "not_owed": "no duty owed"}.get(event.how, event.how)
    release(session, row, event.actor, None, note=f"{words} ({event.detail})", now=event.at)
