"""Each configured indicator in rules/risk adds its points with a reason an officer can read,
and a request-sized scoring stays fast and agrees with batch scoring."""
from __future__ import annotations

import math
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from app.config import PROJECT_ROOT
from app.domain.risk import RiskRecord
from app.risk.factors import FactorConfig, TraderHistory, declaration_factors, item_factors
from app.risk.model import FLAT_FOREST_ROWS, RiskModel
from app.risk.scoring import shipped_models
from app.domain.problems import RulesDataError

ITEM = RiskRecord(declaration_id="D1", item_sequence=1, declared_on=None, hs_code="61091000", origin_country="JP",
                  departure_country="JP", declaration_type="IM", transport_mode="4", office="", importer="I1",
                  declarant="D1", seller="S1", carrier="C1", value=12_000.0, net_mass=50.0, tax_rate=0.0)


@pytest.fixture(scope="module")
def config() -> FactorConfig:
    return FactorConfig.load(PROJECT_ROOT / "rules" / "risk")


def codes(reasons: list) -> dict[str, str]:
    return {reason.code: reason.text for reason in reasons}


def test_an_ordinary_item_raises_no_indicator(config: FactorConfig) -> None:
    assert item_factors(config, ITEM, ITEM.value) == []
    assert declaration_factors(config, [("importer", "I1")], [], (), TraderHistory(50)) == []


def test_sensitive_goods_a_sanctioned_origin_and_a_roundabout_route_are_each_explained(config: FactorConfig) -> None:
    tobacco = codes(item_factors(config, replace(ITEM, hs_code="24022000"), 1e9))
    assert "tobacco" in tobacco["HS_SENSITIVE"] and "HS 2402" in tobacco["HS_SENSITIVE"]
    sanctioned = codes(item_factors(config, replace(ITEM, origin_country="KP", departure_country="KP"), ITEM.value))
    assert "origin KP" in sanctioned["HIGH_RISK_ORIGIN"] and "sanctions" in sanctioned["HIGH_RISK_ORIGIN"]
    routed = codes(item_factors(config, replace(ITEM, origin_country="CN", departure_country="VN"), ITEM.value))
    assert "routed through Viet Nam" in routed["RISKY_ROUTE"]


def test_a_value_per_kg_far_below_the_reference_is_explained_with_both_figures(config: FactorConfig) -> None:
    reasons = item_factors(config, ITEM, value_hkd=50.0 * 10)  # HK$10/kg against HK$120/kg for T-shirts
    low = [r for r in reasons if r.code == "LOW_VALUE"]
    assert low and low[0].points > 0
    assert "HK$10.00/kg" in low[0].text and "HK$120.00/kg" in low[0].text and "HS 6109" in low[0].text


def test_parties_findings_alerts_and_history_add_their_points(config: FactorConfig) -> None:
    reasons = declaration_factors(config, [("carrier", "WATCH-CARRIER-1")], [("R101", "hold"), ("R205", "warn")],
                                  ("route_deviation", "route_deviation"), TraderHistory(2))
    found = codes(reasons)
    assert "carrier WATCH-CARRIER-1 is on the watchlist" in found["WATCHLIST"]
    assert [r.text for r in reasons if r.code == "RULE_FINDING"] == ["rule R101 (hold) applies",
                                                                     "rule R205 (warn) applies"]
    assert [r.points for r in reasons if r.code == "TRANSIT_ALERT"] == [config.transit_points]
    assert "only 2 earlier declarations" in found["RARE_TRADER"]


def test_a_broken_indicator_table_stops_start_up_with_its_name(tmp_path: Path) -> None:
    for name in ("factors.toml", "origins.csv", "hs_sensitivity.csv", "reference_prices.csv", "watchlist.csv"):
        (tmp_path / name).write_bytes((PROJECT_ROOT / "rules" / "risk" / name).read_bytes())
    (tmp_path / "watchlist.csv").write_text("identifier,points,reason,reason_zh\nX1,many,typo,錯字\n")
    with pytest.raises(RulesDataError, match="watchlist.csv"):
        FactorConfig.load(tmp_path)


def test_every_analysts_reason_has_its_chinese(tmp_path: Path) -> None:
    """Issue 24: the reasons in rules/risk/*.csv are data in two languages; a reason without its
    Chinese stops start-up naming the file and line."""
    config = FactorConfig.load(PROJECT_ROOT / "rules" / "risk")
    texts = ([text for _points, text in config.origins.values()] + [text for _p, text in config.routes.values()]
             + [text for _p, text in config.hs_sensitivity.values()] + [text for _p, text in config.watchlist.values()]
             + [text for _p, text in config.reference_prices.values()])
    assert texts and all(config.phrases_zh.get(text) for text in texts)
    assert config.phrases_zh["origin under sanctions"] == "原產地受制裁"
    for name in ("factors.toml", "origins.csv", "hs_sensitivity.csv", "reference_prices.csv", "watchlist.csv"):
        (tmp_path / name).write_bytes((PROJECT_ROOT / "rules" / "risk" / name).read_bytes())
    (tmp_path / "origins.csv").write_text("origin,departure,points,reason,reason_zh\nKP,,40,sanctions,\n")
    with pytest.raises(RulesDataError, match=r"origins.csv:2: reason_zh is empty"):
        FactorConfig.load(tmp_path)


@pytest.fixture(scope="module")
def shipped() -> RiskModel:
    return RiskModel.load(shipped_models(PROJECT_ROOT / "rules")[-1])


def records(count: int, shipped: RiskModel | None = None) -> list[RiskRecord]:
    """Items of many kinds; with ``shipped``, every other one repeats a goods profile (HS6, net
    mass) the model has seen inspected, so both of its tree models are walked."""
    hs = ["85171300", "61091000", "24022000", "94035000", "03038900"]
    origins = ["CN", "VN", "JP", "US", "KP"]
    seen = list(shipped.encoder.profiles)[::97] if shipped else []  # (HS6, net mass, 100 x ln value)
    rows = [replace(ITEM, item_sequence=n, hs_code=hs[n % 5], origin_country=origins[n % 4],
                    departure_country=origins[(n + 1) % 5], net_mass=1.0 + 37 * n, value=500.0 + 9000 * n,
                    tax_rate=float(n % 3) * 4, importer=f"I{n}") for n in range(count)]
    return [replace(row, hs_code=seen[n % len(seen)][0] + "00", net_mass=seen[n % len(seen)][1],
                    value=math.exp(seen[n % len(seen)][2] / 100)) if seen and n % 2 else row
            for n, row in enumerate(rows)]


def test_request_sized_and_batch_scoring_give_the_same_probabilities(shipped: RiskModel) -> None:
    rows = records(FLAT_FOREST_ROWS * 3, shipped)
    seen = [n > 0 for n, _frauds in shipped.encoder.profile_history(rows)]
    assert 0 < sum(seen) < len(rows)
    batch = shipped.probabilities(rows)
    small = np.concatenate([shipped.probabilities(rows[n:n + 5]) for n in range(0, len(rows), 5)])
    assert np.allclose(batch, small, rtol=0, atol=1e-12)
    assert ((batch > 0) & (batch < 1)).all()


@pytest.mark.parametrize("kind", ["all seen", "all new", "mixed"])
def test_a_requests_items_get_scikit_learns_probabilities_whichever_models_they_need(shipped: RiskModel,
                                                                                    kind: str) -> None:
    """Five items whose goods profiles were all inspected before, all new, or both: each gets
    its model's predict_proba on its row (the flat forests and the one-model shortcut agree)."""
    assert shipped.novelty is not None
    rows = records(20, shipped)
    seen = [r for r, (n, _frauds) in zip(rows, shipped.encoder.profile_history(rows)) if n]
    new = [r for r, (n, _frauds) in zip(rows, shipped.encoder.profile_history(rows)) if not n]
    five = {"all seen": seen[:5], "all new": new[:5], "mixed": [*seen[:2], *new[:3]]}[kind]
    assert len(five) == 5
    expected = [shipped.classifier.predict_proba(shipped.encoder.transform([r]))[0, 1] if r in seen
                else shipped.novelty.predict_proba(shipped.encoder.novelty_transform([r]))[0, 1] for r in five]
    assert np.allclose(shipped.probabilities(five), expected, rtol=1e-12, atol=0)


def test_scoring_the_items_of_one_declaration_costs_well_under_2_ms(shipped: RiskModel) -> None:
    five = records(5, shipped)
    shipped.probabilities(five)
    costs = []
    for _ in range(300):
        began = time.thread_time()
        shipped.probabilities(five)
        costs.append(time.thread_time() - began)
    costs.sort()
    assert costs[int(len(costs) * 0.99)] < 0.002
