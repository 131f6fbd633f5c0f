"""The every-minute e-lock check (wired into ``app.jobs.JOBS`` as ``elock-overdue``)."""
from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from app.platform.clock import utcnow
from app.transit.network import current_network
from app.transit.service import check_overdue


def elock_overdue(session: Session, today: date) -> dict[str, object]:
    """E-lock journeys not arrived within their route's maximum time, or silent too long."""
    alerts = check_overdue(session, utcnow(), current_network())
    return {"alerts": [{"journey_id": a.journey_id, "kind": a.kind} for a in alerts]}
