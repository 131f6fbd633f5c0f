"""``csw risk train`` / ``evaluate`` / ``score`` and the retrain/promote job, on a small synthetic history."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import select

from app.cli import main
from app.db import models
from app.db.risk_models import RiskModelPromotion
from app.jobs import JOBS, run_job
from app.risk.importer import ColumnMapping, read_records
from app.risk.model import RiskModel
from app.risk.scoring import CURRENT_POINTER
from tests.unit.test_risk_model import MAPPING, write_history


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_history(tmp_path_factory.mktemp("risk-data") / "history.csv", rows=2000, repeat=0.3)


METRICS = {f"{kind}@{rate}" for kind in ("precision", "recall", "revenue") for rate in (1, 2, 5, 10)}


@pytest.fixture(scope="module")
def model_dir(history: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("risk-model") / "model"
    trained = CliRunner().invoke(main, ["risk", "train", "--csv", str(history), "--out", str(out),
                                        "--holdout-days", "30"])
    assert trained.exit_code == 0, trained.output
    assert "validated on" in trained.output and "baseline profile_history" in trained.output
    return out


def assert_report(report: dict) -> None:
    """Both rankings at every rate, the AUC, on all rows and on rows of unseen goods profiles."""
    for part in (report, report["unseen_profiles"]):
        assert set(part["fraud"]) == METRICS and set(part["revenue"]) == METRICS
        assert {"auc", "rows", "frauds"} <= set(part)
    assert 0 < report["unseen_profiles"]["rows"] <= report["rows"]


def test_train_then_evaluate_prints_metrics_for_both_rankings_with_the_baselines(history: Path,
                                                                                 model_dir: Path) -> None:
    runner = CliRunner()
    table = runner.invoke(main, ["risk", "evaluate", "--model", str(model_dir), "--csv", str(history)])
    assert table.exit_code == 0 and "revenue" in table.output and "10%" in table.output
    assert "unseen in training" in table.output and "baseline logistic_regression" in table.output
    result = runner.invoke(main, ["risk", "evaluate", "--model", str(model_dir), "--csv", str(history), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert set(report) == {"fraud", "revenue", "auc", "rows", "frauds", "unseen_profiles", "baselines"}
    assert_report(report)
    assert set(report["baselines"]) == {"hs6_rate", "profile_history", "logistic_regression"}
    for baseline in report["baselines"].values():
        assert_report(baseline)
        assert baseline["unseen_profiles"]["rows"] == report["unseen_profiles"]["rows"]


def test_evaluate_warns_about_training_rows_and_can_score_only_the_later_ones(history: Path, model_dir: Path) -> None:
    runner = CliRunner()
    manifest = json.loads((model_dir / "manifest.json").read_text())
    whole = runner.invoke(main, ["risk", "evaluate", "--model", str(model_dir), "--csv", str(history), "--json"])
    assert whole.exit_code == 0 and "training period" in whole.stderr
    held = runner.invoke(main, ["risk", "evaluate", "--model", str(model_dir), "--csv", str(history), "--json",
                                "--held-out"])
    assert held.exit_code == 0 and "training period" not in held.stderr
    report = json.loads(held.stdout)
    assert {key: report[key] for key in manifest["metrics"]} == manifest["metrics"]
    assert report["baselines"] == manifest["baselines"]


def test_score_writes_one_line_per_row_with_its_id_probability_and_revenue_score(history: Path, model_dir: Path,
                                                                                tmp_path: Path) -> None:
    """Anyone can score data of their own: no fraud column needed, one output line per input row."""
    rows = list(csv.reader(history.open()))
    header = rows[0]
    keep = [i for i, name in enumerate(header) if name not in ("Fraud", "Critical Fraud")]
    unlabelled = tmp_path / "later.csv"
    with unlabelled.open("w", newline="") as handle:
        csv.writer(handle).writerows([[row[i] for i in keep] for row in rows[:301]])
    out = tmp_path / "scores.csv"
    result = CliRunner().invoke(main, ["risk", "score", "--model", str(model_dir), "--csv", str(unlabelled),
                                       "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "scored 300 rows" in result.output
    lines = list(csv.DictReader(out.open()))
    assert list(lines[0]) == ["Declaration ID", "fraud_probability", "revenue_score"]
    assert [line["Declaration ID"] for line in lines] == [row[0] for row in rows[1:301]]
    model = RiskModel.load(model_dir)
    records = list(read_records(unlabelled, ColumnMapping.load(MAPPING), labelled=False))
    expected = model.probabilities(records)
    assert [float(line["fraud_probability"]) for line in lines] == pytest.approx(expected, abs=1e-6)
    assert [float(line["revenue_score"]) for line in lines] == pytest.approx(
        expected * np.array([r.value for r in records]), abs=0.01)
    missing = CliRunner().invoke(main, ["risk", "score", "--model", str(model_dir), "--csv", str(out),
                                        "--out", str(tmp_path / "x.csv")])
    assert missing.exit_code != 0 and "columns missing" in missing.output


def test_an_unknown_mapping_is_a_clear_error(history: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["risk", "train", "--csv", str(history), "--mapping", "nope",
                                       "--out", str(tmp_path / "m")])
    assert result.exit_code != 0 and "mapping not found" in result.output


def test_the_retrain_job_records_its_promotion_decision(clean_app: Flask, history: Path, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CSW_INSTANCE_DIR", str(tmp_path))
    monkeypatch.setenv("CSW_RISK_HISTORY_CSV", str(history))
    monkeypatch.delenv("CSW_RISK_MODEL_DIR", raising=False)
    database = clean_app.extensions["csw"].database
    sessions = database.sessions
    run = run_job(database, "risk-retrain", JOBS["risk-retrain"])
    assert run is not None and run.outcome == "ok", run.detail if run else None
    with sessions() as session:
        decision = session.scalars(select(RiskModelPromotion)).one()
        assert decision.current_version is not None and decision.current_metrics is not None
        assert "precision@5" in decision.reason and decision.actor == "job:risk-retrain"
        assert session.scalars(select(models.JobRun).where(models.JobRun.job == "risk-retrain")).one().outcome == "ok"
    pointer = tmp_path / "risk" / CURRENT_POINTER
    assert pointer.exists() == decision.promoted
    if decision.promoted:
        assert Path(pointer.read_text().strip()).name == decision.candidate_version


def test_thresholds_are_derived_from_stored_scores(clean_app: Flask, database_url: str,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.conftest import auth
    from tests.factories import declaration_xml

    monkeypatch.setenv("CSW_DATABASE_URL", database_url)
    runner = CliRunner()
    empty = runner.invoke(main, ["risk", "thresholds"])
    assert empty.exit_code != 0 and "no risk assessments" in empty.output
    client = clean_app.test_client()
    for n in range(3):
        assert client.post("/api/v1/declarations", data=declaration_xml(lrn=f"LRN-THR-{n}"),
                           headers=auth()).status_code == 202
    result = runner.invoke(main, ["risk", "thresholds"])
    assert result.exit_code == 0, result.output
    assert "over the last 3 assessments" in result.output and "[thresholds]" in result.output
