"""Scheduled jobs (APScheduler): thin wrappers that call services and record each run.

The scheduler runs once per host, in the gunicorn master (``app/gunicorn_conf.py``), not
in every worker. Jobs are idempotent, so a second host running the same job does no harm;
on PostgreSQL a transaction-level advisory lock keeps runs from overlapping.
"""
from __future__ import annotations

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from app.aeo.jobs import aeo_expiry
from app.audit.jobs import audit_seal
from app.cases.escalation import case_escalation
from app.domain.time import HONG_KONG
from app.config import Settings
from app.platform.jobs import Job, daily, every, run_job, weekly
from app.platform.uow import Database
from app.risk.jobs import risk_retrain
from app.routing.jobs import outbox_purge, schedule_routing
from app.transit.jobs import elock_overdue
from app.writeoff.jobs import cargo_write_off

__all__ = ["JOBS", "run_job", "start_scheduler"]

JOBS: dict[str, Job] = {
    "aeo-expiry": aeo_expiry, "audit-seal": audit_seal, "elock-overdue": elock_overdue,
    "case-escalation": case_escalation, "outbox-purge": outbox_purge, "risk-retrain": risk_retrain,
    "cargo-write-off": cargo_write_off,
}


def start_scheduler(database: Database, settings: Settings | None = None) -> BackgroundScheduler:
    """AEO expiry daily at 00:05 and the cargo write-off follow-up at 00:20 Hong Kong time (a
    missed run, host down, runs once when it is back); audit sealing, e-lock overdue checks and
    case escalation at their intervals (``CSW_AUDIT_SEAL_SECONDS``, ``CSW_ELOCK_OVERDUE_SECONDS``,
    ``CSW_CASE_ESCALATION_SECONDS``); each once per period however many schedulers run (``app.platform.jobs``)."""
    settings = settings or Settings.from_env()
    scheduler = BackgroundScheduler(timezone=HONG_KONG)

    def interval(job: str, seconds: int) -> None:
        # However late a busy host wakes the scheduler, the period's run still happens (the
        # default grace of 1 s would drop it); a period missed entirely coalesces into one run.
        scheduler.add_job(run_job, IntervalTrigger(seconds=seconds), args=(database, job, JOBS[job]),
                          kwargs={"period": every(seconds)}, id=job, coalesce=True, max_instances=1,
                          misfire_grace_time=None)

    scheduler.add_job(run_job, CronTrigger(hour=0, minute=5, timezone=HONG_KONG), args=(database, "aeo-expiry",
                      aeo_expiry), kwargs={"period": daily}, id="aeo-expiry", coalesce=True, max_instances=1,
                      misfire_grace_time=6 * 3600)
    interval("audit-seal", settings.audit_seal_seconds)
    interval("elock-overdue", settings.elock_overdue_seconds)
    interval("case-escalation", settings.case_escalation_seconds)
    scheduler.add_job(run_job, CronTrigger(hour=0, minute=20, timezone=HONG_KONG), args=(database, "cargo-write-off",
                      cargo_write_off), kwargs={"period": daily}, id="cargo-write-off", coalesce=True,
                      max_instances=1, misfire_grace_time=6 * 3600)  # lines left open: cases and notices
    scheduler.add_job(run_job, CronTrigger(day_of_week="sun", hour=3, minute=30, timezone=HONG_KONG),
                      args=(database, "risk-retrain", risk_retrain), kwargs={"period": weekly}, id="risk-retrain",
                      coalesce=True, max_instances=1, misfire_grace_time=24 * 3600)  # promotes only a better model
    schedule_routing(scheduler, database)  # outbox dispatcher every few seconds; outbox purge daily
    scheduler.start()
    return scheduler
