"""Scheduled jobs (APScheduler): thin wrappers that call services and record each run.

The scheduler runs once per host, in the gunicorn master (``app/gunicorn_conf.py``), not
in every worker. Jobs are idempotent, so a second host running the same job does no harm;
on PostgreSQL a transaction-level advisory lock keeps runs from overlapping.
"""
from __future__ import annotations

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.orm import Session, sessionmaker

from app.aeo.jobs import aeo_expiry
from app.audit.jobs import audit_seal
from app.cases.escalation import case_escalation
from app.domain.time import HONG_KONG
from app.platform.jobs import Job, run_job
from app.risk.jobs import risk_retrain
from app.routing.jobs import outbox_purge, schedule_routing
from app.transit.jobs import elock_overdue

__all__ = ["JOBS", "run_job", "start_scheduler"]

AUDIT_SEAL_SECONDS = 30


JOBS: dict[str, Job] = {
    "aeo-expiry": aeo_expiry, "audit-seal": audit_seal, "elock-overdue": elock_overdue,
    "case-escalation": case_escalation, "outbox-purge": outbox_purge, "risk-retrain": risk_retrain,
}


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
