"""Import, training, evaluation and the model artefact, on a small synthetic history (seconds)."""
from __future__ import annotations

import csv
import json
import random
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest

from app.config import PROJECT_ROOT
from app.risk.evaluation import RATES, ranking_metrics
from app.risk.importer import ColumnMapping, MappingError, file_sha256, read_records
from app.risk.model import RiskModel, time_split
from app.risk.training import compare, train_from_csv

MAPPING = PROJECT_ROOT / "rules/risk/mappings/customs-declarations.toml"
HEADER = ["Declaration ID", "Date", "Office ID", "Process Type", "Import Type", "Import Use", "Payment Type",
          "Mode of Transport", "Declarant ID", "Importer ID", "Seller ID", "Courier ID", "HS6 Code",
          "Country of Departure", "Country of Origin", "Tax Rate", "Tax Type", "Country of Origin Indicator",
          "Net Mass", "Item Price", "Fraud", "Critical Fraud"]


def write_history(path: Path, rows: int = 3000, seed: int = 7) -> Path:
    """Declarations over 120 days; fraud is likelier for HS 240220 from VN and for payment type 43."""
    rng = random.Random(seed)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for n in range(rows):
            hs6 = rng.choice(["240220", "851713", "610910", "030389", "940350"])
            origin = rng.choice(["CN", "VN", "JP", "US"])
            payment = rng.choice(["11", "43"])
            mass = round(rng.uniform(1, 5000), 1)
            risk = 0.05 + 0.5 * (hs6 == "240220" and origin == "VN") + 0.25 * (payment == "43")
            fraud = int(rng.random() < risk)
            day = date(2020, 1, 1) + timedelta(days=n * 120 // rows)
            writer.writerow([f"{n:08d}", day.isoformat(), rng.choice(["20", "30", "40"]), "B", "11", "21", payment,
                             rng.choice(["10", "40"]), f"D{n % 40}", f"I{n // 5}", f"S{n % 500}", "",
                             hs6, origin, origin, "8.0", "A", "Y", mass, round(mass * 1000, 2), fraud, 0])
    return path


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_history(tmp_path_factory.mktemp("data") / "history.csv")


@pytest.fixture(scope="module")
def trained(history: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[RiskModel, Path]:
    out = tmp_path_factory.mktemp("model") / "m"
    model = train_from_csv(history, "customs-declarations", PROJECT_ROOT / "rules", out, holdout_days=30)
    return model, out


def test_rows_become_canonical_records_with_hs_codes_kept_as_text(history: Path) -> None:
    records = list(read_records(history, ColumnMapping.load(MAPPING), limit=5))
    assert len(records) == 5
    first = records[0]
    assert len(first.hs_code) == 6 and first.hs_code.isdigit() and first.declared_on == date(2020, 1, 1)
    assert first.extra("payment_type") in ("11", "43") and first.revenue == first.value
    assert first.duty == pytest.approx(first.value * 0.08)


def test_a_missing_column_or_a_bad_number_is_named(tmp_path: Path, history: Path) -> None:
    lines = history.read_text().splitlines()
    short = tmp_path / "short.csv"
    short.write_text(lines[0].replace("Net Mass,", "") + "\n")
    with pytest.raises(MappingError, match="Net Mass"):
        list(read_records(short, ColumnMapping.load(MAPPING)))
    broken = tmp_path / "broken.csv"
    cells = lines[1].split(",")
    cells[HEADER.index("Item Price")] = "lots"
    broken.write_text("\n".join([lines[0], ",".join(cells)]) + "\n")
    with pytest.raises(MappingError, match=r"broken.csv:2: column 'Item Price'"):
        list(read_records(broken, ColumnMapping.load(MAPPING)))


def test_the_split_is_by_time_never_random(history: Path) -> None:
    records = list(read_records(history, ColumnMapping.load(MAPPING)))
    train, held, cut = time_split(records, 30)
    assert max(r.declared_on for r in train) <= date.fromisoformat(cut) < min(r.declared_on for r in held)


def test_the_model_learns_the_pattern_and_beats_chance(trained: tuple[RiskModel, Path]) -> None:
    model, _out = trained
    metrics = model.manifest["metrics"]
    assert metrics["auc"] > 0.7
    base_rate = metrics["frauds"] / metrics["rows"]
    assert metrics["fraud"]["precision@5"] > 2 * base_rate
    assert set(metrics["fraud"]) == {f"{kind}@{rate}" for kind in ("precision", "recall", "revenue") for rate in RATES}


def test_the_artefact_is_versioned_with_its_data_hash_features_and_metrics(trained, history: Path) -> None:  # type: ignore[no-untyped-def]
    model, out = trained
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["version"] == model.version and manifest["version"].startswith("rm-")
    assert manifest["training_data"]["sha256"] == file_sha256(history)
    assert manifest["features"] == model.encoder.feature_names
    assert "time split" in manifest["validation"]
    assert {"hs6_rate", "logistic_regression"} <= set(manifest["baselines"])
    loaded = RiskModel.load(out)
    records = list(read_records(history, ColumnMapping.load(MAPPING), limit=50))
    assert np.allclose(loaded.probabilities(records), model.probabilities(records))
    assert loaded.probability(records[0]) == pytest.approx(float(model.probabilities(records[:1])[0]))


def test_encodings_are_fitted_on_the_training_period_only(trained, history: Path) -> None:  # type: ignore[no-untyped-def]
    model, _out = trained
    records = list(read_records(history, ColumnMapping.load(MAPPING)))
    _train, held, _cut = time_split(records, 30)
    held_only = {r.importer for r in held} - {r.importer for r in _train}
    assert held_only and not held_only & set(model.encoder.rates["importer"])


def test_ranking_metrics_on_a_hand_made_example() -> None:
    scores = np.arange(100, 0, -1, dtype=float)  # row 0 ranked first
    fraud = np.zeros(100, dtype=int)
    fraud[[0, 1, 50]] = 1
    revenue = np.ones(100)
    revenue[50] = 8.0
    metrics = ranking_metrics(scores, fraud, revenue)
    assert metrics["precision@1"] == 1.0 and metrics["recall@2"] == round(2 / 3, 4)
    assert metrics["revenue@2"] == 0.2 and metrics["precision@10"] == 0.2


def test_promotion_needs_a_candidate_at_least_as_good_on_both_rankings() -> None:
    current = {"fraud": {"precision@5": 0.5}, "revenue": {"revenue@5": 0.8}}
    assert compare({"fraud": {"precision@5": 0.5}, "revenue": {"revenue@5": 0.8}}, current).promoted
    assert not compare({"fraud": {"precision@5": 0.6}, "revenue": {"revenue@5": 0.7}}, current).promoted
    assert compare(current, None).promoted
