"""``csw risk train`` / ``csw risk evaluate`` and the retrain/promote job, on a small synthetic history."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import select

from app.cli import main
from app.db import models
from app.db.risk_models import RiskModelPromotion
from app.jobs import JOBS, run_job
from app.risk.scoring import CURRENT_POINTER
from tests.unit.test_risk_model import write_history


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_history(tmp_path_factory.mktemp("risk-data") / "history.csv", rows=2000)


def test_train_then_evaluate_prints_metrics_for_both_rankings(history: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "model"
    trained = runner.invoke(main, ["risk", "train", "--csv", str(history), "--out", str(out),
                                   "--holdout-days", "30", "--no-baselines"])
    assert trained.exit_code == 0, trained.output
    assert "validated on" in trained.output and (out / "manifest.json").exists()
    table = runner.invoke(main, ["risk", "evaluate", "--model", str(out), "--csv", str(history)])
    assert table.exit_code == 0 and "revenue" in table.output and "10%" in table.output
    result = runner.invoke(main, ["risk", "evaluate", "--model", str(out), "--csv", str(history), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert set(report) == {"fraud", "revenue", "auc"}
    for ranking in ("fraud", "revenue"):
        assert {f"{kind}@{rate}" for kind in ("precision", "recall", "revenue") for rate in (1, 2, 5, 10)} \
            == set(report[ranking])


def test_evaluate_warns_about_training_rows_and_can_score_only_the_later_ones(history: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "model"
    assert runner.invoke(main, ["risk", "train", "--csv", str(history), "--out", str(out), "--holdout-days", "30",
                                "--no-baselines"]).exit_code == 0
    manifest = json.loads((out / "manifest.json").read_text())
    whole = runner.invoke(main, ["risk", "evaluate", "--model", str(out), "--csv", str(history), "--json"])
    assert whole.exit_code == 0 and "training period" in whole.stderr
    held = runner.invoke(main, ["risk", "evaluate", "--model", str(out), "--csv", str(history), "--json",
                                "--held-out"])
    assert held.exit_code == 0 and "training period" not in held.stderr
    assert json.loads(held.stdout) == {key: manifest["metrics"][key] for key in ("fraud", "revenue", "auc")}


def test_an_unknown_mapping_is_a_clear_error(history: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["risk", "train", "--csv", str(history), "--mapping", "nope",
                                       "--out", str(tmp_path / "m")])
    assert result.exit_code != 0 and "mapping not found" in result.output


def test_the_retrain_job_records_its_promotion_decision(clean_app: Flask, history: Path, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CSW_INSTANCE_DIR", str(tmp_path))
    monkeypatch.setenv("CSW_RISK_HISTORY_CSV", str(history))
    monkeypatch.delenv("CSW_RISK_MODEL_DIR", raising=False)
    sessions = clean_app.extensions["csw"].sessions
    run = run_job(sessions, "risk-retrain", JOBS["risk-retrain"])
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
