"""Read-only views of e-lock journeys for other parts of the system (the officers' case view)."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.transit_models import Journey
from app.transit.network import Network
from app.transit.service import track


@dataclass(frozen=True, slots=True)
class Reading:
    """One accepted position of the e-lock, and whether it lay in the approved corridor."""

    longitude: float
    latitude: float
    inside_corridor: bool | None


@dataclass(frozen=True, slots=True)
class JourneyView:
    """An e-lock journey as the case view shows it: state, timeline, alerts and track, with
    the approved route's corridor and clearance points to draw it over."""

    id: str
    state: str
    route: str
    elock_id: str
    timeline: list[dict[str, object]]
    alerts: list[dict[str, object]]
    track: list[tuple[float, float]]
    readings: list[Reading] = field(default_factory=list)
    corridor: list[tuple[float, float]] = field(default_factory=list)
    route_path: list[tuple[float, float]] = field(default_factory=list)
    points: list[tuple[str, float, float]] = field(default_factory=list)


def _route_shape(network: Network | None, route_code: str) -> tuple[list[tuple[float, float]],
                                                                    list[tuple[float, float]],
                                                                    list[tuple[str, float, float]]]:
    """The corridor's outline, the route's line and its clearance points (WGS84)."""
    route = network.routes.get(route_code) if network is not None else None
    if network is None or route is None:
        return [], [], []
    ring = route.corridor_geojson()["coordinates"][0]
    points = [(code, point.longitude, point.latitude) for code, point in network.points.items()
              if code in (route.origin, route.control_point, route.destination)]
    return [(float(x), float(y)) for x, y in ring], [(float(x), float(y)) for x, y in route.path], points


def journey_view(session: Session, journey_id: str | None, declaration_id: str | None,
                 network: Network | None = None) -> JourneyView | None:
    """The journey by id, else the declaration's latest journey; None when there is none.
    With the ``network``, the view carries the route's corridor to draw the track over."""
    journey = session.get(Journey, journey_id) if journey_id else None
    if journey is None and declaration_id:
        journey = session.scalar(select(Journey).where(Journey.declaration_id == declaration_id)
                                 .order_by(Journey.opened_at.desc()).limit(1))
    if journey is None:
        return None
    readings = track(session, journey)
    corridor, route_path, points = _route_shape(network, journey.route_code)
    return JourneyView(
        id=journey.id, state=journey.state, elock_id=journey.elock_id,
        route=f"{journey.origin} → {journey.control_point} → {journey.destination} ({journey.route_code})",
        timeline=[{"at": e.occurred_at, "kind": e.kind, "state": e.state_to, "actor": e.actor, "note": e.note}
                  for e in journey.timeline],
        alerts=[{"at": a.occurred_at, "kind": a.kind, "message": a.message} for a in journey.alerts],
        track=[(reading.longitude, reading.latitude) for reading in readings],
        readings=[Reading(r.longitude, r.latitude, r.inside_corridor) for r in readings],
        corridor=corridor, route_path=route_path, points=points,
    )
