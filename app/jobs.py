"""Scheduled jobs (APScheduler): thin wrappers that call services and record each run.

The scheduler runs once per host, in the gunicorn master (``app/gunicorn_conf.py``), not
in every worker. Jobs are idempotent, so a second host running the same job does no harm;
on PostgreSQL a transaction-level advisory lock keeps runs from overlapping.
"""
from __future__ import annotations

import logging
import zlib
from collections.abc import Callable
from datetime import date, datetime, timezone

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from app.aeo.service import expire_registrations
from app.cases.escalation import case_escalation
from app.audit.service import seal
from app.db import models
from app.domain.time import HONG_KONG, hong_kong_date
from app.risk.jobs import risk_retrain
from app.routing.jobs import outbox_purge, schedule_routing

log = logging.getLogger("csw.jobs")

AUDIT_SEAL_SECONDS = 30


def _advisory_lock(session: Session, job: str) -> bool:
    """True when this run may go ahead (always on SQLite; on PostgreSQL, when no other
    instance holds the job's lock)."""
    if session.get_bind().dialect.name != "postgresql":
        return True
    key = zlib.crc32(job.encode())
    return bool(session.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": key}))


def run_job(sessions: sessionmaker[Session], job: str, work: Callable[[Session, date], dict[str, object]],
            today: date | None = None) -> models.JobRun | None:
    """Run ``work`` in one transaction and record the run (with its outcome) either way."""
    started = datetime.now(timezone.utc)
    today = today or hong_kong_date(started)
    with sessions() as session:
        try:
            with session.begin():
                if not _advisory_lock(session, job):
                    log.info("job %s already running elsewhere; skipped", job)
                    return None
                detail = work(session, today)
                run = models.JobRun(job=job, started_at=started, finished_at=datetime.now(timezone.utc),
                                    outcome="ok", detail=detail)
                session.add(run)
        except Exception as exc:  # noqa: BLE001 - a failed run is recorded, not lost
            log.exception("job %s failed", job)
            with session.begin():
                run = models.JobRun(job=job, started_at=started, finished_at=datetime.now(timezone.utc),
                                    outcome="failed", detail={"error": f"{type(exc).__name__}: {exc}"})
                session.add(run)
        log.info("job %s: %s", job, run.outcome, extra={"fields": {"job": job, "detail": run.detail}})
        return run


def aeo_expiry(session: Session, today: date) -> dict[str, object]:
    """Mark registrations past their end date expired; list renewals due within 6 months."""
    report = expire_registrations(session, today, actor="job:aeo-expiry")
    return {"expired": list(report.expired), "renewals_due": list(report.renewals_due), "day": today.isoformat()}


def audit_seal(session: Session, today: date) -> dict[str, object]:
    """Link the event rows written since the last run onto the tamper-evident audit chain."""
    report = seal(session, datetime.now(timezone.utc))
    return {"sealed": report.sealed, "head_sequence": report.head_sequence, "head_hash": report.head_hash}


def elock_overdue(session: Session, today: date) -> dict[str, object]:
    """E-lock journeys not arrived within their route's maximum time, or silent too long."""
    from app.transit.service import check_overdue

    alerts = check_overdue(session, datetime.now(timezone.utc))
    return {"alerts": [{"journey_id": a.journey_id, "kind": a.kind} for a in alerts]}


JOBS: dict[str, Callable[[Session, date], dict[str, object]]] = {"aeo-expiry": aeo_expiry, "audit-seal": audit_seal,
                                                                 "elock-overdue": elock_overdue}
JOBS["case-escalation"] = case_escalation
JOBS["outbox-purge"] = outbox_purge
JOBS["risk-retrain"] = risk_retrain


def start_scheduler(sessions: sessionmaker[Session]) -> BackgroundScheduler:
    """AEO expiry daily at 00:05 Hong Kong time (a missed run, host down, runs once when it is
    back); audit sealing every ``AUDIT_SEAL_SECONDS``."""
    scheduler = BackgroundScheduler(timezone=HONG_KONG)
    scheduler.add_job(run_job, CronTrigger(hour=0, minute=5, timezone=HONG_KONG), args=(sessions, "aeo-expiry",
                      aeo_expiry), id="aeo-expiry", coalesce=True, max_instances=1, misfire_grace_time=6 * 3600)
    scheduler.add_job(run_job, IntervalTrigger(seconds=AUDIT_SEAL_SECONDS), args=(sessions, "audit-seal", audit_seal),
                      id="audit-seal", coalesce=True, max_instances=1)
    scheduler.add_job(run_job, IntervalTrigger(minutes=1), args=(sessions, "elock-overdue", elock_overdue),
                      id="elock-overdue", coalesce=True, max_instances=1)
    scheduler.add_job(run_job, IntervalTrigger(minutes=5), args=(sessions, "case-escalation", case_escalation),
                      id="case-escalation", coalesce=True, max_instances=1)
    scheduler.add_job(run_job, CronTrigger(day_of_week="sun", hour=3, minute=30, timezone=HONG_KONG),
                      args=(sessions, "risk-retrain", risk_retrain), id="risk-retrain", coalesce=True,
                      max_instances=1, misfire_grace_time=24 * 3600)  # weekly; promotes only a better model
    schedule_routing(scheduler, sessions)  # outbox dispatcher every few seconds; outbox purge daily
    scheduler.start()
    return scheduler
