"""Running a scheduled job: one transaction, run once across instances, its outcome recorded.

On PostgreSQL each run takes a transaction-scoped advisory lock named after the job, so when
several hosts run the scheduler a job still runs once per period; SQLite is one host.
"""
from __future__ import annotations

import logging
import zlib
from collections.abc import Callable
from datetime import date

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from app.db import models
from app.domain.time import hong_kong_date
from app.platform.clock import utcnow

log = logging.getLogger("csw.jobs")

Job = Callable[[Session, date], dict[str, object]]


def _advisory_lock(session: Session, job: str) -> bool:
    """True when this run may go ahead (always on SQLite; on PostgreSQL, when no other
    instance holds the job's lock)."""
    if session.get_bind().dialect.name != "postgresql":
        return True
    key = zlib.crc32(job.encode())
    return bool(session.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": key}))


def run_job(sessions: sessionmaker[Session], job: str, work: Job, today: date | None = None) -> models.JobRun | None:
    """Run ``work`` in one transaction (its events handled before the commit) and record the
    run, with its outcome, either way."""
    started = utcnow()
    today = today or hong_kong_date(started)
    with sessions() as session:
        try:
            with session.begin():
                if not _advisory_lock(session, job):
                    log.info("job %s already running elsewhere; skipped", job)
                    return None
                detail = work(session, today)
                run = models.JobRun(job=job, started_at=started, finished_at=utcnow(), outcome="ok", detail=detail)
                session.add(run)
        except Exception as exc:  # noqa: BLE001 - a failed run is recorded, not lost
            log.exception("job %s failed", job)
            with session.begin():
                run = models.JobRun(job=job, started_at=started, finished_at=utcnow(), outcome="failed",
                                    detail={"error": f"{type(exc).__name__}: {exc}"})
                session.add(run)
        log.info("job %s: %s", job, run.outcome, extra={"fields": {"job": job, "detail": run.detail}})
        return run
