"""The risk engine: learned model + explainable indicators + lane policy -> one RiskResult.

Loaded once per process (``RiskEngine.load``); scoring a declaration is pure computation
on values the caller already holds (no database access), so it costs well under 2 ms."""
from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import numpy as np

from app.domain.declaration import Declaration
from app.domain.risk import Lane, LanePolicy, LaneThresholds, Reason, RiskRecord, RiskResult, decide_lane, sample_draw
from app.risk.factors import FactorConfig, TraderHistory, declaration_factors, item_factors
from app.risk.model import FLAT_FOREST_ROWS, MANIFEST, RiskModel, readable
from app.risk.policy import load_policy
from app.risk.records import build_records, finding_pairs
from app.domain.assessment import Assessed

log = logging.getLogger("csw.risk")

CURRENT_POINTER = "current_model"
WARM_UP = RiskRecord(declaration_id="", item_sequence=1, declared_on=None, hs_code="85171300", origin_country="CN",
                     departure_country="CN", declaration_type="IM", transport_mode="3", office="", importer="",
                     declarant="", seller="", carrier="", value=1000.0, net_mass=1.0, tax_rate=0.0)
NO_HISTORY = TraderHistory(None)  # frozen: one shared default is safe


def _readable(directory: Path) -> bool:
    manifest = directory / MANIFEST
    return manifest.exists() and readable(json.loads(manifest.read_text(encoding="utf-8")))


def shipped_models(rules_dir: Path) -> list[Path]:
    """The models under ``rules/risk/models`` that this release can load, oldest name first."""
    base = rules_dir / "risk" / "models"
    return sorted(p for p in base.iterdir() if _readable(p)) if base.exists() else []


def model_directory(rules_dir: Path, instance_dir: Path, explicit: Path | None = None) -> Path | None:
    """The model in force: ``explicit`` (``CSW_RISK_MODEL_DIR``), else the last one promoted by
    the retrain job (``<instance>/risk/current_model`` names it), else the newest shipped under
    ``rules/risk/models``. A promoted model in a format this release cannot read (an older
    release's) is passed over with a warning, so an upgrade never stops start-up."""
    if explicit is not None:
        return explicit
    pointer = instance_dir / "risk" / CURRENT_POINTER
    if pointer.exists():
        target = Path(pointer.read_text(encoding="utf-8").strip())
        if _readable(target):
            return target
        if (target / MANIFEST).exists():
            log.warning("risk model %s was written in an older format: using the shipped model until the "
                        "retrain job promotes a new one", target)
    shipped = shipped_models(rules_dir)
    return shipped[-1] if shipped else None


@dataclass(frozen=True, slots=True)
class ScoreRequest:
    """One declaration version to score with ``RiskEngine.assess_many`` (``assess``'s arguments)."""

    sample_key: str
    variant: str | int
    declaration: Declaration
    assessed: Assessed
    transit_alerts: tuple[str, ...] = ()
    history: TraderHistory = NO_HISTORY
    declaration_id: str = ""
    thresholds: LaneThresholds | None = None


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

    def model_points(self, probability: float) -> float:
        """``[model] weight`` x how far the probability lies from an average item's (the training
        data's fraud rate) towards certain fraud: 0 for an average or safer item, the whole
        weight for certain fraud. Probability x weight would give every ordinary item the
        base rate's points (22 with the shipped model) whatever it is."""
        assert self.model is not None
        base = self.model.encoder.prior
        return self.factors.model_weight * max(0.0, probability - base) / (1.0 - base) if base < 1 else 0.0

    def _model_reason(self, record: RiskRecord, probability: float) -> Reason:
        """The probability with the inspection history behind it, e.g. *"learned model rm-… puts
        the fraud probability at 91%, against 22% for an average item (the same goods (HS 440890,
        108 kg) were inspected 3 times before: fraud found 3 times; route CN>BE: fraud in 35% of
        120)"*."""
        assert self.model is not None
        return Reason("MODEL", round(self.model_points(probability), 1),
                      f"item {record.item_sequence}: learned model {self.model.version} puts the fraud probability "
                      f"at {probability:.0%}, against {self.model.encoder.prior:.0%} for an average item "
                      f"({'; '.join(self.model.explain(record, self.value_factor))})")

    @property
    def value_factor(self) -> float:
        """What an HKD value is multiplied by to be in the model's currency."""
        if self.model is None or self.model.manifest.get("currency", "HKD") == "HKD":
            return 1.0
        return self.factors.value_per_hkd

    def item_probabilities(self, records: list[RiskRecord]) -> np.ndarray:
        if self.model is None or not records:
            return np.zeros(len(records))
        return self.model.probabilities(records, value_factor=self.value_factor)

    def assess(self, sample_key: str, variant: str | int, declaration: Declaration, assessed: Assessed,
               transit_alerts: tuple[str, ...] = (), history: TraderHistory = NO_HISTORY,
               declaration_id: str = "", thresholds: LaneThresholds | None = None) -> RiskResult:
        """Score, expected revenue at stake, reasons and lane of one declaration version.

        ``sample_key`` identifies the declaration for the random draw (declarant/LRN: known
        before the declaration's reference is issued) and ``variant`` the document version
        (its SHA-256), so an amendment is drawn afresh."""
        records = build_records(declaration_id, declaration, assessed, transit_alerts)
        return self._result(sample_key, variant, declaration, assessed, transit_alerts, history, thresholds, records,
                            self.item_probabilities(records))

    def assess_many(self, requests: Sequence[ScoreRequest]) -> list[RiskResult]:
        """``assess`` for many declarations (a batch), with their items scored together: the
        model is asked once per ``FLAT_FOREST_ROWS`` items instead of once per declaration.
        Each item's probability depends on that item alone, so every declaration gets what
        ``assess`` gives it."""
        records = [build_records(r.declaration_id, r.declaration, r.assessed, r.transit_alerts) for r in requests]
        every = [record for items in records for record in items]
        chunks = [self.item_probabilities(every[start:start + FLAT_FOREST_ROWS])
                  for start in range(0, len(every), FLAT_FOREST_ROWS)]
        probabilities = np.concatenate(chunks) if chunks else np.zeros(0)
        results = []
        start = 0
        for request, items in zip(requests, records, strict=True):
            results.append(self._result(request.sample_key, request.variant, request.declaration, request.assessed,
                                        request.transit_alerts, request.history, request.thresholds, items,
                                        probabilities[start:start + len(items)]))
            start += len(items)
        return results

    def _result(self, sample_key: str, variant: str | int, declaration: Declaration, assessed: Assessed,
                transit_alerts: tuple[str, ...], history: TraderHistory, thresholds: LaneThresholds | None,
                records: list[RiskRecord], probabilities: np.ndarray) -> RiskResult:
        # Only the worst item's reasons are given, so only its model reason is put into words
        # (the history behind a probability costs more to tell than to score: a 999-item
        # declaration would pay for 999 explanations and keep one).
        chances = probabilities.tolist()  # Python floats: numpy scalars cost more to read one by one
        worst: tuple[float, int, list[Reason]] | None = None
        item_points: list[float] = []
        for index, (record, probability) in enumerate(zip(records, chances)):
            factors = item_factors(self.factors, record, record.value)
            model = [round(self.model_points(probability), 1)] if self.model is not None else []
            points = sum([*model, *(r.points for r in factors)])  # summed in the order the reasons are given
            item_points.append(points)
            if worst is None or points > worst[0]:
                worst = (points, index, factors)
        worst_points, worst_reasons = 0.0, list[Reason]()
        if worst is not None:
            worst_points, index, worst_reasons = worst
            if self.model is not None:
                worst_reasons = [self._model_reason(records[index], chances[index]), *worst_reasons]
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
            score=score, probability=round(max(chances) if chances else 0.0, 4),
            revenue_at_stake=revenue, reasons=tuple(reasons), lane=decision.lane, lane_reason=decision.reason,
            random_sample=decision.random_sample, sample_draw=draw, sample_seed=self.policy.sample_seed,
            model_version=self.model_version, policy_version=self.policy.version,
            item_scores=tuple(int(min(100, round(p))) for p in item_points),
            release=decision.lane is Lane.GREEN and self.policy.release_green,
        )
