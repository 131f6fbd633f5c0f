"""Training and evaluation from CSV files, and the retrain/promote decision of the feedback loop."""
from __future__ import annotations

import csv
import hashlib
import json
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import models
from app.db.risk_models import InspectionOutcome, RiskModelPromotion
from app.domain.risk import InspectionResult, RiskRecord
from app.risk.baselines import ARTEFACT as BASELINES
from app.risk.baselines import Baseline, fit_baselines, load_baselines, save_baselines
from app.risk.importer import ColumnMapping, file_sha256, mapping_path, read_records
from app.risk.model import RiskModel, evaluate, expected_revenue, ranking_report, time_split, train
from app.risk.records import stored_records
from app.risk.scoring import CURRENT_POINTER


def train_from_csv(csv_path: Path, mapping_name: str, rules_dir: Path, out: Path, holdout_days: int = 90,
                   limit: int | None = None, with_baselines: bool = True) -> RiskModel:
    """Read, time-split, train, evaluate (and the baselines, fitted on the same training rows,
    on the same held-out period), save the model and its baselines."""
    mapping = ColumnMapping.load(mapping_path(rules_dir, mapping_name))
    records = list(read_records(csv_path, mapping, limit))
    model, held_out = train(records, data_sha256=file_sha256(csv_path), source=csv_path.name, mapping=mapping.name,
                            extras=list(mapping.extras), holdout_days=holdout_days,
                            novelty_keys=mapping.new_profile_keys)
    model.manifest["currency"] = mapping.currency
    baselines: dict[str, Baseline] = {}
    if with_baselines:
        train_records, _held, _cut = time_split(records, holdout_days)
        baselines = fit_baselines(train_records, list(mapping.extras))
        model.manifest["baselines"] = baseline_reports(model, baselines, held_out)
    if out.exists():
        (out / BASELINES).unlink(missing_ok=True)
    model.save(out)
    if baselines:
        save_baselines(out, baselines)
    return model


def baseline_reports(model: RiskModel, baselines: dict[str, Baseline],
                     records: list[RiskRecord]) -> dict[str, dict[str, object]]:
    """Each baseline's figures on the same rows, with the same unseen-profile rows as the model's."""
    unseen = ~model.encoder.pairs_seen(records)
    return {name: ranking_report(baseline.probabilities(records), records, unseen)
            for name, baseline in baselines.items()}


def _file_records(model: RiskModel, csv_path: Path, mapping_name: str | None, rules_dir: Path,
                  labelled: bool) -> tuple[ColumnMapping, list[RiskRecord]]:
    mapping = ColumnMapping.load(mapping_path(rules_dir, mapping_name or model.manifest["training_data"]["mapping"]))
    return mapping, list(read_records(csv_path, mapping, labelled=labelled))


def evaluate_csv(model_dir: Path, csv_path: Path, mapping_name: str | None, rules_dir: Path,
                 held_out: bool = False) -> dict[str, object]:
    """The model's figures on a file, on all rows and on rows whose goods profile it has never
    seen, with its baselines' beside them; ``held_out`` keeps only rows dated after its
    training period, because rows it learnt from would flatter it."""
    model = RiskModel.load(model_dir)
    _mapping, records = _file_records(model, csv_path, mapping_name, rules_dir, labelled=True)
    cut = date.fromisoformat(str(model.manifest["training_data"]["train_until"]))
    after = [r for r in records if r.declared_on is not None and r.declared_on > cut]
    if held_out:
        if not after:
            raise ValueError(f"no rows dated after the model's training period (it ends {cut})")
        records = after
    if not records:
        raise ValueError(f"{csv_path}: no rows to evaluate")
    report = evaluate(model, records)
    report["baselines"] = baseline_reports(model, load_baselines(model_dir), records)
    report["rows_in_training_period"] = sum(1 for r in records if r.declared_on is not None and r.declared_on <= cut)
    return report


SCORE_CHUNK = 20_000


def score_csv(model_dir: Path, csv_path: Path, mapping_name: str | None, rules_dir: Path, out: Path) -> int:
    """One line per input row: its id column, the fraud probability and the revenue-ranking
    score (probability x value, in the file's currency). Labels, if present, are not read."""
    model = RiskModel.load(model_dir)
    mapping, records = _file_records(model, csv_path, mapping_name, rules_dir, labelled=False)
    id_column = mapping.columns["declaration_id"]
    with out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([id_column, "fraud_probability", "revenue_score"])
        for start in range(0, len(records), SCORE_CHUNK):
            chunk = records[start:start + SCORE_CHUNK]
            probability = model.probabilities(chunk)
            revenue = expected_revenue(probability, chunk)
            writer.writerows([r.declaration_id, f"{p:.6f}", f"{v:.2f}"] for r, p, v in zip(chunk, probability, revenue))
    return len(records)


def outcome_records(session: Session, since: datetime | None = None) -> list[RiskRecord]:
    """Inspection outcomes joined to what was declared: the feedback loop's training rows
    (one per goods item; revenue at stake = the item's value when fraud was found)."""
    query = select(InspectionOutcome)
    if since is not None:
        query = query.where(InspectionOutcome.occurred_at >= since)
    records: list[RiskRecord] = []
    for outcome in session.scalars(query.order_by(InspectionOutcome.id)).all():
        row = session.get(models.Declaration, outcome.declaration_id)
        if row is None:
            continue
        fraud = InspectionResult(outcome.result).is_fraud
        records += [replace(record, declared_on=outcome.occurred_at.date()) for record in stored_records(row, fraud)]
    return records


@dataclass(frozen=True)
class PromotionDecision:
    promoted: bool
    reason: str
    candidate: dict[str, object]
    current: dict[str, object] | None


def _metric(report: dict[str, object], ranking: str, name: str) -> float:
    metrics = report[ranking]
    assert isinstance(metrics, dict)
    return metrics[name]


def compare(candidate: dict[str, object], current: dict[str, object] | None) -> PromotionDecision:
    """Promote when the candidate is at least as good as the model in force on the same held-out
    period: precision@5 of the fraud ranking and revenue@5 of the revenue ranking, both."""
    if current is None:
        return PromotionDecision(True, "no model in force", candidate, None)
    cand_p = _metric(candidate, "fraud", "precision@5")
    cand_r = _metric(candidate, "revenue", "revenue@5")
    cur_p = _metric(current, "fraud", "precision@5")
    cur_r = _metric(current, "revenue", "revenue@5")
    if cand_p >= cur_p and cand_r >= cur_r:
        return PromotionDecision(True, f"precision@5 {cand_p} >= {cur_p} and revenue@5 {cand_r} >= {cur_r}",
                                 candidate, current)
    return PromotionDecision(False, f"not as good: precision@5 {cand_p} vs {cur_p}, revenue@5 {cand_r} vs {cur_r}",
                             candidate, current)


def retrain_and_promote(session: Session, *, history: list[RiskRecord], current_dir: Path | None,
                        models_dir: Path, instance_dir: Path, actor: str, now: datetime,
                        holdout_days: int = 30, min_rows: int = 200,
                        value_per_hkd: float = 1.0, currency: str = "HKD",
                        current_value_factor: float = 1.0, novelty_keys: Sequence[str] = ()) -> dict[str, object]:
    """Retrain on historical records plus inspection outcomes; promote the candidate only when it is
    at least as good as the current model on the latest held-out period; record the decision.

    ``value_per_hkd`` puts the outcomes' HKD values in the history's currency (the candidate's);
    ``current_value_factor`` puts the held-out values in the current model's currency, so that it
    is judged on the amounts it learnt from. ``novelty_keys``: the new-profile model's keys
    (the history mapping's; every key when empty)."""
    outcomes = [replace(r, value=r.value * value_per_hkd, revenue=(r.revenue or 0.0) * value_per_hkd)
                for r in outcome_records(session)]
    records = sorted(history + outcomes, key=lambda r: (r.declared_on or date.min))
    if len(records) < min_rows:
        return {"skipped": f"only {len(records)} labelled records (need {min_rows})"}
    digest = json.dumps([(r.declaration_id, r.item_sequence, r.fraud) for r in records]).encode()
    data_sha256 = hashlib.sha256(digest).hexdigest()
    candidate, held_out = train(records, data_sha256=data_sha256, source="history+inspection_outcomes",
                                mapping="csw", extras=(), holdout_days=holdout_days, novelty_keys=novelty_keys)
    candidate.manifest["currency"] = currency
    current = RiskModel.load(current_dir) if current_dir is not None else None
    current_view = held_out if current_value_factor == 1.0 else [
        replace(r, value=r.value * current_value_factor) for r in held_out]
    decision = compare(candidate.manifest["metrics"], evaluate(current, current_view) if current else None)
    target = models_dir / candidate.version
    if target.exists():
        shutil.rmtree(target)
    candidate.save(target)
    if decision.promoted:
        pointer = instance_dir / "risk" / CURRENT_POINTER
        pointer.parent.mkdir(parents=True, exist_ok=True)
        pointer.write_text(str(target.resolve()) + "\n", encoding="utf-8")
    session.add(RiskModelPromotion(
        candidate_version=candidate.version, current_version=current.version if current else None,
        promoted=decision.promoted, reason=decision.reason, candidate_metrics=decision.candidate,
        current_metrics=decision.current, artefact_path=str(target), actor=actor,
        occurred_at=now))
    session.flush()
    return {"candidate": candidate.version, "current": current.version if current else None,
            "promoted": decision.promoted, "reason": decision.reason, "records": len(records)}
