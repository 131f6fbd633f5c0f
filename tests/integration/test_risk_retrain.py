"""The retrain job judges the model in force on the amounts it learnt from, whatever currency the
new training data is in, and records its decision; an officer's seizure reaches the next model."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.config import PROJECT_ROOT
from app.db import models
from app.db.risk_models import RiskModelPromotion
from app.risk.feedback import record_outcome
from app.risk.importer import ColumnMapping, read_records
from app.risk.jobs import value_factor
from app.risk.model import RiskModel, evaluate, time_split
from app.risk.scoring import shipped_models
from app.risk.records import stored_records
from app.risk.training import retrain_and_promote
from tests.conftest import auth
from tests.factories import declaration_xml
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


def test_a_seizure_an_officer_records_is_remembered_by_the_next_model(client: FlaskClient, clean_app: Flask,
                                                                      tmp_path: Path) -> None:
    """The feedback loop end to end: lodge, inspect, record a seizure; the retrained model knows
    the goods profile, scores it above the same goods at another mass, and says why."""
    ack = client.post("/api/v1/declarations", data=declaration_xml(lrn="LRN-FEEDBACK"),
                      headers=auth(accept="application/json"))
    reference = ack.get_json()["declaration_id"]
    history = sorted(read_records(write_history(tmp_path / "history.csv", rows=1500, repeat=0.3),
                                  ColumnMapping.load(MAPPING)), key=lambda r: r.declared_on)
    sessions = clean_app.extensions["csw"].sessions
    with sessions() as session, session.begin():
        record_outcome(session, declaration_id=reference, result="seizure", revenue_recovered=Decimal("1500.00"),
                       actor="officer:chan", occurred_at=datetime(2020, 2, 15, tzinfo=timezone.utc))
    with sessions() as session, session.begin():
        report = retrain_and_promote(session, history=history, current_dir=None, models_dir=tmp_path / "models",
                                     instance_dir=tmp_path, actor="test", now=datetime.now(timezone.utc))
        lodged = stored_records(session.get(models.Declaration, reference))
    assert report["promoted"] is True
    candidate = RiskModel.load(tmp_path / "models" / str(report["candidate"]))
    seized = lodged[0]
    assert candidate.encoder.profile_history([seized]) == [(1, 1)]
    assert "(HS 851713, 2.5 kg, same value) were inspected 1 time before: fraud found 1 time" \
        in candidate.explain(seized)[0]
    assert candidate.probability(seized) > candidate.probability(replace(seized, net_mass=seized.net_mass + 0.1))
