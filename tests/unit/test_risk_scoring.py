"""Scores and reasons of whole declarations: a known-bad one scores high for the stated
reason; an AEO tier-2 trader with clean findings goes green. Shipped model, rules and policy."""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timezone

import pytest

from app.config import PROJECT_ROOT
from app.domain.aeo import AeoStandingView
from app.domain.risk import Lane, RiskResult
from app.intake.service import Intake
from app.risk.factors import TraderHistory
from app.risk.scoring import RiskEngine, ScoreRequest
from app.rules.assessment import RuleSet, assess
from tests.factories import MOVED_19_NOV_2026, goods_item_xml
from tests.factories import declaration_xml as any_declaration_xml

NOW = datetime(2026, 11, 20, 2, 0, tzinfo=timezone.utc)


def declaration_xml(**fields: object) -> bytes:
    """The factory's declaration, its goods moved on time for ``NOW``."""
    return any_declaration_xml(movement_at=MOVED_19_NOV_2026, **fields)  # type: ignore[arg-type]
ESTABLISHED = TraderHistory(50)  # an importer with 50 earlier declarations


@dataclass(frozen=True)
class Standing:
    operator_id: str
    tier: int
    status: str = "active"
    recognised: bool = True
    reason: str = ""


@pytest.fixture(scope="module")
def rule_set() -> RuleSet:
    return RuleSet.load(PROJECT_ROOT / "rules")


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> RiskEngine:
    loaded = RiskEngine.load(PROJECT_ROOT / "rules", tmp_path_factory.mktemp("instance"))
    assert loaded.model is not None, "the shipped model under rules/risk/models must load"
    return replace(loaded, policy=replace(loaded.policy, sample_rate=0.0))


def score(engine: RiskEngine, rule_set: RuleSet, body: bytes, standings: dict[str, AeoStandingView] | None = None,
          history: TraderHistory = ESTABLISHED) -> RiskResult:
    received = Intake(PROJECT_ROOT / "schemas").receive_declaration(body)
    assessed = assess(rule_set, received.declaration, NOW, standings or {})
    return engine.assess("12345678/" + received.declaration.lrn, received.sha256, received.declaration, assessed,
                         history=history)


def with_importer(body: bytes, importer: str) -> bytes:
    party = f"<Importer><Name>Importer</Name><ID>{importer}</ID></Importer>"
    return body.replace(b"<GoodsShipment>", party.encode() + b"<GoodsShipment>", 1)


def test_a_watchlisted_importer_declaring_smartphones_far_below_their_value_goes_red(engine, rule_set) -> None:  # type: ignore[no-untyped-def]
    bad = with_importer(declaration_xml(lrn="LRN-BAD", value="10.00"), "99999999")
    result = score(engine, rule_set, bad)
    assert result.lane is Lane.RED and result.score >= 70
    top = [reason.text for reason in result.top_reasons(3)]
    assert any("watchlist" in text and "99999999" in text for text in top)
    assert any("far below the reference" in text and "HS 8517" in text for text in top)
    assert result.model_version.startswith("rm-")


def test_the_same_goods_at_a_fair_value_from_a_known_importer_score_lower(engine, rule_set) -> None:  # type: ignore[no-untyped-def]
    bad = score(engine, rule_set, with_importer(declaration_xml(lrn="LRN-A", value="10.00"), "99999999"))
    fair = score(engine, rule_set, with_importer(declaration_xml(lrn="LRN-B", value="4000.00"), "12345678"))
    assert fair.score < bad.score
    assert not any(r.code in ("WATCHLIST", "LOW_VALUE") for r in fair.reasons)


def test_an_aeo_tier_2_importer_with_clean_findings_goes_green(engine, rule_set) -> None:  # type: ignore[no-untyped-def]
    body = with_importer(declaration_xml(lrn="LRN-AEO", value="4000.00"), "12345678")
    result = score(engine, rule_set, body, {"12345678": Standing("12345678", 2)})
    assert result.lane is Lane.GREEN
    assert any(r.code == "AEO" and r.points < 0 and "tier 2" in r.text for r in result.reasons)
    assert "AEO tier 2" in result.lane_reason


def test_a_first_time_importer_is_a_stated_reason(engine, rule_set) -> None:  # type: ignore[no-untyped-def]
    body = with_importer(declaration_xml(lrn="LRN-NEW"), "55555555")
    first = score(engine, rule_set, body, history=TraderHistory(0))
    known = score(engine, rule_set, body, history=TraderHistory(100))
    assert any(r.code == "FIRST_TIME_TRADER" for r in first.reasons)
    assert first.score > known.score


def test_expected_revenue_is_the_fraud_probability_times_the_value(engine, rule_set) -> None:  # type: ignore[no-untyped-def]
    goods = goods_item_xml(1, "85171300", "1000.00") + goods_item_xml(2, "61091000", "3000.00")
    result = score(engine, rule_set, declaration_xml(lrn="LRN-REV", goods=goods))
    assert 0 < result.revenue_at_stake <= 4000
    assert 0 <= result.probability <= 1 and 0 <= result.score <= 100
    assert len(result.item_scores) == 2


def test_the_random_sample_is_recorded_with_its_seed(engine, rule_set) -> None:  # type: ignore[no-untyped-def]
    always = replace(engine, policy=replace(engine.policy, sample_rate=1.0))
    result = score(always, rule_set, with_importer(declaration_xml(lrn="LRN-S", value="4000.00"), "12345678"),
                   {"12345678": Standing("12345678", 2)})
    assert result.random_sample and result.lane is always.policy.sample_lane
    assert result.sample_seed == engine.policy.sample_seed and 0 <= result.sample_draw < 1


def test_the_model_adds_points_only_for_its_lift_over_an_average_item(engine, rule_set) -> None:  # type: ignore[no-untyped-def]
    assert engine.model is not None
    base = engine.model.encoder.prior
    weight = engine.factors.model_weight
    assert engine.model_points(base) == 0 and engine.model_points(base / 2) == 0
    assert engine.model_points(1.0) == pytest.approx(weight)
    assert engine.model_points(base + (1 - base) / 2) == pytest.approx(weight / 2)
    result = score(engine, rule_set, declaration_xml(lrn="LRN-LIFT"))
    model = next(r for r in result.reasons if r.code == "MODEL")
    assert model.points == pytest.approx(engine.model_points(result.probability), abs=0.06)  # probability: 4 places
    assert f"against {base:.0%} for an average item" in model.text and "HS 851713" in model.text


def test_a_batch_scored_together_gets_what_each_declaration_gets_alone(engine, rule_set) -> None:  # type: ignore[no-untyped-def]
    """Items of many declarations go through the model together (more than one model call's
    worth of items, of different sizes, known and first-time importers): every result is the
    one ``assess`` gives that declaration alone."""
    intake = Intake(PROJECT_ROOT / "schemas")
    requests = []
    for n in range(40):
        body = declaration_xml(lrn=f"TOGETHER-{n}", items=1 + n % 7, value=f"{100 + 37 * n}.00")
        received = intake.receive_declaration(with_importer(body, f"1000000{n % 3}") if n % 2 else body)
        assessed = assess(rule_set, received.declaration, NOW, {})
        requests.append(ScoreRequest("12345678/" + received.declaration.lrn, received.sha256, received.declaration,
                                     assessed, history=ESTABLISHED if n % 4 else TraderHistory(None)))
    assert sum(len(r.declaration.goods_items) for r in requests) > 64
    alone = [engine.assess(r.sample_key, r.variant, r.declaration, r.assessed, history=r.history) for r in requests]
    assert engine.assess_many(requests) == alone
