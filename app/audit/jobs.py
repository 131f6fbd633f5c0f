"""The audit-seal job (wired into ``app.jobs.JOBS``)."""
from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from app.audit.service import seal
from app.platform.clock import utcnow


def audit_seal(session: Session, today: date) -> dict[str, object]:
    """Link the event rows written since the last run onto the tamper-evident audit chain."""
    report = seal(session, utcnow())
    return {"sealed": report.sealed, "head_sequence": report.head_sequence, "head_hash": report.head_hash}
