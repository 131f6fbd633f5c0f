"""Pure rules of the case queue: priority, decisions allowed per state, escalation."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from app.domain.cases import (
    CaseRuleError,
    CaseState,
    Decision,
    PriorityInputs,
    allowed_decisions,
    can_record_inspection,
    case_reasons,
    check_decision,
    escalation_due,
    priority,
)
from app.domain.findings import Finding, Severity

NOW = datetime(2026, 11, 22, 2, 0, tzinfo=timezone.utc)


def inputs(risk: int = 0, revenue: str = "0", aeo: int = 0, deadline: datetime | None = None,
           escalation: int = 0) -> PriorityInputs:
    return PriorityInputs(risk, Decimal(revenue), aeo, deadline, escalation)


def test_risk_weighs_most_then_revenue() -> None:
    assert priority(inputs(risk=90), NOW) > priority(inputs(risk=10, revenue="1000000"), NOW)
    assert priority(inputs(risk=10, revenue="150000"), NOW) > priority(inputs(risk=10, revenue="5000"), NOW)
    assert priority(inputs(risk=10, revenue="5000"), NOW) > priority(inputs(risk=10, revenue="999"), NOW)


def test_aeo_priority_and_deadline_lift_a_case() -> None:
    base = priority(inputs(risk=40), NOW)
    assert priority(inputs(risk=40, aeo=2), NOW) > priority(inputs(risk=40, aeo=1), NOW) > base
    assert priority(inputs(risk=40, deadline=NOW + timedelta(hours=1)), NOW) > \
        priority(inputs(risk=40, deadline=NOW + timedelta(hours=6)), NOW) > \
        priority(inputs(risk=40, deadline=NOW + timedelta(days=3)), NOW) == base


def test_escalation_lifts_and_scores_are_clamped() -> None:
    assert priority(inputs(risk=40, escalation=1), NOW) > priority(inputs(risk=40), NOW)
    assert priority(inputs(risk=250), NOW) == priority(inputs(risk=100), NOW)
    assert priority(inputs(risk=-5, revenue="-100"), NOW) == 0


def test_decisions_need_a_claimed_case() -> None:
    assert allowed_decisions(CaseState.OPEN, True) == frozenset()
    assert allowed_decisions(CaseState.CLAIMED, True) == frozenset(Decision)
    assert Decision.REQUEST_DOCUMENTS not in allowed_decisions(CaseState.AWAITING_DOCUMENTS, True)
    assert allowed_decisions(CaseState.INSPECTION, True) == frozenset()
    assert allowed_decisions(CaseState.CLOSED, True) == frozenset()
    assert allowed_decisions(CaseState.CLAIMED, False) == {Decision.RELEASE, Decision.INSPECT}
    assert can_record_inspection(CaseState.INSPECTION) and not can_record_inspection(CaseState.CLAIMED)


@pytest.mark.parametrize(("decision", "reason", "lane", "code"), [
    (Decision.REFUSE, " ", None, "REASON_REQUIRED"),
    (Decision.REQUEST_DOCUMENTS, "", None, "REASON_REQUIRED"),
    (Decision.REROUTE, "", "red", "REASON_REQUIRED"),
    (Decision.REROUTE, "intelligence", "purple", "LANE_INVALID"),
    (Decision.REROUTE, "intelligence", "yellow", "LANE_UNCHANGED"),
])
def test_decisions_that_need_more(decision: Decision, reason: str, lane: str | None, code: str) -> None:
    with pytest.raises(CaseRuleError) as raised:
        check_decision(CaseState.CLAIMED, decision, True, reason, lane, "yellow")
    assert raised.value.code == code


def test_release_needs_no_reason_and_closed_cases_take_no_decision() -> None:
    check_decision(CaseState.CLAIMED, Decision.RELEASE, True, "", None, "red")
    with pytest.raises(CaseRuleError) as raised:
        check_decision(CaseState.CLOSED, Decision.RELEASE, True, "", None, "red")
    assert raised.value.code == "DECISION_NOT_ALLOWED" and raised.value.field == "decision"


def test_unclaimed_cases_escalate_once_per_period_up_to_three_times() -> None:
    after = timedelta(minutes=30)
    opened = NOW - timedelta(minutes=65)
    assert escalation_due(CaseState.OPEN, opened, 0, NOW, after)
    assert escalation_due(CaseState.OPEN, opened, 1, NOW, after)
    assert not escalation_due(CaseState.OPEN, opened, 2, NOW, after)
    assert not escalation_due(CaseState.OPEN, NOW - timedelta(minutes=10), 0, NOW, after)
    assert not escalation_due(CaseState.CLAIMED, opened, 0, NOW, after)
    assert not escalation_due(CaseState.OPEN, NOW - timedelta(days=2), 3, NOW, after)


def hold(code: str, message: str = "needs a look") -> Finding:
    return Finding(code=code, severity=Severity.HOLD, path=None, message_en=message, message_zh="需要查看")


def test_a_clean_green_declaration_needs_nobody() -> None:
    assert case_reasons("green", []) == []
    assert case_reasons(None, []) == []


def test_yellow_and_red_lanes_need_an_officer_first_then_each_hold_finding() -> None:
    reasons = case_reasons("red", [hold("R205", "gross mass below net mass"), hold("R701", "AEO id not valid")])
    assert [(r["source"], r["code"]) for r in reasons] == [("lane", "red"), ("hold", "R205"), ("aeo", "R701")]
    assert reasons[0]["message"] == "assigned to the red lane"
    assert reasons[1]["message"] == "gross mass below net mass" and reasons[1]["message_zh"] == "需要查看"


def test_a_hold_finding_puts_even_a_green_declaration_before_an_officer() -> None:
    assert [r["code"] for r in case_reasons("green", [hold("R301")])] == ["R301"]
    assert [r["code"] for r in case_reasons("yellow", [])] == ["yellow"]
