"""Supervisor dashboard figures: volumes per day, lane mix, time to clearance, inspection hit
rate (targeted vs random sample) and open cases by age. Hong Kong days throughout."""
from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import ColumnElement, SQLColumnExpression, case, func, select
from sqlalchemy.orm import Session

from app.db import models
from app.db.case_models import Case
from app.db.risk_models import InspectionOutcome
from app.domain.cases import InspectionResult
from app.domain.time import hong_kong_date
from app.platform.clock import utcnow

AGE_BUCKETS: tuple[tuple[str, timedelta | None], ...] = (
    ("< 1 h", timedelta(hours=1)), ("1-4 h", timedelta(hours=4)), ("4-24 h", timedelta(hours=24)),
    ("1-3 d", timedelta(days=3)), ("> 3 d", None),
)


@dataclass(frozen=True, slots=True)
class HitRate:
    selection: str
    inspected: int
    hits: int

    @property
    def rate(self) -> float | None:
        return self.hits / self.inspected if self.inspected else None


@dataclass(frozen=True, slots=True)
class Dashboard:
    days: list[date]
    declarations_per_day: list[int]
    cases_per_day: list[int]
    lane_mix: dict[str, int]
    clearance_median_minutes: float | None
    clearance_p90_minutes: float | None
    cleared: int
    hit_rates: list[HitRate]
    open_by_age: list[tuple[str, int]]


def _hong_kong_day(column: SQLColumnExpression[datetime], dialect: str) -> ColumnElement[str]:
    """The Hong Kong calendar day of a UTC timestamp, as 'YYYY-MM-DD' (HK has no DST)."""
    if dialect == "postgresql":
        return func.to_char(func.timezone("Asia/Hong_Kong", column), "YYYY-MM-DD")
    return func.date(column, "+8 hours")


def _per_day(session: Session, column: SQLColumnExpression[datetime], since: datetime,
             days: list[date]) -> list[int]:
    dialect = session.get_bind().dialect.name
    day = _hong_kong_day(column, dialect)
    rows = session.execute(select(day, func.count()).where(column >= since).group_by(day))
    counts = {str(key): count for key, count in rows}
    return [counts.get(d.isoformat(), 0) for d in days]


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def figures(session: Session, now: datetime | None = None, window_days: int = 14) -> Dashboard:
    now = now or utcnow()
    today = hong_kong_date(now)
    days = [today - timedelta(days=offset) for offset in range(window_days - 1, -1, -1)]
    since = datetime.combine(days[0], datetime.min.time(), tzinfo=timezone(timedelta(hours=8)))
    declarations = _per_day(session, models.Declaration.received_at, since, days)
    cases = _per_day(session, Case.opened_at, since, days)
    lane_mix = {lane or "none": count for lane, count in session.execute(
        select(models.Declaration.lane, func.count()).where(models.Declaration.received_at >= since)
        .group_by(models.Declaration.lane))}
    released = session.execute(
        select(models.DeclarationEvent.occurred_at, models.Declaration.received_at)
        .join(models.Declaration, models.Declaration.id == models.DeclarationEvent.declaration_id)
        .where(models.DeclarationEvent.kind == "released", models.DeclarationEvent.occurred_at >= since)).all()
    minutes = [max(0.0, (done - received).total_seconds() / 60) for done, received in released]
    # Inspection outcomes recorded in the window (the risk module's training data), split by
    # how the declaration was selected: random compliance sample or targeted.
    hits = case((InspectionOutcome.result.in_([InspectionResult.DISCREPANCY.value, InspectionResult.SEIZURE.value]),
                 1), else_=0)
    selection = case((InspectionOutcome.random_sample.is_(True), "random"), else_="targeted")
    rates = {chosen: HitRate(chosen, inspected, int(hit or 0)) for chosen, inspected, hit in session.execute(
        select(selection, func.count(), func.sum(hits)).where(InspectionOutcome.occurred_at >= since)
        .group_by(selection))}
    hit_rates = [rates.get(selection, HitRate(selection, 0, 0)) for selection in ("targeted", "random")]
    return Dashboard(
        days=days, declarations_per_day=declarations, cases_per_day=cases, lane_mix=lane_mix,
        clearance_median_minutes=statistics.median(minutes) if minutes else None,
        clearance_p90_minutes=_percentile(minutes, 0.9) if minutes else None, cleared=len(minutes),
        hit_rates=hit_rates, open_by_age=open_cases_by_age(session, now),
    )


def open_cases_by_age(session: Session, now: datetime) -> list[tuple[str, int]]:
    """Active cases by how long ago they were opened (one query)."""
    columns = []
    lower: timedelta = timedelta(0)
    for _label, upper in AGE_BUCKETS:
        condition = Case.opened_at <= now - lower
        if upper is not None:
            condition = condition & (Case.opened_at > now - upper)
        columns.append(func.sum(case((condition, 1), else_=0)))
        lower = upper or lower
    row = session.execute(select(*columns).where(Case.active.is_(True))).one()
    return [(label, int(count or 0)) for (label, _upper), count in zip(AGE_BUCKETS, row, strict=True)]
