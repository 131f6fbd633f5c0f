"""The officers' case queue as pure rules: case states, what may be decided in each, and the
priority that puts the right case on top.

A case is ``open`` (nobody has it), ``claimed`` (one officer works it), ``awaiting_documents``
(the trader was asked for documents), ``inspection`` (a physical inspection is under way,
its outcome is due) or ``closed`` (decided).
"""
from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Protocol


class CaseState(str, enum.Enum):
    OPEN = "open"
    CLAIMED = "claimed"
    AWAITING_DOCUMENTS = "awaiting_documents"
    INSPECTION = "inspection"
    CLOSED = "closed"


ACTIVE_STATES = frozenset({CaseState.OPEN, CaseState.CLAIMED, CaseState.AWAITING_DOCUMENTS, CaseState.INSPECTION})

# Lanes that put a declaration in front of an officer (green needs nobody).
CASE_LANES = ("yellow", "red")
AEO_CLAIM_RULE = "R701"


class HoldFinding(Protocol):
    """A finding of severity ``hold``, as assessed or as stored."""

    @property
    def code(self) -> str: ...

    @property
    def message_en(self) -> str: ...

    @property
    def message_zh(self) -> str | None: ...


def case_reasons(lane: str | None, holds: Iterable[HoldFinding]) -> list[dict[str, str | None]]:
    """Why a declaration needs an officer: its lane, then its hold findings (a problem with an
    AEO claim counts as ``aeo``). Empty: nobody needs to look at it."""
    reasons: list[dict[str, str | None]] = []
    if lane in CASE_LANES:
        reasons.append({"source": "lane", "code": lane, "message": f"assigned to the {lane} lane"})
    for finding in holds:
        reasons.append({"source": "aeo" if finding.code == AEO_CLAIM_RULE else "hold", "code": finding.code,
                        "message": finding.message_en, "message_zh": finding.message_zh})
    return reasons


class Decision(str, enum.Enum):
    RELEASE = "release"
    REQUEST_DOCUMENTS = "request_documents"
    INSPECT = "inspect"
    REFUSE = "refuse"
    REROUTE = "reroute"


class InspectionResult(str, enum.Enum):
    NO_DISCREPANCY = "no_discrepancy"
    DISCREPANCY = "discrepancy"
    SEIZURE = "seizure"


LANES = ("green", "yellow", "red")

_DECISIONS_BY_STATE: dict[CaseState, frozenset[Decision]] = {
    CaseState.OPEN: frozenset(),
    CaseState.CLAIMED: frozenset(Decision),
    CaseState.AWAITING_DOCUMENTS: frozenset({Decision.RELEASE, Decision.INSPECT, Decision.REFUSE, Decision.REROUTE}),
    CaseState.INSPECTION: frozenset(),
    CaseState.CLOSED: frozenset(),
}


class CaseRuleError(ValueError):
    """An action the case's state does not allow; ``code`` is machine-readable."""

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field


def allowed_decisions(state: CaseState, has_declaration: bool) -> frozenset[Decision]:
    """Decisions open to the officer holding a case. Alerts without a declaration can only be
    closed by a decision that does not touch a declaration (release = no further action)."""
    allowed = _DECISIONS_BY_STATE[state]
    if not has_declaration:
        allowed = allowed & {Decision.RELEASE, Decision.INSPECT}
    return allowed


def check_decision(state: CaseState, decision: Decision, has_declaration: bool, reason: str,
                   lane: str | None, current_lane: str | None) -> None:
    """Raise ``CaseRuleError`` when ``decision`` is not allowed now or lacks what it needs."""
    if decision not in allowed_decisions(state, has_declaration):
        raise CaseRuleError("DECISION_NOT_ALLOWED", f"{decision.value} is not allowed while the case is {state.value}",
                            "decision")
    if decision in (Decision.REROUTE, Decision.REFUSE, Decision.REQUEST_DOCUMENTS) and not reason.strip():
        raise CaseRuleError("REASON_REQUIRED", f"{decision.value} needs a reason", "reason")
    if decision is Decision.REROUTE:
        if lane not in LANES:
            raise CaseRuleError("LANE_INVALID", f"lane must be one of {', '.join(LANES)}", "lane")
        if lane == current_lane:
            raise CaseRuleError("LANE_UNCHANGED", f"the case is already in the {lane} lane", "lane")


def can_record_inspection(state: CaseState) -> bool:
    return state is CaseState.INSPECTION


@dataclass(frozen=True, slots=True)
class PriorityInputs:
    risk_score: int
    revenue_at_stake: Decimal
    aeo_priority: int
    deadline_at: datetime | None
    escalation_level: int = 0


def priority(inputs: PriorityInputs, now: datetime) -> int:
    """Higher first, in points: risk score x 10 (0-1000, the heaviest weight); revenue at
    stake +100 / +200 / +300 from HK$1,000 / 10,000 / 100,000; +150 per level of AEO queue
    priority (``rules/aeo/benefits.toml``: Tier 1 = 1, Tier 2 = 2), so AEO goods clear first;
    a deadline within 2 hours +400, within 12 hours +200; +150 per escalation. Age breaks
    ties in the queue (oldest first), and escalation lifts cases left unclaimed too long."""
    score = max(0, min(100, inputs.risk_score)) * 10
    revenue = max(Decimal(0), inputs.revenue_at_stake)
    for threshold, points in ((Decimal(100_000), 30), (Decimal(10_000), 20), (Decimal(1_000), 10)):
        if revenue >= threshold:
            score += points * 10
            break
    score += 150 * max(0, inputs.aeo_priority)
    if inputs.deadline_at is not None:
        remaining = inputs.deadline_at - now
        if remaining <= timedelta(hours=2):
            score += 400
        elif remaining <= timedelta(hours=12):
            score += 200
    score += 150 * max(0, inputs.escalation_level)
    return score


def escalation_due(state: CaseState, opened_at: datetime, escalation_level: int, now: datetime,
                   after: timedelta, max_level: int = 3) -> bool:
    """An unclaimed case escalates once per ``after`` it stays unclaimed (up to ``max_level``)."""
    if state is not CaseState.OPEN or escalation_level >= max_level:
        return False
    return now - opened_at >= after * (escalation_level + 1)
