"""Read-only views of e-lock journeys for other parts of the system (the officers' case view)."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.transit_models import Journey
from app.transit.service import track


@dataclass(frozen=True, slots=True)
class JourneyView:
    """An e-lock journey as the case view shows it: state, timeline, alerts and track."""

    id: str
    state: str
    route: str
    elock_id: str
    timeline: list[dict[str, object]]
    alerts: list[dict[str, object]]
    track: list[tuple[float, float]]


def journey_view(session: Session, journey_id: str | None, declaration_id: str | None) -> JourneyView | None:
    """The journey by id, else the declaration's latest journey; None when there is none."""
    journey = session.get(Journey, journey_id) if journey_id else None
    if journey is None and declaration_id:
        journey = session.scalar(select(Journey).where(Journey.declaration_id == declaration_id)
                                 .order_by(Journey.opened_at.desc()).limit(1))
    if journey is None:
        return None
    return JourneyView(
        id=journey.id, state=journey.state, elock_id=journey.elock_id,
        route=f"{journey.origin} → {journey.control_point} → {journey.destination} ({journey.route_code})",
        timeline=[{"at": e.occurred_at, "kind": e.kind, "state": e.state_to, "actor": e.actor, "note": e.note}
                  for e in journey.timeline],
        alerts=[{"at": a.occurred_at, "kind": a.kind, "message": a.message} for a in journey.alerts],
        track=[(t.longitude, t.latitude) for t in track(session, journey)],
    )
