"""Issue 22's trader tricks, tried through the API as a trader would: a form that lowers the
charge, a clothing export without its levy, a declaration without its movement date. Each is
refused with a finding naming the item (or element), and nothing is stored."""
from __future__ import annotations

import re
from decimal import Decimal

from flask.testing import FlaskClient
from lxml import etree
from sqlalchemy import func, select

from app.db import models
from tests.conftest import auth, sample
from tests.factories import declaration_xml, recent_movement

API = "/api/v1/declarations"
ITEM = "/Declaration/GoodsShipment/GovernmentAgencyGoodsItem"


def post(client: FlaskClient, body: bytes):  # type: ignore[no-untyped-def]
    return client.post(API, data=body, headers=auth(accept="application/json"))


def on_time(body: bytes) -> bytes:
    """The sample with its goods moved a day ago (so it is not also late)."""
    return re.sub(rb"<MovementDateTime>[^<]*</MovementDateTime>",
                  f"<MovementDateTime>{recent_movement()}</MovementDateTime>".encode(), body)


def stored(client: FlaskClient) -> int:
    app = client.application
    with app.extensions["csw"].sessions() as session:
        return session.scalar(select(func.count()).select_from(models.Declaration)) or 0


def refusal(response) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    assert response.status_code == 422, response.get_json()
    body = response.get_json()
    assert body["code"] == "RULES_REJECTED"
    return [(error["rule"], error["path"]) for error in body["errors"] if error["severity"] == "reject"]


def test_laptops_and_phones_on_the_food_form_are_refused_item_by_item(client: FlaskClient) -> None:
    body = on_time(sample("valid/import-5-items.xml")).replace(b"<FormCode>1</FormCode>", b"<FormCode>1A</FormCode>")
    rejected = refusal(post(client, body))
    assert rejected == [("R802", f"{ITEM}[{n}]/Commodity/Classification/ID") for n in range(1, 6)]
    assert stored(client) == 0


def test_the_charge_exempt_form_without_a_reason_is_refused(client: FlaskClient) -> None:
    body = on_time(sample("valid/import-5-items.xml")).replace(b"<FormCode>1</FormCode>", b"<FormCode>1B</FormCode>")
    response = post(client, body)
    assert refusal(response) == [("R805", f"{ITEM}[{n}]") for n in range(1, 6)]
    assert "no exemption reason" in response.get_json()["errors"][0]["message"]
    assert response.get_json()["errors"][0]["message_zh"]


def test_the_same_goods_on_form_1_pay_the_capped_scale(client: FlaskClient) -> None:
    ack = post(client, on_time(sample("valid/import-5-items.xml")))
    assert ack.status_code == 202, ack.get_json()
    status = client.get(f"{API}/{ack.get_json()['declaration_id']}", headers=auth(accept="application/json"))
    assert status.get_json()["charges"]["declaration_charge"] == "200.00"


def test_hong_kong_clothing_on_form_2_is_refused_and_on_2a_pays_the_levy(client: FlaskClient) -> None:
    clothing = on_time(sample("valid/export-clothing-2a.xml"))
    rejected = refusal(post(client, clothing.replace(b"<FormCode>2A</FormCode>", b"<FormCode>2</FormCode>")))
    assert rejected == [("R804", f"{ITEM}[1]/Commodity/Classification/ID"),
                        ("R804", f"{ITEM}[2]/Commodity/Classification/ID")]
    ack = post(client, clothing)
    assert ack.status_code == 202, ack.get_json()
    charges = client.get(f"{API}/{ack.get_json()['declaration_id']}",
                         headers=auth(accept="application/json")).get_json()["charges"]
    assert charges["clothing_levy"] == "349.20"
    assert charges["penalty"] == "0.00"


def test_without_a_form_code_the_levy_follows_the_goods(client: FlaskClient) -> None:
    clothing = on_time(sample("valid/export-clothing-2a.xml")).replace(b"<FormCode>2A</FormCode>", b"")
    ack = post(client, clothing)
    assert ack.status_code == 202, ack.get_json()
    charges = client.get(f"{API}/{ack.get_json()['declaration_id']}",
                         headers=auth(accept="application/json")).get_json()["charges"]
    assert charges["clothing_levy"] == "349.20"


def test_a_declaration_without_its_movement_date_is_refused(client: FlaskClient) -> None:
    body = re.sub(rb"\s*<MovementDateTime>[^<]*</MovementDateTime>", b"", sample("valid/import-5-items.xml"))
    rejected = refusal(post(client, body))
    assert rejected == [("R304", "/Declaration/GoodsShipment/Consignment/MovementDateTime")]
    assert stored(client) == 0


def test_a_late_declaration_carries_its_penalty_in_the_total(client: FlaskClient, response_schema) -> None:  # type: ignore[no-untyped-def]
    body = declaration_xml(lrn="LRN-LATE-1", value="30000.00", movement_at="2026-10-01T09:00:00+08:00")
    ack = post(client, body)
    assert ack.status_code == 202, ack.get_json()
    assert any(f["code"] == "R302" and f["severity"] == "warn" for f in ack.get_json()["findings"])
    url = f"{API}/{ack.get_json()['declaration_id']}"
    charges = client.get(url, headers=auth(accept="application/json")).get_json()["charges"]
    (line,) = [line for line in charges["lines"] if line["kind"] == "penalty"]
    assert Decimal(line["amount"]) in (Decimal("40.00"), Decimal("80.00"), Decimal("200.00"))
    assert charges["penalty"] == line["amount"]
    assert Decimal(charges["total"]) == sum(Decimal(charges[k]) for k in
                                            ("declaration_charge", "clothing_levy", "penalty", "duty_total"))
    response_schema.assertValid(etree.fromstring(client.get(url, headers=auth()).data))


def test_a_transhipment_with_a_form_code_is_refused(client: FlaskClient) -> None:
    body = sample("valid/transhipment-elock.xml").replace(b"<TypeCode>TS</TypeCode>",
                                                          b"<TypeCode>TS</TypeCode><FormCode>1B</FormCode>", 1)
    assert refusal(post(client, body)) == [("R801", "/Declaration/FormCode")]
