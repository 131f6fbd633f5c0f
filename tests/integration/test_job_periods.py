"""A scheduled job runs once per period however many schedulers fire it (scale-out, or two
for availability); a run that fails leaves its period to the next firing."""
from __future__ import annotations

from datetime import date, datetime, timezone

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import models
from app.platform.jobs import daily, every, run_job, weekly


def counting(calls: list[date]):  # type: ignore[no-untyped-def]
    def work(_session: Session, today: date) -> dict[str, object]:
        calls.append(today)
        return {"calls": len(calls)}
    return work


def test_a_second_firing_in_the_same_period_is_skipped(clean_app: Flask) -> None:
    database = clean_app.extensions["csw"].database
    sessions = database.sessions
    calls: list[date] = []
    first = run_job(database, "audit-seal", counting(calls), period=lambda _now: "p-1")
    second = run_job(database, "audit-seal", counting(calls), period=lambda _now: "p-1")
    third = run_job(database, "audit-seal", counting(calls), period=lambda _now: "p-2")
    by_hand = run_job(database, "audit-seal", counting(calls))  # csw jobs run: always runs
    assert first is not None and second is None and third is not None and by_hand is not None
    assert len(calls) == 3
    with sessions() as session:
        periods = session.scalars(select(models.JobRun.period).where(models.JobRun.job == "audit-seal")
                                  .order_by(models.JobRun.id)).all()
    assert periods == ["p-1", "p-2", None]


def test_a_failed_run_leaves_its_period_to_a_retry(clean_app: Flask) -> None:
    database = clean_app.extensions["csw"].database

    def failing(_session: Session, _today: date) -> dict[str, object]:
        raise RuntimeError("database went away")

    failed = run_job(database, "case-escalation", failing, period=lambda _now: "p-9")
    assert failed is not None and failed.outcome == "failed" and failed.period == "p-9"
    retried = run_job(database, "case-escalation", counting([]), period=lambda _now: "p-9")
    assert retried is not None and retried.outcome == "ok"


def test_periods_of_interval_daily_and_weekly_jobs() -> None:
    moment = datetime(2026, 12, 6, 16, 30, 5, tzinfo=timezone.utc)  # 00:30 on 7 Dec in Hong Kong
    assert every(30)(moment) == every(30)(moment.replace(second=29)) != every(30)(moment.replace(second=31))
    assert daily(moment) == "2026-12-07"
    assert weekly(moment) == "2026-W50"
