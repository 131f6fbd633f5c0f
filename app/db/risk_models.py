"""Tables of the risk capability (typed SQLAlchemy models on the shared ``Base``)."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db.models import Base, Money, UtcDateTime


class RiskAssessment(Base):
    """The full risk assessment of one version of a declaration: score, probability, revenue at
    stake, the reasons with their points, the model and lane policy used and the random draw."""

    __tablename__ = "risk_assessments"
    __table_args__ = (UniqueConstraint("declaration_id", "version", name="uq_risk_assessments_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    declaration_id: Mapped[str] = mapped_column(ForeignKey("declarations.id"))
    version: Mapped[int] = mapped_column(Integer)
    score: Mapped[int] = mapped_column(Integer)
    probability: Mapped[float] = mapped_column(Float)
    revenue_at_stake: Mapped[Decimal] = mapped_column(Money)
    lane: Mapped[str] = mapped_column(String(10))
    lane_reason: Mapped[str] = mapped_column(Text)
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    random_sample: Mapped[bool] = mapped_column(Boolean)
    sample_draw: Mapped[float] = mapped_column(Float)
    sample_seed: Mapped[str] = mapped_column(String(64))
    model_version: Mapped[str] = mapped_column(String(64))
    policy_version: Mapped[str] = mapped_column(String(64))
    assessed_at: Mapped[datetime] = mapped_column(UtcDateTime)


class InspectionOutcome(Base):
    """What an officer found when a declaration was checked: the labelled example the model
    learns from (``discrepancy``/``seizure`` = fraud), with the revenue recovered."""

    __tablename__ = "inspection_outcomes"
    __table_args__ = (Index("ix_inspection_outcomes_occurred", "occurred_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    declaration_id: Mapped[str] = mapped_column(ForeignKey("declarations.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    result: Mapped[str] = mapped_column(String(20))
    revenue_recovered: Mapped[Decimal] = mapped_column(Money)
    random_sample: Mapped[bool | None] = mapped_column(Boolean)
    lane: Mapped[str | None] = mapped_column(String(10))
    score: Mapped[int | None] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(String(120))
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
    note: Mapped[str | None] = mapped_column(Text)


class RiskModelPromotion(Base):
    """Every retraining decision: the candidate, the model in force, both on the same held-out
    period, and whether the candidate was promoted (an audit trail of what scored when)."""

    __tablename__ = "risk_model_promotions"

    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_version: Mapped[str] = mapped_column(String(64))
    current_version: Mapped[str | None] = mapped_column(String(64))
    promoted: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(Text)
    candidate_metrics: Mapped[dict[str, Any]] = mapped_column(JSON)
    current_metrics: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    artefact_path: Mapped[str] = mapped_column(String(500))
    actor: Mapped[str] = mapped_column(String(120))
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
