"""Duty and payments through the API, as a trader's system sees them: the liquor sample on the
green lane waits for its HK$216,000 of duty, a payment releases it and answers with a receipt,
bad payments are refused with a clear 4xx and change nothing, and every XML answer validates
against the response schema."""
from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from lxml import etree
from sqlalchemy import func, select

from app import create_app
from app.config import Settings
from app.db.revenue_models import Payment
from app.domain.risk import LaneThresholds
from app.revenue import service as revenue
from tests.conftest import OTHER_KEY, TRADER_BRN, TRADER_KEY, auth, sample
from tests.factories import recent_movement

API = "/api/v1/declarations"


@pytest.fixture()
def green(clean_app: Flask, database_url: str, tmp_path: Path) -> Iterator[tuple[Flask, FlaskClient]]:
    """The service as deployed (green lane releases), every declaration scored green."""
    settings = Settings.from_env(database_url=database_url, instance_dir=tmp_path, secret_key="test",
                                 log_level="WARNING", api_rate_limit="100000 per second")
    app = create_app(settings)
    runtime = app.extensions["csw"]
    engine = runtime.risk
    assert engine is not None
    runtime.risk = replace(engine, policy=replace(engine.policy, thresholds=LaneThresholds(yellow=101, red=101),
                                                  sample_rate=0.0, release_green=True))
    yield app, app.test_client()
    runtime.engine.dispose()


def liquor(lrn: str = "DTC-IM-LIQ-API") -> bytes:
    body = re.sub(rb"<MovementDateTime>[^<]*</MovementDateTime>",
                  f"<MovementDateTime>{recent_movement()}</MovementDateTime>".encode(),
                  sample("valid/import-liquor.xml"))
    return re.sub(rb"<FunctionalReferenceID>[^<]*</FunctionalReferenceID>",
                  f"<FunctionalReferenceID>{lrn}</FunctionalReferenceID>".encode(), body)


def json_headers(key: str = TRADER_KEY) -> dict[str, str]:
    return {**auth(key, "application/json"), "Content-Type": "application/json"}


def lodge(client: FlaskClient, body: bytes) -> dict:  # type: ignore[type-arg]
    ack = client.post(API, data=body, headers=auth(TRADER_KEY, "application/json"))
    assert ack.status_code == 202, ack.get_json()
    return ack.get_json()


def pay(client: FlaskClient, reference: str, body: object, key: str = TRADER_KEY):  # type: ignore[no-untyped-def]
    return client.post(f"{API}/{reference}/duty/payments", data=json.dumps(body), headers=json_headers(key))


def test_the_liquor_sample_waits_for_its_duty_and_a_payment_releases_it(
        green: tuple[Flask, FlaskClient], response_schema) -> None:  # type: ignore[no-untyped-def]
    app, client = green
    ack = lodge(client, liquor())
    reference = ack["declaration_id"]
    assert ack["status"] == "accepted" and ack["risk"]["lane"] == "green"
    statement = client.get(f"{API}/{reference}/duty", headers=auth(TRADER_KEY, "application/json")).get_json()
    assert statement["status"] == "due" and statement["amount_due"] == "216000.00"
    assert statement["release_waits_for_duty"] is True
    assert statement["demands"][0]["commodities"] == [{"name": "liquor", "amount": "216000.00"}]
    response_schema.assertValid(etree.fromstring(client.get(f"{API}/{reference}/duty", headers=auth()).data))
    history = client.get(f"{API}/{reference}", headers=auth(TRADER_KEY, "application/json")).get_json()["history"]
    assert [event["kind"] for event in history] == ["submitted", "release_awaiting_duty"]

    paid = pay(client, reference, {"amount": "216000.00", "payment_reference": "HSBC-TT-20261206-001"})
    assert paid.status_code == 201, paid.get_json()
    receipt = paid.get_json()
    assert receipt["all_settled"] is True and receipt["amount"] == "216000.00"
    assert paid.headers["Location"] == f"/api/v1/receipts/{receipt['receipt_id']}"
    status = client.get(f"{API}/{reference}", headers=auth(TRADER_KEY, "application/json")).get_json()
    assert status["status"] == "released"
    assert status["history"][-1]["kind"] == "released" and "duty paid" in status["history"][-1]["note"]
    again = client.get(paid.headers["Location"], headers=auth())
    assert again.status_code == 200
    response_schema.assertValid(etree.fromstring(again.data))
    response_schema.assertValid(etree.fromstring(client.get(f"{API}/{reference}/duty", headers=auth()).data))


@pytest.mark.parametrize(("body", "status", "code"), [
    ({"amount": "216000.01", "payment_reference": "X1"}, 422, "OVERPAYMENT"),
    ({"amount": "1000.00", "payment_reference": "X1"}, 422, "UNDERPAYMENT"),
    ({"amount": "-216000.00", "payment_reference": "X1"}, 422, "INVALID_AMOUNT"),
    ({"amount": "two hundred", "payment_reference": "X1"}, 422, "INVALID_AMOUNT"),
    ({"amount": 216000.005, "payment_reference": "X1"}, 422, "INVALID_AMOUNT"),
    ({"amount": "216000.00"}, 422, "INVALID_PAYMENT_REFERENCE"),
    ({"amount": "216000.00", "payment_reference": "X1", "tip": "5"}, 400, "INVALID_PARAMETER"),
    ({"amount": "216000.00", "payment_reference": "X1", "demand_id": "HK26MNOTAREF000"}, 400, "INVALID_PARAMETER"),
    ([1, 2], 400, "INVALID_PARAMETER"),
])
def test_a_bad_payment_gets_a_clear_4xx_and_changes_nothing(green: tuple[Flask, FlaskClient], body: object,
                                                            status: int, code: str) -> None:
    app, client = green
    reference = lodge(client, liquor())["declaration_id"]
    refused = pay(client, reference, body)
    assert refused.status_code == status, refused.get_json()
    answer = refused.get_json()
    assert answer["code"] == code and answer["errors"], answer
    if status == 422:
        assert answer["errors"][0]["path"] and answer["errors"][0]["message_zh"]
    with app.extensions["csw"].sessions() as session:
        assert session.scalar(select(func.count()).select_from(Payment)) == 0
    assert client.get(f"{API}/{reference}", headers=auth(TRADER_KEY, "application/json")).get_json()[
        "status"] == "accepted"


def test_a_second_payment_another_partys_declaration_and_xml_are_refused(green: tuple[Flask, FlaskClient],
                                                                       response_schema) -> None:  # type: ignore[no-untyped-def]
    app, client = green
    reference = lodge(client, liquor())["declaration_id"]
    others = pay(client, reference, {"amount": "216000.00", "payment_reference": "X1"}, key=OTHER_KEY)
    assert others.status_code == 404 and others.get_json()["code"] == "NOT_FOUND"
    as_xml = client.post(f"{API}/{reference}/duty/payments", data=b"<Payment/>", headers=auth())
    assert as_xml.status_code == 415
    assert pay(client, reference, {"amount": "216000.00", "payment_reference": "X1"}).status_code == 201
    second = client.post(f"{API}/{reference}/duty/payments", headers={**auth(), "Content-Type": "application/json"},
                         data=json.dumps({"amount": "216000.00", "payment_reference": "X2"}))
    assert second.status_code == 409
    response_schema.assertValid(etree.fromstring(second.data))
    with app.extensions["csw"].sessions() as session:
        assert session.scalar(select(func.count()).select_from(Payment)) == 1


def test_nothing_to_pay_on_a_declaration_without_duty(green: tuple[Flask, FlaskClient]) -> None:
    _app, client = green
    reference = lodge(client, liquor().replace(b"<AlcoholStrengthPercent>40</AlcoholStrengthPercent>",
                                               b"<AlcoholStrengthPercent>30</AlcoholStrengthPercent>"))
    assert reference["status"] == "released"
    refused = pay(client, reference["declaration_id"], {"amount": "1.00", "payment_reference": "X1"})
    assert refused.status_code == 409 and refused.get_json()["code"] == "NO_DUTY_DUE"


def test_a_deferment_account_in_credit_lets_the_goods_go_at_once(green: tuple[Flask, FlaskClient],
                                                                 response_schema) -> None:  # type: ignore[no-untyped-def]
    app, client = green
    with app.extensions["csw"].sessions() as session, session.begin():
        revenue.open_security(session, TRADER_BRN, "deferment", "DA-0001", "1000000.00", None, "test")
    ack = lodge(client, liquor())
    assert ack["status"] == "released"
    account = client.get("/api/v1/duty/account", headers=auth(TRADER_KEY, "application/json")).get_json()
    assert account["securities"][0]["balance"] == "216000.00" and account["securities"][0]["available"] == "784000.00"
    assert [d["declaration_id"] for d in account["secured_demands"]] == [ack["declaration_id"]]
    response_schema.assertValid(etree.fromstring(client.get("/api/v1/duty/account", headers=auth()).data))
    assert pay(client, ack["declaration_id"], {"amount": "216000.00", "payment_reference": "DA-SETTLE-1"}
               ).status_code == 201
    account = client.get("/api/v1/duty/account", headers=auth(TRADER_KEY, "application/json")).get_json()
    assert account["securities"][0]["balance"] == "0.00" and account["secured_demands"] == []


def test_cancelling_a_paid_declaration_refunds_the_duty(green: tuple[Flask, FlaskClient]) -> None:
    app, client = green
    runtime = app.extensions["csw"]
    engine = runtime.risk
    runtime.risk = replace(engine, policy=replace(engine.policy, thresholds=LaneThresholds(yellow=0, red=101)))
    reference = lodge(client, liquor())["declaration_id"]  # yellow: waits for an officer
    assert pay(client, reference, {"amount": "216000.00", "payment_reference": "X1"}).status_code == 201
    cancelled = client.post(f"{API}/{reference}/cancellation", data=json.dumps({"reason": "order withdrawn"}),
                            headers=json_headers())
    assert cancelled.status_code == 200
    statement = client.get(f"{API}/{reference}/duty", headers=auth(TRADER_KEY, "application/json")).get_json()
    assert statement["amount_refunded"] == "216000.00" and statement["refunds"][0]["reason"].startswith(
        "declaration cancelled")
