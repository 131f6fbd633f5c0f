"""The history of the rules in force: one event per change of ``rules/``'s content hash."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.models import RulesVersionEvent
from app.rules.assessment import RuleSet


def record_activation(session: Session, rule_set: RuleSet, actor: str, now: datetime) -> RulesVersionEvent | None:
    """Record ``rule_set`` as the rules in force unless it already is; the new event, or None."""
    latest = session.scalar(select(RulesVersionEvent).order_by(RulesVersionEvent.id.desc()).limit(1))
    if latest is not None and latest.version == rule_set.version:
        return None
    event = RulesVersionEvent(version=rule_set.version, previous_version=latest.version if latest else None,
                              rule_count=len(rule_set.rules), actor=actor, occurred_at=now)
    session.add(event)
    return event


def history(session: Session) -> list[RulesVersionEvent]:
    return list(session.scalars(select(RulesVersionEvent).order_by(RulesVersionEvent.id)))
