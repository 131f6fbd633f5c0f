"""Write-off and the kiosk's reading of cargo: pure rules, no I/O."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

from app.config import PROJECT_ROOT
from app.domain.trips import ManifestDecision, SelectionPolicy, cargo_state, manifest_decision
from app.domain.writeoff import Cover, LineStatus, cargo_movement, reconcile
from app.writeoff.rules import load

POLICY = SelectionPolicy(selected_lanes=frozenset({"red", "yellow"}), selected_statuses=frozenset({"refused"}))
TOLERANCE = Decimal(5)


def test_a_line_is_open_until_a_declaration_covers_it() -> None:
    assert reconcile(40, Decimal("380.5"), [], TOLERANCE).status is LineStatus.OPEN


def test_covers_without_figures_cover_the_whole_line() -> None:
    result = reconcile(40, Decimal("380.5"), [Cover(None, None)], TOLERANCE)
    assert result == reconcile(40, Decimal("380.5"), [Cover(40, Decimal("380.5"))], TOLERANCE)
    assert result.status is LineStatus.WRITTEN_OFF and result.packages_declared == 40


def test_partial_and_over_by_packages_and_by_mass_beyond_the_tolerance() -> None:
    assert reconcile(40, Decimal(400), [Cover(30, None)], TOLERANCE).status is LineStatus.PARTIAL
    assert reconcile(40, Decimal(400), [Cover(30, None), Cover(20, None)], TOLERANCE).status is LineStatus.OVER
    assert reconcile(40, Decimal(400), [Cover(40, Decimal(419))], TOLERANCE).status is LineStatus.WRITTEN_OFF
    assert reconcile(40, Decimal(400), [Cover(40, Decimal(421))], TOLERANCE).status is LineStatus.OVER
    assert reconcile(40, Decimal(0), [Cover(40, Decimal(12))], TOLERANCE).status is LineStatus.WRITTEN_OFF


def test_the_earliest_recorded_movement_counts() -> None:
    early = datetime(2026, 11, 1, tzinfo=timezone.utc)
    moved = {("CRN", "A"): early + timedelta(days=1), ("BL", "B"): early, ("AWB", "C"): None}
    assert cargo_movement([("CRN", "A"), ("BL", "B")], moved) == early
    assert cargo_movement([("AWB", "C"), ("CRN", "X")], moved) is None


def test_the_kiosk_reads_cargo_by_lane_and_officers_decisions() -> None:
    assert cargo_state("C1", "green", None, POLICY).status == "released"
    assert cargo_state("C1", None, None, POLICY).status == "lodged"  # not profiled: the trip waits
    red = cargo_state("C2", "red", None, POLICY)
    assert manifest_decision([red], POLICY).decision is ManifestDecision.INSPECTION
    assert manifest_decision([cargo_state("C2", "red", "released", POLICY)], POLICY).decision \
        is ManifestDecision.CLEARED
    held = manifest_decision([cargo_state("C1", "green", "held", POLICY), cargo_state("C3", "blue", None, POLICY)],
                             POLICY)
    assert held.decision is ManifestDecision.INSPECTION and held.selected == ("C1",)


def test_the_write_off_rules_load_with_bilingual_texts() -> None:
    rules = load(PROJECT_ROOT / "rules")
    assert rules.period_days == 14 and {r.status for r in rules.rules} == {"partial", "over", "overdue"}
    assert all(r.message_zh and r.title_zh for r in rules.rules)
