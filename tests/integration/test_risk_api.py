"""Risk scoring end to end: lodge -> score, lane and reasons stored per version, the lane (and,
for customs clients only, the criteria) in the acknowledgement and the status, re-scored on
amendment; inspection outcomes feed back."""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import pytest
from flask import Flask
from flask.testing import FlaskClient
from lxml import etree
from sqlalchemy import select

from app.db import models
from app.db.risk_models import InspectionOutcome, RiskAssessment
from app.domain.problems import Rejection
from app.risk.feedback import record_outcome
from app.risk.service import latest_assessment
from app.risk.training import outcome_records
from app.users.clients import create_client, ensure_party
from tests.conftest import auth
from tests.factories import declaration_xml
from tests.integration.test_aeo_effects import operator, register

API = "/api/v1/declarations"
NS = {"r": "urn:csw:response:v1"}
CUSTOMS_KEY = "csw_test_customs_lodger_0000000000"
CRITERIA = ("score", "revenue_at_stake", "random_sample", "model_version", "reasons")


def with_importer(body: bytes, importer: str) -> bytes:
    party = f"<Importer><Name>Importer</Name><ID>{importer}</ID></Importer>"
    return body.replace(b"<GoodsShipment>", party.encode() + b"<GoodsShipment>", 1)


@pytest.fixture()
def no_sampling(clean_app: Flask):  # type: ignore[no-untyped-def]
    """The policy without its random draw, so lanes follow the score alone in these tests."""
    from dataclasses import replace

    services = clean_app.extensions["csw"]
    original = services.risk
    services.risk = replace(original, policy=replace(original.policy, sample_rate=0.0))
    services.risk_history.clear()
    yield services.risk
    services.risk = original


def test_a_known_bad_declaration_goes_red_for_its_stated_reasons_which_the_trader_is_not_told(  # type: ignore[no-untyped-def]
        client: FlaskClient, clean_app: Flask, no_sampling, response_schema) -> None:
    body = with_importer(declaration_xml(lrn="LRN-RISK-BAD", value="10.00"), "99999999")
    ack = client.post(API, data=body, headers=auth())
    assert ack.status_code == 202
    document = etree.fromstring(ack.data)
    response_schema.assertValid(document)
    assert document.findtext("r:Risk/r:Lane", namespaces=NS) == "red"
    assert [etree.QName(child).localname for child in document.find("r:Risk", NS)] == ["Lane"]
    assert b"watchlist" not in ack.data and b"Score" not in ack.data
    reference = document.findtext("r:DeclarationID", namespaces=NS)
    status = client.get(f"{API}/{reference}", headers=auth(accept="application/json")).get_json()
    assert status["lane"] == "red" and status["risk"] == {"lane": "red"}
    with clean_app.extensions["csw"].sessions() as session:
        view = latest_assessment(session, reference)
    assert view is not None and view.lane == "red" and view.score >= 70
    texts = [text for _points, text in view.reasons]
    assert any("watchlist" in t for t in texts) and any("far below the reference" in t for t in texts)


def test_a_customs_client_is_given_the_risk_criteria(client: FlaskClient, clean_app: Flask,  # type: ignore[no-untyped-def]
                                                     no_sampling, response_schema) -> None:
    with clean_app.extensions["csw"].sessions() as session, session.begin():
        customs = ensure_party(session, "00000001", "Customs and Excise Department")
        create_client(session, "customs-lodger", customs, key=CUSTOMS_KEY, role="admin")
    body = with_importer(declaration_xml(lrn="LRN-RISK-CUSTOMS", value="10.00", declarant="00000001"), "99999999")
    ack = client.post(API, data=body, headers=auth(CUSTOMS_KEY))
    assert ack.status_code == 202, ack.text
    document = etree.fromstring(ack.data)
    response_schema.assertValid(document)
    assert int(document.findtext("r:Risk/r:Score", namespaces=NS)) >= 70
    texts = [t.text for t in document.findall("r:Risk/r:Reasons/r:Reason/r:Text", NS)]
    assert any("watchlist" in t for t in texts)
    reference = document.findtext("r:DeclarationID", namespaces=NS)
    risk = client.get(f"{API}/{reference}", headers=auth(CUSTOMS_KEY, "application/json")).get_json()["risk"]
    assert set(CRITERIA) <= set(risk) and risk["model_version"].startswith("rm-")


def test_an_aeo_tier_2_trader_with_clean_findings_goes_green(client: FlaskClient, clean_app: Flask,  # type: ignore[no-untyped-def]
                                                             no_sampling, response_schema) -> None:
    register(clean_app, operator("12345678", tier=2))
    body = with_importer(declaration_xml(lrn="LRN-RISK-AEO", value="4000.00"), "12345678")
    ack = client.post(API, data=body, headers=auth(accept="application/json"))
    assert ack.status_code == 202
    assert ack.get_json()["risk"] == {"lane": "green"}
    reference = ack.get_json()["declaration_id"]
    status = client.get(f"{API}/{reference}", headers=auth(accept="application/json")).get_json()
    assert status["lane"] == "green" and not set(CRITERIA) & set(status["risk"])
    response_schema.assertValid(etree.fromstring(client.get(f"{API}/{reference}", headers=auth()).data))
    with clean_app.extensions["csw"].sessions() as session:
        row = session.get(models.Declaration, reference)
        view = latest_assessment(session, reference)
        assert view is not None and view.lane == "green" and view.model_version.startswith("rm-")
        assert row is not None and row.lane == "green" and row.risk_score == view.score
        assert 0 <= view.score <= 100 and not view.random_sample and row.revenue_at_stake == view.revenue_at_stake
        assert any(points < 0 and "AEO tier 2" in text for points, text in view.reasons)


def test_an_amendment_is_rescored_and_each_version_keeps_its_assessment(client: FlaskClient, clean_app: Flask,  # type: ignore[no-untyped-def]
                                                                        no_sampling) -> None:
    first = client.post(API, data=declaration_xml(lrn="LRN-RISK-AM", value="4000.00"),
                        headers=auth(accept="application/json"))
    reference = first.get_json()["declaration_id"]
    amended = with_importer(declaration_xml(lrn="LRN-RISK-AM", value="10.00", function_code="13"), "99999999")
    second = client.post(f"{API}/{reference}/amendments", data=amended, headers=auth(accept="application/json"))
    assert second.status_code == 202 and second.get_json()["version"] == 2
    assert second.get_json()["risk"]["lane"] == "red"
    with clean_app.extensions["csw"].sessions() as session:
        rows = session.scalars(select(RiskAssessment).where(RiskAssessment.declaration_id == reference)
                               .order_by(RiskAssessment.version)).all()
        assert [r.version for r in rows] == [1, 2] and rows[1].score > rows[0].score
        assert session.get(models.Declaration, reference).lane == "red"


def test_a_replayed_declaration_reports_the_stored_assessment(client: FlaskClient, no_sampling) -> None:  # type: ignore[no-untyped-def]
    body = declaration_xml(lrn="LRN-RISK-REPLAY")
    first = client.post(API, data=body, headers=auth(accept="application/json")).get_json()
    again = client.post(API, data=body, headers=auth(accept="application/json")).get_json()
    assert again["replay"] is True and again["risk"] == first["risk"]


def test_inspection_outcomes_are_stored_as_training_data(client: FlaskClient, clean_app: Flask) -> None:
    ack = client.post(API, data=declaration_xml(lrn="LRN-RISK-OUT"), headers=auth(accept="application/json"))
    reference = ack.get_json()["declaration_id"]
    now = datetime.now(timezone.utc)
    with clean_app.extensions["csw"].sessions() as session, session.begin():
        record_outcome(session, declaration_id=reference, result="seizure", revenue_recovered=Decimal("1500.00"),
                       actor="officer:chan", occurred_at=now, note="undeclared cigarettes")
    with clean_app.extensions["csw"].sessions() as session:
        outcome = session.scalars(select(InspectionOutcome)).one()
        assessment = latest_assessment(session, reference)
        assert outcome.declaration_id == reference and outcome.result == "seizure" and outcome.version == 1
        assert assessment is not None and outcome.random_sample == assessment.random_sample
        assert outcome.lane == ack.get_json()["risk"]["lane"] == assessment.lane
    with clean_app.extensions["csw"].sessions() as session:
        examples = outcome_records(session)
        assert [(r.declaration_id, r.fraud, r.hs_code) for r in examples] == [(reference, True, "85171300")]
        assert examples[0].value == pytest.approx(1200.0) and examples[0].revenue == pytest.approx(1200.0)
        assert examples[0].importer == "" and examples[0].declarant == "12345678"
    with clean_app.extensions["csw"].sessions() as session:
        with pytest.raises(Rejection) as refused:
            record_outcome(session, declaration_id=reference, result="maybe", revenue_recovered=Decimal(0),
                           actor="officer:chan", occurred_at=now)
        assert refused.value.code == "INVALID_PARAMETER"


def test_thresholds_can_follow_target_rates_over_recent_declarations(client: FlaskClient, clean_app: Flask,  # type: ignore[no-untyped-def]
                                                                     no_sampling) -> None:
    from dataclasses import replace

    from app.domain.risk import thresholds_for_rates
    from app.risk.service import recent_thresholds
    from app.platform.cache import TtlCache

    for n, (value, importer) in enumerate([("4000.00", "12345678"), ("10.00", "99999999"),
                                           ("1200.00", "55555555"), ("10.00", "12345678")]):
        body = with_importer(declaration_xml(lrn=f"LRN-RISK-T{n}", value=value), importer)
        assert client.post(API, data=body, headers=auth()).status_code == 202
    fixed = no_sampling.policy
    derived = replace(fixed, derive_thresholds=True, target_red_rate=0.25, target_yellow_rate=0.25, recent_minimum=4)
    with clean_app.extensions["csw"].sessions() as session:
        scores = list(session.scalars(select(RiskAssessment.score)))
        cache: TtlCache = TtlCache(60)
        found = recent_thresholds(session, derived, cache)
        assert found == thresholds_for_rates(scores, 0.25, 0.25)
        assert sum(s >= found.red for s in scores) == 1
        assert recent_thresholds(session, fixed, cache) is None
        assert recent_thresholds(session, replace(derived, recent_minimum=5, version="other"), cache) is None


def test_a_transit_alert_on_the_journey_sends_the_amended_declaration_red(client: FlaskClient, clean_app: Flask,  # type: ignore[no-untyped-def]
                                                                          no_sampling, response_schema) -> None:
    from app.config import PROJECT_ROOT
    from app.db.transit_models import Journey, JourneyAlert

    body = (PROJECT_ROOT / "samples/valid/transhipment-elock.xml").read_bytes()
    ack = client.post(API, data=body, headers=auth(accept="application/json"))
    assert ack.status_code == 202, ack.get_json()
    reference = ack.get_json()["declaration_id"]
    now = datetime.now(timezone.utc)
    with clean_app.extensions["csw"].sessions() as session, session.begin():
        journey = session.scalars(select(Journey).where(Journey.declaration_id == reference)).one()
        session.add(JourneyAlert(journey_id=journey.id, declaration_id=reference, kind="seal_tampered",
                                 occurred_at=now, raised_at=now, message="lock opened en route", evidence={}))
    amendment = body.replace(b"<FunctionCode>9</FunctionCode>", b"<FunctionCode>13</FunctionCode>", 1)
    answer = client.post(f"{API}/{reference}/amendments", data=amendment, headers=auth())
    assert answer.status_code == 202
    document = etree.fromstring(answer.data)
    response_schema.assertValid(document)
    assert document.findtext("r:Risk/r:Lane", namespaces=NS) == "red"
    with clean_app.extensions["csw"].sessions() as session:
        view = latest_assessment(session, reference)
    assert view is not None and view.version == 2
    assert any("transit alert" in text and "seal_tampered" in text for _points, text in view.reasons)
