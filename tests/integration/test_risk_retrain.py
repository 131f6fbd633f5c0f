"""The retrain job judges the model in force on the amounts it learnt from, whatever currency the
new training data is in, and records its decision."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from app.config import PROJECT_ROOT
from app.db.risk_models import RiskModelPromotion
from app.risk.importer import ColumnMapping, read_records
from app.risk.jobs import value_factor
from app.risk.model import RiskModel, evaluate, time_split
from app.risk.scoring import shipped_models
from app.risk.training import retrain_and_promote
from tests.unit.test_risk_model import MAPPING, write_history


def test_exchange_factors_between_hkd_and_the_configured_currency() -> None:
    assert value_factor("HKD", "HKD", 170.0) == 1.0
    assert value_factor("HKD", "KRW", 170.0) == 170.0
    assert value_factor("KRW", "HKD", 200.0) == 0.005
    with pytest.raises(ValueError, match="USD"):
        value_factor("USD", "KRW", 170.0)


def test_the_model_in_force_is_judged_on_amounts_in_its_own_currency(clean_app: Flask, tmp_path: Path) -> None:
    history = sorted(read_records(write_history(tmp_path / "history.csv", rows=1500), ColumnMapping.load(MAPPING)),
                     key=lambda r: r.declared_on)
    in_hkd = [replace(r, value=r.value / 2, revenue=(r.revenue or 0.0) / 2) for r in history]
    current_dir = shipped_models(PROJECT_ROOT / "rules")[-1]
    with clean_app.extensions["csw"].sessions() as session:
        report = retrain_and_promote(session, history=in_hkd, current_dir=current_dir, models_dir=tmp_path / "models",
                                     instance_dir=tmp_path, actor="test", now=datetime.now(timezone.utc),
                                     currency="HKD", current_value_factor=2.0)
        decision = session.scalars(select(RiskModelPromotion)).one()
    _train, held_out, _cut = time_split(history, 30)
    expected = evaluate(RiskModel.load(current_dir), held_out)
    assert decision.current_metrics is not None
    assert decision.current_metrics["fraud"] == expected["fraud"]
    assert decision.current_metrics["revenue"] == expected["revenue"]
    assert report["current"] == decision.current_version == current_dir.name and decision.actor == "test"
