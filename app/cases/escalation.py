"""The case-escalation job: cases nobody claimed within ``CSW_CASE_ESCALATION_MINUTES``
(default 30) climb the queue, once per period waited (up to three times)."""
from __future__ import annotations

import os
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from app.cases.service import escalate_unclaimed
from app.platform.clock import utcnow

DEFAULT_MINUTES = 30


def escalation_after() -> timedelta:
    raw = os.environ.get("CSW_CASE_ESCALATION_MINUTES", "")
    minutes = int(raw) if raw.isdigit() and int(raw) > 0 else DEFAULT_MINUTES
    return timedelta(minutes=minutes)


def case_escalation(session: Session, today: date, now: datetime | None = None) -> dict[str, object]:
    """Scheduled every few minutes by ``app.jobs``; idempotent (a case escalates once per period)."""
    escalated = escalate_unclaimed(session, now or utcnow(), escalation_after())
    return {"escalated": len(escalated), "case_ids": escalated[:100]}
