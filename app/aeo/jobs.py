"""The daily AEO expiry job (wired into ``app.jobs.JOBS`` as ``aeo-expiry``)."""
from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from app.aeo.service import expire_registrations


def aeo_expiry(session: Session, today: date) -> dict[str, object]:
    """Mark registrations past their end date expired; list renewals due within 6 months."""
    report = expire_registrations(session, today, actor="job:aeo-expiry")
    return {"expired": list(report.expired), "renewals_due": list(report.renewals_due), "day": today.isoformat()}
