"""The risk engine: learned model + explainable indicators + lane policy -> one RiskResult.

Loaded once per process (``RiskEngine.load``); scoring a declaration is pure computation
on values the caller already holds (no database access), so it costs well under 2 ms."""
from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import numpy as np

from app.domain.declaration import Declaration
from app.domain.risk import Lane, LanePolicy, LaneThresholds, Reason, RiskRecord, RiskResult, decide_lane, sample_draw
from app.risk.factors import FactorConfig, TraderHistory, declaration_factors, item_factors
from app.risk.model import RiskModel
from app.risk.policy import load_policy
from app.risk.records import build_records, finding_pairs
from app.domain.assessment import Assessed

log = logging.getLogger("csw.risk")

CURRENT_POINTER = "current_model"
WARM_UP = RiskRecord(declaration_id="", item_sequence=1, declared_on=None, hs_code="85171300", origin_country="CN",
                     departure_country="CN", declaration_type="IM", transport_mode="3", office="", importer="",
                     declarant="", seller="", carrier="", value=1000.0, net_mass=1.0, tax_rate=0.0)
NO_HISTORY = TraderHistory(None)  # frozen: one shared default is safe


def shipped_models(rules_dir: Path) -> list[Path]:
    base = rules_dir / "risk" / "models"
    return sorted(p for p in base.iterdir() if (p / "manifest.json").exists()) if base.exists() else []


def model_directory(rules_dir: Path, instance_dir: Path, explicit: Path | None = None) -> Path | None:
    """The model in force: ``explicit`` (``CSW_RISK_MODEL_DIR``), else the last one promoted by
    the retrain job (``<instance>/risk/current_model`` names it), else the newest shipped under
    ``rules/risk/models``."""
    if explicit is not None:
        return explicit
    pointer = instance_dir / "risk" / CURRENT_POINTER
    if pointer.exists():
        target = Path(pointer.read_text(encoding="utf-8").strip())
        if (target / "manifest.json").exists():
            return target
    shipped = shipped_models(rules_dir)
    return shipped[-1] if shipped else None


@dataclass
class RiskEngine:
    factors: FactorConfig
    policy: LanePolicy
    model: RiskModel | None

    @property
    def model_version(self) -> str:
        return self.model.version if self.model else "none"

    @classmethod
    def load(cls, rules_dir: Path, instance_dir: Path, release_green: bool | None = None,
             model_dir: Path | None = None) -> RiskEngine:
        """``release_green``: overrides the policy's ``[green] release`` (``CSW_RELEASE_GREEN``);
        ``model_dir``: the model to use (``CSW_RISK_MODEL_DIR``) instead of the one in force."""
        directory = model_directory(rules_dir, instance_dir, model_dir)
        model = RiskModel.load(directory) if directory is not None else None
        if model is None:
            log.warning("no risk model found: scores come from the configured indicators only")
        policy = load_policy(rules_dir / "risk" / "lanes.toml")
        if release_green is not None:
            policy = replace(policy, release_green=release_green)
        engine = cls(FactorConfig.load(rules_dir / "risk"), policy, model)
        engine.item_probabilities([WARM_UP])  # first prediction pays lazy set-up: not a trader's request
        return engine

    def _model_reason(self, record: RiskRecord, probability: float, points: float) -> Reason:
        assert self.model is not None
        rates = self.model.encoder.rates
        prior = self.model.encoder.prior
        context = [f"HS {record.hs6} fraud rate {rates['hs6'].get(record.hs6, prior):.0%} in training data",
                   f"origin {record.origin_country} {rates['origin_country'].get(record.origin_country, prior):.0%}"]
        return Reason("MODEL", round(points, 1),
                      f"item {record.item_sequence}: learned model {self.model.version} puts the fraud probability "
                      f"at {probability:.0%} ({'; '.join(context)}; overall {prior:.0%})")

    def item_probabilities(self, records: list[RiskRecord]) -> np.ndarray:
        if self.model is None or not records:
            return np.zeros(len(records))
        factor = 1.0 if self.model.manifest.get("currency", "HKD") == "HKD" else self.factors.value_per_hkd
        return self.model.probabilities(records, value_factor=factor)

    def assess(self, sample_key: str, variant: str | int, declaration: Declaration, assessed: Assessed,
               transit_alerts: tuple[str, ...] = (), history: TraderHistory = NO_HISTORY,
               declaration_id: str = "", thresholds: LaneThresholds | None = None) -> RiskResult:
        """Score, expected revenue at stake, reasons and lane of one declaration version.

        ``sample_key`` identifies the declaration for the random draw (declarant/LRN: known
        before the declaration's reference is issued) and ``variant`` the document version
        (its SHA-256), so an amendment is drawn afresh."""
        records = build_records(declaration_id, declaration, assessed, transit_alerts)
        probabilities = self.item_probabilities(records)
        item_points: list[tuple[float, list[Reason]]] = []
        for record, probability in zip(records, probabilities):
            reasons = item_factors(self.factors, record, record.value)
            if self.model is not None:
                reasons.insert(0, self._model_reason(record, float(probability),
                                                     float(probability) * self.factors.model_weight))
            item_points.append((sum(r.points for r in reasons), reasons))
        worst_points, worst_reasons = max(item_points, key=lambda pair: pair[0], default=(0.0, []))
        parties = [(p.role.value, p.identifier) for p in declaration.parties]
        parties += [(p.role.value, p.aeo_id) for p in declaration.parties if p.aeo_id]
        shared = declaration_factors(self.factors, parties, finding_pairs(assessed.findings), transit_alerts, history)
        reasons = list(worst_reasons) + shared
        subtotal = worst_points + sum(r.points for r in shared)
        aeo: dict[str, Any] = assessed.aeo or {}
        tier = aeo.get("tier")
        reduction_percent = int(aeo.get("risk_reduction_percent") or 0)
        if self.factors.aeo_reduction and tier and reduction_percent and subtotal > 0:
            reduction = subtotal * reduction_percent / 100
            reasons.append(Reason("AEO", -round(reduction, 1),
                                  f"AEO tier {tier}: score lowered by {reduction_percent}%"))
            subtotal -= reduction
        score = int(max(0, min(100, round(subtotal))))
        values = np.array([r.value for r in records]) if records else np.zeros(0)
        revenue = Decimal(str(float((probabilities * values).sum()))).quantize(Decimal("0.01"), ROUND_HALF_UP)
        draw = sample_draw(self.policy.sample_seed, sample_key, variant)
        policy = self.policy if thresholds is None else replace(self.policy, thresholds=thresholds)
        decision = decide_lane(policy, score, tuple(f.code for f in assessed.findings), transit_alerts,
                               tier if isinstance(tier, int) else None, bool(aeo.get("green_lane_eligible")), draw)
        return RiskResult(
            score=score, probability=round(float(probabilities.max()) if len(probabilities) else 0.0, 4),
            revenue_at_stake=revenue, reasons=tuple(reasons), lane=decision.lane, lane_reason=decision.reason,
            random_sample=decision.random_sample, sample_draw=draw, sample_seed=self.policy.sample_seed,
            model_version=self.model_version, policy_version=self.policy.version,
            item_scores=tuple(int(min(100, round(p))) for p, _ in item_points),
            release=decision.lane is Lane.GREEN and self.policy.release_green,
        )
