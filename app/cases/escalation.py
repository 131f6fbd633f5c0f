"""The case-escalation job: cases nobody claimed within ``CSW_CASE_ESCALATION_MINUTES``
(default 30) climb the queue, once per period waited (up to three times)."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from app.cases.service import escalate_unclaimed
from app.config import Settings
from app.platform.clock import utcnow


def case_escalation(session: Session, today: date, now: datetime | None = None) -> dict[str, object]:
    """Scheduled every few minutes by ``app.jobs``; idempotent (a case escalates once per period)."""
    after = timedelta(minutes=Settings.from_env().case_escalation_minutes)
    escalated = escalate_unclaimed(session, now or utcnow(), after)
    return {"escalated": len(escalated), "case_ids": escalated[:100]}
