"""Import, training, evaluation, explanations and the model artefact, on a small synthetic history (seconds)."""
from __future__ import annotations

import csv
import json
import random
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier

from app.config import PROJECT_ROOT
from app.domain.risk import RiskRecord
from app.risk.baselines import load_baselines
from app.risk.evaluation import RATES, ranking_metrics
from app.risk.features import FeatureEncoder, profile_of
from app.risk.importer import ColumnMapping, MappingError, file_sha256, read_records
from app.risk.model import FLAT_FOREST_ROWS, FORMAT, FlatForest, ModelFormatError, RiskModel, time_split
from app.risk.scoring import CURRENT_POINTER, model_directory, shipped_models
from app.risk.training import baseline_reports, compare, train_from_csv

MAPPING = PROJECT_ROOT / "rules/risk/mappings/customs-declarations.toml"
HEADER = ["Declaration ID", "Date", "Office ID", "Process Type", "Import Type", "Import Use", "Payment Type",
          "Mode of Transport", "Declarant ID", "Importer ID", "Seller ID", "Courier ID", "HS6 Code",
          "Country of Departure", "Country of Origin", "Tax Rate", "Tax Type", "Country of Origin Indicator",
          "Net Mass", "Item Price", "Fraud", "Critical Fraud"]


def write_history(path: Path, rows: int = 3000, seed: int = 7, repeat: float = 0.0) -> Path:
    """Declarations over 120 days; fraud is likelier for HS 240220 from VN and for payment type 43.
    A share ``repeat`` of the rows repeat an earlier row's goods profile (HS6, net mass) with its
    outcome, as the public data set does."""
    rng = random.Random(seed)
    earlier: list[tuple[str, float, int]] = []
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
            if earlier and rng.random() < repeat:
                hs6, mass, fraud = rng.choice(earlier)
            earlier.append((hs6, mass, fraud))
            day = date(2020, 1, 1) + timedelta(days=n * 120 // rows)
            writer.writerow([f"{n:08d}", day.isoformat(), rng.choice(["20", "30", "40"]), "B", "11", "21", payment,
                             rng.choice(["10", "40"]), f"D{n % 40}", f"I{n // 5}", f"S{n % 500}", "",
                             hs6, origin, origin, "8.0", "A", "Y", mass, round(mass * 1000, 2), fraud, 0])
    return path


def every_key_mapping(directory: Path) -> Path:
    """The shipped mapping without its ``[model]`` section: the new-profile model then uses
    every key (the default), payment type included."""
    text = MAPPING.read_text(encoding="utf-8")
    path = directory / "every-key.toml"
    path.write_text(text[:text.index("[model]")], encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_history(tmp_path_factory.mktemp("data") / "history.csv", repeat=0.3)


@pytest.fixture(scope="module")
def trained(history: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[RiskModel, Path]:
    directory = tmp_path_factory.mktemp("model")
    out = directory / "m"
    model = train_from_csv(history, str(every_key_mapping(directory)), PROJECT_ROOT / "rules", out, holdout_days=30)
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
    unseen = metrics["unseen_profiles"]
    assert 0 < unseen["rows"] < metrics["rows"] and unseen["auc"] > 0.6  # payment type 43 is learnt for new goods
    assert set(unseen["fraud"]) == set(metrics["fraud"]) and set(unseen["revenue"]) == set(metrics["revenue"])


def test_the_artefact_is_versioned_with_its_data_hash_features_metrics_and_baselines(trained, history: Path) -> None:  # type: ignore[no-untyped-def]
    model, out = trained
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["version"] == model.version and manifest["version"].startswith("rm-")
    assert manifest["format"] == FORMAT
    assert manifest["training_data"]["sha256"] == file_sha256(history)
    assert manifest["features"] == model.encoder.feature_names
    assert manifest["novelty_features"] == model.encoder.novelty_feature_names
    assert "time split" in manifest["validation"]
    assert set(manifest["baselines"]) == {"hs6_rate", "profile_history", "logistic_regression"}
    loaded = RiskModel.load(out)
    records = list(read_records(history, ColumnMapping.load(MAPPING), limit=50))
    assert np.allclose(loaded.probabilities(records), model.probabilities(records))
    assert loaded.probability(records[0]) == pytest.approx(float(model.probabilities(records[:1])[0]))
    _train, held, _cut = time_split(list(read_records(history, ColumnMapping.load(MAPPING))), 30)
    saved = load_baselines(out)
    assert baseline_reports(loaded, saved, held) == manifest["baselines"]


def test_encodings_are_fitted_on_the_training_period_only(trained, history: Path) -> None:  # type: ignore[no-untyped-def]
    model, _out = trained
    records = list(read_records(history, ColumnMapping.load(MAPPING)))
    _train, held, _cut = time_split(records, 30)
    held_only = {r.importer for r in held} - {r.importer for r in _train}
    assert held_only and not held_only & set(model.encoder.counts["importer"])
    assert len(model.encoder.profiles) == len({profile_of(r) for r in _train})


def item(day: int, mass: float, fraud: bool, hs_code: str = "851713", importer: str = "I1") -> RiskRecord:
    return RiskRecord(declaration_id=f"D{day}-{mass}", item_sequence=1, declared_on=date(2020, 1, day),
                      hs_code=hs_code, origin_country="CN", departure_country="CN", declaration_type="IM",
                      transport_mode="10", office="30", importer=importer, declarant="D1", seller="S1", carrier="",
                      value=mass * 100, net_mass=mass, tax_rate=8.0, fraud=fraud)


def test_a_training_row_sees_only_the_history_of_earlier_days() -> None:
    """Seized on day 1, cleared on day 2 (twice: neither sees the other), seen again on day 3."""
    records = [item(1, 12.5, True), item(2, 12.5, False), item(2, 12.5, False, importer="I2"), item(3, 12.5, False),
               item(3, 40.0, True)]
    encoder = FeatureEncoder()
    matrix, novelty, new_profile = encoder.fit(records, np.array([1, 0, 0, 0, 1]))
    names = encoder.feature_names
    inspections = matrix[:, names.index("profile_inspections")]
    share = matrix[:, names.index("profile_fraud_share")]
    assert inspections.tolist() == [0, 1, 1, 3, 0]
    assert share.tolist() == [-1.0, 1.0, 1.0, pytest.approx(1 / 3), -1.0]
    assert new_profile.tolist() == [True, False, False, False, True] and len(novelty) == 2
    seen_importer = matrix[:, names.index("log_seen:importer")]
    assert seen_importer.tolist() == pytest.approx([0, np.log1p(1), 0, np.log1p(2), np.log1p(2)])
    assert encoder.profile_history([item(4, 12.5, False)]) == [(4, 1)]
    assert encoder.counts["hs6"]["851713"] == (5, 2)


def test_a_seized_goods_profile_is_remembered_and_named_in_the_reason(trained, history: Path) -> None:  # type: ignore[no-untyped-def]
    model, _out = trained
    seized = [(profile, n) for profile, (n, frauds) in model.encoder.profiles.items() if n >= 2 and frauds == n]
    cleared = [(profile, n) for profile, (n, frauds) in model.encoder.profiles.items() if n >= 2 and frauds == 0]
    assert seized and cleared
    (hs6, mass, value), n = seized[0]  # value: 100 x its logarithm
    again = replace(item(28, mass, False, hs_code=hs6 + "00"), declared_on=date(2020, 6, 1), value=np.exp(value / 100))
    (clean_hs6, clean_mass, clean_value), _n = cleared[0]
    clean = replace(again, hs_code=clean_hs6 + "00", net_mass=clean_mass, value=np.exp(clean_value / 100))
    assert model.probability(again) > 0.8 > 0.2 > model.probability(clean)
    assert f"same value) were inspected {n} times before: fraud found {n} times" in model.explain(again)[0]
    for other in (replace(again, net_mass=mass + 0.5), replace(again, value=again.value * 1.05)):
        assert "new goods profile" in model.explain(other)[0]


def test_new_goods_profiles_are_ranked_by_the_model_of_first_inspections(trained) -> None:  # type: ignore[no-untyped-def]
    model, _out = trained
    assert model.novelty is not None
    new = [item(5, 1234.567, False, hs_code="24022000"), item(5, 2345.678, False)]
    assert model.encoder.profile_history(new) == [(0, 0), (0, 0)]
    expected = model.novelty.predict_proba(model.encoder.novelty_transform(new))[:, 1]
    assert np.allclose(model.probabilities(new), expected)


def test_the_shipped_mapping_sets_the_new_profile_keys_and_an_unknown_key_is_named() -> None:
    mapping = ColumnMapping.load(MAPPING)
    assert mapping.new_profile_keys == ("hs6", "hs4", "tax_rate", "route", "hs6_tariff")
    encoder = FeatureEncoder(novelty_keys=("hs6", "importer_country"))
    with pytest.raises(ValueError, match="importer_country"):
        encoder.fit([item(1, 1.0, True)], np.array([1]))


def test_an_older_artefact_is_refused_by_name_and_passed_over_at_start_up(trained, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _model, out = trained
    old = tmp_path / "rm-old"
    old.mkdir()
    manifest = json.loads((out / "manifest.json").read_text())
    del manifest["format"]
    (old / "manifest.json").write_text(json.dumps(manifest))
    (old / "model.joblib").write_bytes((out / "model.joblib").read_bytes())
    with pytest.raises(ModelFormatError, match="rm-old: model format 1"):
        RiskModel.load(old)
    pointer = tmp_path / "instance" / "risk" / CURRENT_POINTER
    pointer.parent.mkdir(parents=True)
    pointer.write_text(str(old))
    assert model_directory(PROJECT_ROOT / "rules", tmp_path / "instance") == shipped_models(PROJECT_ROOT / "rules")[-1]
    pointer.write_text(str(out))
    assert model_directory(PROJECT_ROOT / "rules", tmp_path / "instance") == out


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


def test_the_flat_forest_scores_as_scikit_learn_with_missing_values_either_way(trained) -> None:  # type: ignore[no-untyped-def]
    """A request's few rows are walked by the flat forest; a missing value (NaN) must take the
    branch scikit-learn's node sends it down, left or right, at every depth."""
    model, _out = trained
    assert model.forest is not None
    width = model.classifier.n_features_in_
    rng = np.random.default_rng(3)
    rows = rng.normal(size=(60, width)) * rng.choice([0.01, 1.0, 100.0, 10_000.0], size=(60, 1))
    rows[rng.random(rows.shape) < 0.3] = np.nan
    rows[0] = np.nan
    expected = model.classifier.predict_proba(rows)[:, 1]
    assert np.allclose(model.forest.probabilities(rows), expected, rtol=1e-12, atol=0)  # the sums' order differs


@pytest.mark.parametrize("leaves", [2, 8, 9, 31, 33, 64])
def test_the_flat_forest_scores_as_scikit_learn_for_request_sized_batches(leaves: int) -> None:
    """Trees of up to 64 leaves (one bit each, in 8 to 64-bit masks), rows with and without
    missing values (each split sends them to its larger child: left or right), one row at a
    time up to a whole flat-forest batch."""
    rng = np.random.default_rng(leaves)
    train = rng.normal(size=(3000, 6))
    labels = ((train[:, 0] + train[:, 1] * train[:, 2] > 0.3) ^ (rng.random(3000) < 0.1)).astype(int)
    classifier = HistGradientBoostingClassifier(max_iter=20, max_leaf_nodes=leaves, min_samples_leaf=5,
                                                early_stopping=False, random_state=0).fit(train, labels)
    forest = FlatForest.of(classifier)
    rows = rng.normal(size=(FLAT_FOREST_ROWS, 6)) * rng.choice([0.01, 1.0, 100.0], size=(FLAT_FOREST_ROWS, 1))
    rows[rng.random(rows.shape) < 0.25] = np.nan
    rows[0] = np.nan
    for count in (1, 2, 5, 10, FLAT_FOREST_ROWS):
        expected = classifier.predict_proba(rows[:count])[:, 1]
        assert np.allclose(forest.probabilities(rows[:count]), expected, rtol=1e-12, atol=0)


def test_trees_of_more_than_64_leaves_are_scored_by_scikit_learn(trained) -> None:  # type: ignore[no-untyped-def]
    model, _out = trained
    rng = np.random.default_rng(1)
    train = rng.normal(size=(2000, 4))
    classifier = HistGradientBoostingClassifier(max_iter=3, max_leaf_nodes=80, min_samples_leaf=2,
                                                early_stopping=False, random_state=0).fit(train, rng.random(2000) < 0.5)
    assert max(int(p[0].nodes["is_leaf"].sum()) for p in classifier._predictors) > 64
    with pytest.raises(ValueError, match="64"):
        FlatForest.of(classifier)
    wide = RiskModel(model.encoder, classifier, None, model.manifest)
    assert wide.forest is None
