"""Issue 21, first part: advance cargo information for road cargo (ROCARS). A shipper,
forwarder or carrier lodges it before the truck crosses and gets a cargo reference with a check
character and a lane; amends or cancels it while it is lodged; rules as data, with paths."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from lxml import etree
from sqlalchemy import select

from app.db import models
from app.domain.cargo import is_valid_cargo_reference
from app.users.clients import create_client
from tests.conftest import OTHER_KEY, TRADER_KEY
from tests.integration.test_aeo_effects import operator, register

SAMPLE = (Path(__file__).resolve().parents[2] / "samples" / "cargo" / "road-electronics.xml").read_bytes()
CARGO = "/api/v1/cargo"


def cargo_xml(lrn: str = "ECI-TEST-1", crossing: datetime | None = None, function_code: str = "9",
              **replace: str) -> bytes:
    """The sample with its LRN, expected crossing (default: tomorrow) and any element text replaced."""
    crossing = crossing or datetime.now(timezone.utc) + timedelta(days=1)
    body = SAMPLE.decode()
    body = re.sub(r"<FunctionalReferenceID>[^<]*<", f"<FunctionalReferenceID>{lrn}<", body)
    body = re.sub(r"<FunctionCode>[^<]*<", f"<FunctionCode>{function_code}<", body)
    body = re.sub(r"<ExpectedCrossingDateTime>[^<]*<",
                  f"<ExpectedCrossingDateTime>{crossing.isoformat(timespec='seconds')}<", body)
    for element, text in replace.items():
        body = re.sub(f"<{element}>[^<]*<", f"<{element}>{text}<", body, count=1)
    return body.encode()


def headers(key: str = TRADER_KEY, accept: str = "application/json") -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", "Content-Type": "application/xml", "Accept": accept}


def lodge(client: FlaskClient, body: bytes, key: str = TRADER_KEY) -> Any:
    return client.post(CARGO, data=body, headers=headers(key))


def test_lodge_look_up_and_replay(client: FlaskClient, response_schema) -> None:  # type: ignore[no-untyped-def]
    body = cargo_xml()  # one document, sent twice (a new one a second later would be another document)
    answer = lodge(client, body)
    assert answer.status_code == 202, answer.text
    ack = answer.get_json()
    reference = ack["cargo_reference"]
    assert is_valid_cargo_reference(reference) and reference[4] == "C"
    assert ack["status"] == "lodged" and ack["version"] == 1 and ack["lane"] in ("green", "yellow", "red")
    assert answer.headers["Location"].endswith(f"/api/v1/cargo/{reference}")

    status = client.get(f"{CARGO}/{reference}", headers=headers()).get_json()
    assert status["goods_description"] == "Laptop computers, 14 inch, in retail boxes"
    assert status["package_count"] == 40 and status["gross_mass_kg"] == "380.500"
    assert [e["kind"] for e in status["history"]] == ["lodged"]

    again = lodge(client, body)  # the same document again: the first answer, nothing new stored
    assert again.status_code == 202 and again.get_json()["replay"] is True
    assert again.get_json()["cargo_reference"] == reference
    other = lodge(client, cargo_xml(TotalPackageQuantity="41"))
    assert other.status_code == 409 and other.get_json()["code"] == "DUPLICATE_LRN"
    assert [(e["path"], e["rule"]) for e in other.get_json()["errors"]] == [
        ("/Cargo/FunctionalReferenceID", "lrn-unique-per-submitter")]  # where, and which rule
    assert reference in other.get_json()["errors"][0]["message_zh"]

    listed = client.get(CARGO, headers=headers()).get_json()
    assert [c["cargo_reference"] for c in listed["cargo"]] == [reference]
    for path in (f"{CARGO}/{reference}", CARGO):
        response_schema.assertValid(etree.fromstring(client.get(path, headers=headers(accept="application/xml")).data))
    xml = client.post(CARGO, data=cargo_xml("ECI-TEST-XML"), headers=headers(accept="application/xml"))
    response_schema.assertValid(etree.fromstring(xml.data))


@pytest.mark.parametrize(("changes", "code", "path"), [
    ({"crossing": datetime.now(timezone.utc) + timedelta(minutes=10)}, "C101",
     "/Cargo/Consignment/ExpectedCrossingDateTime"),
    ({"crossing": datetime.now(timezone.utc) + timedelta(days=20)}, "C101",
     "/Cargo/Consignment/ExpectedCrossingDateTime"),
    ({"crossing": datetime.now(timezone.utc) - timedelta(days=1)}, "C101",
     "/Cargo/Consignment/ExpectedCrossingDateTime"),
    ({"ControlPointID": "HKAIR"}, "C102", "/Cargo/Consignment/ControlPointID"),
    ({"TypeCode": "IM", "CountryCode": "XX"}, "C104", "/Cargo/Consignment/Consignor/Address/CountryCode"),
])
def test_rules_refuse_with_the_path(client: FlaskClient, changes: dict[str, Any], code: str, path: str) -> None:
    changes = dict(changes)  # the parameters are shared by both backends
    crossing = changes.pop("crossing", None)
    answer = lodge(client, cargo_xml(crossing=crossing, **changes))
    assert answer.status_code == 422, answer.text
    refusal = answer.get_json()
    assert refusal["code"] == "RULES_REJECTED"
    assert (code, path) in [(e["rule"], e["path"]) for e in refusal["errors"]]
    assert all(e["message_zh"] for e in refusal["errors"])
    assert client.get(CARGO, headers=headers()).get_json()["total"] == 0


def test_a_vague_description_is_accepted_with_a_warning(client: FlaskClient) -> None:
    answer = lodge(client, cargo_xml(GoodsDescription="General cargo"))
    assert answer.status_code == 202
    assert [(f["code"], f["severity"]) for f in answer.get_json()["findings"]] == [("C105", "warn")]


def test_what_cannot_be_read_or_is_not_yours_is_refused(client: FlaskClient) -> None:
    no_address = SAMPLE.replace(b"<Address><Line>18 Keji Road, Nanshan</Line><CityName>Shenzhen</CityName>"
                                b"<CountryCode>CN</CountryCode></Address>", b"")
    invalid = lodge(client, no_address)
    assert invalid.status_code == 422 and invalid.get_json()["code"] == "SCHEMA_INVALID"
    assert "Consignor" in invalid.get_json()["errors"][0]["path"]
    mismatch = lodge(client, cargo_xml(), key=OTHER_KEY)  # the sample names 12345678 as submitter
    assert mismatch.status_code == 422 and mismatch.get_json()["code"] == "SUBMITTER_MISMATCH"
    reference = lodge(client, cargo_xml()).get_json()["cargo_reference"]
    assert client.get(f"{CARGO}/{reference}", headers=headers(OTHER_KEY)).status_code == 404
    assert client.get(f"{CARGO}/HK26CAAAAAAAAAAA", headers=headers()).status_code in (400, 404)
    broken = reference[:-1] + ("A" if reference[-1] != "A" else "B")
    assert client.get(f"{CARGO}/{broken}", headers=headers()).status_code == 400


def test_amend_until_cancelled(client: FlaskClient) -> None:
    reference = lodge(client, cargo_xml()).get_json()["cargo_reference"]
    amendments = f"{CARGO}/{reference}/amendments"
    wrong = client.post(amendments, data=cargo_xml(TotalPackageQuantity="44"), headers=headers())
    assert wrong.status_code == 422 and wrong.get_json()["code"] == "WRONG_FUNCTION_CODE"
    amended = client.post(amendments, data=cargo_xml(function_code="13", TotalPackageQuantity="44"),
                          headers=headers())
    assert amended.status_code == 202, amended.text
    assert amended.get_json()["version"] == 2
    status = client.get(f"{CARGO}/{reference}", headers=headers()).get_json()
    assert status["package_count"] == 44 and [e["kind"] for e in status["history"]] == ["lodged", "amended"]
    other_lrn = client.post(amendments, data=cargo_xml("ECI-OTHER", function_code="13"), headers=headers())
    assert other_lrn.status_code == 422 and other_lrn.get_json()["code"] == "LRN_MISMATCH"

    cancel = f"{CARGO}/{reference}/cancellation"
    as_json = {"Authorization": f"Bearer {TRADER_KEY}", "Accept": "application/json"}
    assert client.post(cancel, json={"reason": "x"}, headers=as_json).status_code == 422
    cancelled = client.post(cancel, json={"reason": "order withdrawn"}, headers=as_json)
    assert cancelled.status_code == 200 and cancelled.get_json()["status"] == "cancelled"
    assert client.post(cancel, json={"reason": "again"}, headers=as_json).status_code == 409
    late = client.post(amendments, data=cargo_xml(function_code="13"), headers=headers())
    assert late.status_code == 409 and late.get_json()["code"] == "CARGO_NOT_CHANGEABLE"


def test_carriers_lodge_and_other_roles_may_not(clean_app: Flask, client: FlaskClient) -> None:
    with clean_app.extensions["csw"].sessions() as session, session.begin():
        party = session.scalars(select(models.Party).where(models.Party.identifier == "12345678")).one()
        create_client(session, "carrier-tms", party, key="csw_carrier_key_".ljust(33, "0"), role="carrier")
        create_client(session, "partner", party, key="csw_partner_key_".ljust(33, "0"), role="partner")
    assert lodge(client, cargo_xml("ECI-CARRIER"), key="csw_carrier_key_".ljust(33, "0")).status_code == 202
    assert lodge(client, cargo_xml("ECI-PARTNER"), key="csw_partner_key_".ljust(33, "0")).status_code == 403


def test_an_aeo_lodger_gets_its_benefit(clean_app: Flask, client: FlaskClient) -> None:
    plain = lodge(client, cargo_xml("ECI-PLAIN")).get_json()["cargo_reference"]
    register(clean_app, operator("12345678", tier=2))
    clean_app.extensions["csw"].aeo_standings.clear()
    aeo = lodge(client, cargo_xml("ECI-AEO")).get_json()["cargo_reference"]
    with clean_app.extensions["csw"].sessions() as session:
        from app.db.cargo_models import CargoRecord
        scores = {r.id: r.risk_score for r in session.scalars(select(CargoRecord))}
    assert scores[aeo] is not None and scores[plain] is not None and scores[aeo] <= scores[plain]
