"""Running a scheduled job: one transaction, run once per period across instances, its
outcome recorded.

A scheduled run claims its period (``job_periods``: the job and a Hong Kong date, or the n-th
interval since the epoch) in its own transaction: when several schedulers fire (scale-out, or
two for availability), the first claim wins and the others skip; a run that fails rolls its
claim back, so the next firing in the period retries. On PostgreSQL each run also takes a
transaction-scoped advisory lock named after the job, so runs never overlap. A run started by
hand (``csw jobs run``) claims no period.
"""
from __future__ import annotations

import logging
import zlib
from collections.abc import Callable
from datetime import date, datetime

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from app.db import models
from app.domain.time import hong_kong_date
from app.platform.clock import utcnow
from app.platform.uow import Database

log = logging.getLogger("csw.jobs")

Job = Callable[[Session, date], dict[str, object]]
Period = Callable[[datetime], str]


def every(seconds: int) -> Period:
    """Periods of an interval job: the n-th ``seconds`` since the epoch."""
    def period(moment: datetime) -> str:
        return f"{seconds}s:{int(moment.timestamp()) // seconds}"
    return period


def daily(moment: datetime) -> str:
    """Periods of a daily job: the Hong Kong date."""
    return hong_kong_date(moment).isoformat()


def weekly(moment: datetime) -> str:
    """Periods of a weekly job: the ISO week of the Hong Kong date."""
    year, week, _ = hong_kong_date(moment).isocalendar()
    return f"{year}-W{week:02d}"


def _claim(session: Session, job: str, period: str, now: datetime) -> bool:
    """Claim the job's period in this transaction; False when another run has it."""
    table = models.table_of(models.JobPeriod)
    insert = (postgresql_insert(table) if session.get_bind().dialect.name == "postgresql" else sqlite_insert(table))
    claimed = session.execute(insert.values(job=job, period=period, claimed_at=now).on_conflict_do_nothing()
                              .returning(table.c.job)).first()
    return claimed is not None


def _advisory_lock(session: Session, job: str) -> bool:
    """True when this run may go ahead (always on SQLite; on PostgreSQL, when no other
    instance holds the job's lock)."""
    if session.get_bind().dialect.name != "postgresql":
        return True
    key = zlib.crc32(job.encode())
    return bool(session.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": key}))


def run_job(database: Database, job: str, work: Job, today: date | None = None,
            period: Period | None = None) -> models.JobRun | None:
    """Run ``work`` in one transaction behind the write gate (its events handled before the
    commit) and record the run, with its outcome, either way. ``period``: how the scheduler's runs are counted; a
    run whose period another run has already done is skipped (None)."""
    started = utcnow()
    today = today or hong_kong_date(started)
    done_for = period(started) if period is not None else None
    try:
        with database.writing() as session:  # behind the write gate, as the web's writers
            if not _advisory_lock(session, job):
                log.info("job %s already running elsewhere; skipped", job)
                return None
            if done_for is not None and not _claim(session, job, done_for, started):
                log.info("job %s already ran for period %s; skipped", job, done_for)
                return None
            detail = work(session, today)
            run = models.JobRun(job=job, started_at=started, finished_at=utcnow(), outcome="ok", detail=detail,
                                period=done_for)
            session.add(run)
    except Exception as exc:  # noqa: BLE001 - a failed run is recorded, not lost
        log.exception("job %s failed", job)
        with database.writing() as session:
            run = models.JobRun(job=job, started_at=started, finished_at=utcnow(), outcome="failed",
                                detail={"error": f"{type(exc).__name__}: {exc}"}, period=done_for)
            session.add(run)
    log.info("job %s: %s", job, run.outcome, extra={"fields": {"job": job, "detail": run.detail}})
    return run
