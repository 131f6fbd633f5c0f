"""Lane policy and the random compliance sample: pure decisions, no model, no database."""
from __future__ import annotations

from pathlib import Path

import pytest

from app.config import PROJECT_ROOT
from app.domain.risk import Lane, LanePolicy, LaneThresholds, decide_lane, sample_draw, thresholds_for_rates
from app.risk.policy import load_policy
from app.domain.problems import RulesDataError

POLICY = LanePolicy(version="t", thresholds=LaneThresholds(yellow=40, red=70), red_findings=frozenset({"R301"}),
                    yellow_findings=frozenset({"R205"}), aeo_green_tier=2, aeo_green_below=80, sample_rate=0.01,
                    sample_seed="seed")
NOT_SAMPLED = 0.5


def lane(score: int, findings: tuple[str, ...] = (), alerts: tuple[str, ...] = (), tier: int | None = None,
         eligible: bool = False, draw: float = NOT_SAMPLED) -> Lane:
    return decide_lane(POLICY, score, findings, alerts, tier, eligible, draw).lane


def test_score_thresholds_choose_green_yellow_red() -> None:
    assert lane(39) is Lane.GREEN
    assert lane(40) is Lane.YELLOW
    assert lane(69) is Lane.YELLOW
    assert lane(70) is Lane.RED


def test_an_aeo_tier_2_trader_with_clean_findings_goes_green_even_with_a_middling_score() -> None:
    decision = decide_lane(POLICY, 55, (), (), 2, True, NOT_SAMPLED)
    assert decision.lane is Lane.GREEN and "AEO tier 2" in decision.reason


def test_aeo_green_needs_the_tier_clean_findings_and_a_score_below_the_cap() -> None:
    assert lane(55, tier=1, eligible=True) is Lane.YELLOW
    assert lane(55, tier=2, eligible=False) is Lane.YELLOW
    assert lane(85, tier=2, eligible=True) is Lane.RED
    assert lane(10, findings=("R205",), tier=2, eligible=True) is Lane.YELLOW


def test_findings_and_transit_alerts_force_their_lane_whatever_the_score() -> None:
    decision = decide_lane(POLICY, 0, ("R301",), (), None, False, NOT_SAMPLED)
    assert decision.lane is Lane.RED and "R301" in decision.reason
    decision = decide_lane(POLICY, 0, (), ("route_deviation",), 2, True, NOT_SAMPLED)
    assert decision.lane is Lane.RED and "route_deviation" in decision.reason


def test_the_random_sample_is_drawn_independently_of_the_score() -> None:
    decision = decide_lane(POLICY, 0, (), (), 2, True, 0.001)
    assert decision.lane is Lane.RED and decision.random_sample and "random compliance sample" in decision.reason
    assert not decide_lane(POLICY, 99, (), (), None, False, 0.5).random_sample


def test_the_draw_is_reproducible_and_samples_about_the_configured_rate() -> None:
    assert sample_draw("seed", "12345678/LRN-1", "abc") == sample_draw("seed", "12345678/LRN-1", "abc")
    assert sample_draw("seed", "12345678/LRN-1", "abc") != sample_draw("other", "12345678/LRN-1", "abc")
    assert sample_draw("seed", "12345678/LRN-1", "abc") != sample_draw("seed", "12345678/LRN-1", "abd")
    draws = [sample_draw("seed", f"12345678/LRN-{n}", 1) for n in range(20_000)]
    assert all(0 <= d < 1 for d in draws)
    assert 0.007 < sum(d < 0.01 for d in draws) / len(draws) < 0.013


def test_thresholds_follow_target_inspection_rates_over_recent_scores() -> None:
    scores = list(range(100)) * 10  # 1,000 declarations, uniform scores 0..99
    found = thresholds_for_rates(scores, red_rate=0.05, yellow_rate=0.10)
    assert sum(s >= found.red for s in scores) == 50
    assert sum(found.yellow <= s < found.red for s in scores) == 100
    with pytest.raises(ValueError):
        thresholds_for_rates([], 0.05, 0.1)


def test_the_shipped_policy_loads_and_a_broken_one_names_the_file(tmp_path: Path) -> None:
    policy = load_policy(PROJECT_ROOT / "rules/risk/lanes.toml")
    assert policy.thresholds.yellow < policy.thresholds.red and 0 < policy.sample_rate < 1
    broken = tmp_path / "lanes.toml"
    broken.write_text("[thresholds]\nyellow = 80\nred = 20\n[sample]\nrate = 0.01\nseed = 'x'\n")
    with pytest.raises(RulesDataError, match="lanes.toml"):
        load_policy(broken)
