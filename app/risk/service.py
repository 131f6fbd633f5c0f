"""Risk use cases that touch the database: store an assessment with its declaration version,
read the latest one for officers, and the cheap per-worker look-ups scoring needs."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from app.db import models
from app.db.session import Writer, connection_of
from app.db.risk_models import RiskAssessment
from app.domain.risk import LanePolicy, LaneThresholds, RiskResult, thresholds_for_rates
from app.risk.factors import TraderHistory
from app.platform.cache import TtlCache
from app.platform.uow import insert_later


@dataclass(frozen=True, slots=True)
class RiskView:
    """What an officer's case view shows about the risk of a declaration."""

    declaration_id: str
    version: int
    score: int
    lane: str
    lane_reason: str
    probability: float
    revenue_at_stake: Decimal
    reasons: list[tuple[float, str]]
    random_sample: bool
    model_version: str
    policy_version: str
    assessed_at: datetime


def reasons_payload(result: RiskResult) -> list[dict[str, object]]:
    return [{"code": r.code, "points": r.points, "text": r.text} for r in result.reasons]


def store_assessment(writer: Writer, declaration_id: str, version: int, result: RiskResult,
                     now: datetime, *, unread: bool = False) -> None:
    """The full assessment in ``risk_assessments`` and the summary on the declaration row, in the
    caller's transaction (lane, score and revenue at stake are what queues and lists read).
    ``unread``: nothing reads it back in this unit of work (no case opens for it), so a batch
    being stored may insert it with the others (``insert_later``)."""
    row = {
        "declaration_id": declaration_id, "version": version, "score": result.score,
        "probability": result.probability, "revenue_at_stake": result.revenue_at_stake,
        "lane": result.lane.value, "lane_reason": result.lane_reason, "reasons": reasons_payload(result),
        "random_sample": result.random_sample, "sample_draw": result.sample_draw,
        "sample_seed": result.sample_seed, "model_version": result.model_version,
        "policy_version": result.policy_version, "assessed_at": now,
    }
    if unread and isinstance(writer, Session) and insert_later(writer, _ASSESSMENTS, row):
        return
    connection_of(writer).execute(_ASSESSMENTS.insert(), [row])


_ASSESSMENTS = models.table_of(RiskAssessment)


def declaration_values(result: RiskResult | None) -> dict[str, object]:
    """Columns of the declaration row that carry the risk summary."""
    if result is None:
        return {}
    return {"lane": result.lane.value, "risk_score": result.score, "revenue_at_stake": result.revenue_at_stake}


def latest_assessment(session: Session, declaration_id: str) -> RiskView | None:
    """The assessment of the declaration's latest scored version, or None."""
    row = session.scalar(select(RiskAssessment).where(RiskAssessment.declaration_id == declaration_id)
                         .order_by(RiskAssessment.version.desc()).limit(1))
    if row is None:
        return None
    return RiskView(
        declaration_id=row.declaration_id, version=row.version, score=row.score, lane=row.lane,
        lane_reason=row.lane_reason, probability=row.probability, revenue_at_stake=row.revenue_at_stake,
        reasons=[(float(r["points"]), str(r["text"])) for r in row.reasons],
        random_sample=row.random_sample, model_version=row.model_version, policy_version=row.policy_version,
        assessed_at=row.assessed_at,
    )


def importer_history(session: Session, identifier: str, cache: TtlCache[str, int]) -> TraderHistory:
    """How many stored declarations name ``identifier`` as importer: one indexed count per
    importer per cache period (``CSW_RISK_HISTORY_CACHE_SECONDS``), not one per request."""
    if not identifier:
        return TraderHistory(None)
    hit, count = cache.get(identifier)
    if not hit:
        count = session.scalar(select(func.count(func.distinct(models.DeclarationParty.declaration_id))).where(
            models.DeclarationParty.identifier == identifier, models.DeclarationParty.role == "importer")) or 0
        cache.put(identifier, count)
    return TraderHistory(count)


def recent_thresholds(session: Session, policy: LanePolicy,
                      cache: TtlCache[str, LaneThresholds | None]) -> LaneThresholds | None:
    """Thresholds meeting the policy's target rates over the latest assessments, when the policy
    asks for them (``[targets] derive``): one read of ``window`` scores per worker per cache period."""
    if not policy.derive_thresholds or policy.target_red_rate is None or policy.target_yellow_rate is None:
        return None
    hit, found = cache.get(policy.version)
    if hit:
        return found
    scores = list(session.scalars(select(RiskAssessment.score).order_by(RiskAssessment.id.desc())
                                  .limit(policy.recent_window)))
    found = (thresholds_for_rates(scores, policy.target_red_rate, policy.target_yellow_rate)
             if len(scores) >= policy.recent_minimum else None)
    cache.put(policy.version, found)
    return found


def transit_alerts(session: Session, elock_ids: list[str], declaration_id: str | None) -> tuple[str, ...]:
    """Open e-lock alerts for the declaration's journey, when the transit capability stores them
    (table ``journey_alerts``); none otherwise. Read-only and keyed by e-lock or declaration."""
    table = models.Base.metadata.tables.get("journey_alerts")
    if table is None or (not elock_ids and not declaration_id):
        return ()
    kind = next((table.c[name] for name in ("kind", "alert_type", "code", "type") if name in table.c), None)
    if kind is None:
        return ()
    conditions = []
    if "declaration_id" in table.c and declaration_id:
        conditions.append(table.c.declaration_id == declaration_id)
    if "elock_id" in table.c and elock_ids:
        conditions.append(table.c.elock_id.in_(elock_ids))
    if not conditions:
        return ()
    return tuple(sorted({str(value) for value in session.scalars(select(kind).where(or_(*conditions)))}))
