"""Inspection outcomes recorded by officers become the model's training data."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import models
from app.db.risk_models import InspectionOutcome, RiskAssessment
from app.domain.problems import Problem, Rejection
from app.domain.risk import InspectionResult

RESULTS = tuple(result.value for result in InspectionResult)


def record_outcome(session: Session, *, declaration_id: str, result: str, revenue_recovered: Decimal,
                   actor: str, occurred_at: datetime, note: str | None = None,
                   random_sample: bool | None = None) -> None:
    """Store what an inspection found, against the declaration version that was inspected.

    ``random_sample`` None takes the flag from the stored risk assessment, so targeted and
    random hit rates can be told apart later. The caller commits."""
    if result not in RESULTS:
        raise Rejection("INVALID_PARAMETER", f"result must be one of {', '.join(RESULTS)}",
                        [Problem(message=f"got {str(result)[:30]!r}", path="result", rule="enumeration")])
    if revenue_recovered < 0:
        raise Rejection("INVALID_PARAMETER", "revenue recovered cannot be negative",
                        [Problem(message=f"got {revenue_recovered}", path="revenue_recovered", rule="minimum")])
    row = session.get(models.Declaration, declaration_id)
    if row is None:
        raise Rejection("NOT_FOUND", f"no declaration {declaration_id}")
    assessment = session.scalar(select(RiskAssessment).where(
        RiskAssessment.declaration_id == declaration_id, RiskAssessment.version == row.version))
    if random_sample is None and assessment is not None:
        random_sample = assessment.random_sample
    session.add(InspectionOutcome(
        declaration_id=declaration_id, version=row.version, result=result,
        revenue_recovered=revenue_recovered, random_sample=random_sample,
        lane=assessment.lane if assessment else row.lane,
        score=assessment.score if assessment else row.risk_score, actor=actor,
        occurred_at=occurred_at, note=note,
    ))
    session.flush()
