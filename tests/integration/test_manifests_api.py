"""Issue 21: sea and air manifests lodged by carriers. Each transport document carries its
consignments, each consignment gets a lane before arrival, the manifest a decision; amendments
and cancellation until arrival; refusals name path and rule and change nothing."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from lxml import etree
from sqlalchemy import func, select

from app.db.manifest_models import ManifestEvent, ManifestLine, ManifestRecord
from app.domain import events
from app.domain.manifests import is_valid_manifest_reference
from tests.conftest import CARRIER_KEY, OTHER_CARRIER_KEY, TRADER_KEY
from tests.integration.test_aeo_effects import operator, register

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "manifest"
MANIFESTS = "/api/v1/manifests"


def manifest_xml(name: str = "sea-arrival.xml", lrn: str | None = None, scheduled: datetime | None = None,
                 function_code: str = "9", **replace: str) -> bytes:
    """A sample with its LRN, scheduled arrival (default: in two days) and element texts replaced."""
    scheduled = scheduled or datetime.now(timezone.utc) + timedelta(days=2)
    body = (SAMPLES / name).read_text()
    if lrn:
        body = re.sub(r"<FunctionalReferenceID>[^<]*<", f"<FunctionalReferenceID>{lrn}<", body)
    body = re.sub(r"<FunctionCode>[^<]*<", f"<FunctionCode>{function_code}<", body)
    body = re.sub(r"<ScheduledDateTime>[^<]*<", f"<ScheduledDateTime>{scheduled.isoformat(timespec='seconds')}<",
                  body)
    body = re.sub(r"<FlightDate>[^<]*<", f"<FlightDate>{scheduled.date().isoformat()}<", body)
    for element, text in replace.items():
        body = re.sub(f"<{element}>[^<]*<", f"<{element}>{text}<", body, count=1)
    return body.encode()


def headers(key: str = CARRIER_KEY, accept: str = "application/json",
            content: str = "application/xml") -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", "Content-Type": content, "Accept": accept}


def lodge(client: FlaskClient, body: bytes, key: str = CARRIER_KEY) -> Any:
    return client.post(MANIFESTS, data=body, headers=headers(key))


@pytest.fixture()
def carrier_client(carriers: Flask) -> FlaskClient:
    return carriers.test_client()


def _count(app: Flask, model: type) -> int:
    with app.extensions["csw"].sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_lodge_sea_manifest_look_up_list_and_replay(carrier_client: FlaskClient,
                                                     response_schema) -> None:  # type: ignore[no-untyped-def]
    when = datetime.now(timezone.utc) + timedelta(days=2)
    answer = lodge(carrier_client, manifest_xml(scheduled=when))
    assert answer.status_code == 202, answer.text
    ack = answer.get_json()
    reference = ack["manifest_reference"]
    assert is_valid_manifest_reference(reference) and reference[4] == "M"
    assert ack["status"] == "lodged" and ack["version"] == 1 and ack["mode_code"] == "1"
    assert ack["decision"] in ("cleared", "inspection")
    assert ack["conveyance"] == "IMO 9321483 HARBOUR PIONEER 0412N"
    lines = ack["consignments"]
    assert [(c["document_id"], c["transhipment"]) for c in lines] == [("HLCUSHA2612001", False),
                                                                      ("HLCUSHA2612002", True)]
    assert lines[0]["containers"] == [{"id": "CSQU3054383", "seals": ["SH123456"]}]
    assert all(c["lane"] in ("green", "yellow", "red") for c in lines)
    assert answer.headers["Location"].endswith(f"{MANIFESTS}/{reference}")

    status = carrier_client.get(f"{MANIFESTS}/{reference}", headers=headers()).get_json()
    assert status["loading_location_id"] == "CNSHA" and [e["kind"] for e in status["history"]] == ["lodged"]
    again = lodge(carrier_client, manifest_xml(scheduled=when))  # the same document, to the second
    assert again.status_code == 202 and again.get_json()["replay"] is True
    assert again.get_json()["manifest_reference"] == reference
    other = lodge(carrier_client, manifest_xml(scheduled=when + timedelta(hours=1)))  # the LRN, another document
    assert other.status_code == 409 and other.get_json()["code"] == "DUPLICATE_LRN"
    assert [(e["path"], e["rule"]) for e in other.get_json()["errors"]] == [
        ("/Manifest/FunctionalReferenceID", "lrn-unique-per-submitter")]
    assert reference in other.get_json()["errors"][0]["message_zh"]
    listed = carrier_client.get(MANIFESTS, headers=headers()).get_json()
    assert [m["manifest_reference"] for m in listed["manifests"]] == [reference]
    for path in (f"{MANIFESTS}/{reference}", MANIFESTS):
        response_schema.assertValid(etree.fromstring(
            carrier_client.get(path, headers=headers(accept="application/xml")).data))
    xml = carrier_client.post(MANIFESTS, data=manifest_xml("air-arrival.xml"),
                              headers=headers(accept="application/xml"))
    assert xml.status_code == 202
    response_schema.assertValid(etree.fromstring(xml.data))


def test_air_manifest_with_its_flight(carrier_client: FlaskClient) -> None:
    ack = lodge(carrier_client, manifest_xml("air-arrival.xml")).get_json()
    assert ack["mode_code"] == "4" and ack["conveyance"].startswith("CX251 ")
    assert [c["document_type_code"] for c in ack["consignments"]] == ["AWB"]


@pytest.mark.parametrize(("name", "changes", "code", "path"), [
    ("sea-arrival.xml", {"IMOID": "9321484"}, "M101", "/Manifest/BorderTransportMeans/IMOID"),
    ("sea-arrival.xml", {"TypeCode": "IM", "ModeCode": "4"}, "M101", "/Manifest/BorderTransportMeans"),
    ("invalid-air-waybill.xml", {}, "M103", "/Manifest/TransportDocument/ID"),
    ("sea-arrival.xml", {"ControlPointID": "HKLMC"}, "M105", "/Manifest/ControlPointID"),
    ("sea-arrival.xml", {"UnloadingLocationID": "SGSIN"}, "M106", "/Manifest/UnloadingLocationID"),
    ("sea-arrival.xml", {"LoadingLocationID": "QQSHA"}, "M106", "/Manifest/LoadingLocationID"),
])
def test_rules_refuse_with_path_and_nothing_is_stored(carriers: Flask, carrier_client: FlaskClient, name: str,
                                                      changes: dict[str, str], code: str, path: str) -> None:
    answer = lodge(carrier_client, manifest_xml(name, **changes))
    assert answer.status_code == 422, answer.text
    body = answer.get_json()
    assert body["code"] == "RULES_REJECTED"
    assert (code, path) in {(e["rule"], e["path"]) for e in body["errors"]}
    assert all(e.get("message_zh") for e in body["errors"])
    assert _count(carriers, ManifestRecord) == 0 and _count(carriers, ManifestLine) == 0


def test_check_digits_of_containers_and_the_window(carrier_client: FlaskClient) -> None:
    bad = (SAMPLES / "invalid-sea-check-digits.xml").read_text()
    bad = re.sub(r"<ScheduledDateTime>[^<]*<", f"<ScheduledDateTime>"
                 f"{(datetime.now(timezone.utc) + timedelta(days=1)).isoformat(timespec='seconds')}<", bad)
    errors = lodge(carrier_client, bad.encode()).get_json()["errors"]
    assert {(e["rule"], e["path"]) for e in errors} >= {
        ("M101", "/Manifest/BorderTransportMeans/IMOID"),
        ("M104", "/Manifest/TransportDocument[2]/Consignment/TransportEquipment/ID")}
    late = lodge(carrier_client, manifest_xml(scheduled=datetime.now(timezone.utc) - timedelta(hours=1)))
    assert {e["rule"] for e in late.get_json()["errors"]} == {"M107"}


def test_schema_refusal_names_the_path(carrier_client: FlaskClient) -> None:
    answer = lodge(carrier_client, (SAMPLES / "invalid-air-schema.xml").read_bytes())
    assert answer.status_code == 422 and answer.get_json()["code"] == "SCHEMA_INVALID", answer.text
    paths = [e["path"] for e in answer.get_json()["errors"]]
    assert any(path and path.startswith("/Manifest/BorderTransportMeans") for path in paths)


def test_only_carriers_lodge_and_another_partys_manifest_is_not_found(carrier_client: FlaskClient) -> None:
    assert lodge(carrier_client, manifest_xml(), key=TRADER_KEY).status_code == 403
    mismatch = lodge(carrier_client, manifest_xml(), key=OTHER_CARRIER_KEY)
    assert mismatch.status_code == 422 and mismatch.get_json()["code"] == "SUBMITTER_MISMATCH"
    reference = lodge(carrier_client, manifest_xml()).get_json()["manifest_reference"]
    theirs = carrier_client.get(f"{MANIFESTS}/{reference}", headers=headers(OTHER_CARRIER_KEY))
    missing = carrier_client.get(f"{MANIFESTS}/{reference[:-1]}{'0' if reference[-1] != '0' else '1'}",
                                 headers=headers())
    assert theirs.status_code == 404 and theirs.get_json()["code"] == "NOT_FOUND"
    assert missing.status_code == 400 and missing.get_json()["code"] == "INVALID_REFERENCE"
    cancel = carrier_client.post(f"{MANIFESTS}/{reference}/cancellation", json={"reason": "not ours"},
                                 headers=headers(OTHER_CARRIER_KEY, content="application/json"))
    assert cancel.status_code == 404


def test_amend_cancel_and_arrival_with_their_cargo_line_events(carriers: Flask, carrier_client: FlaskClient,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Any] = []
    table = carriers.extensions["csw"].handlers
    for kind in (events.CargoLineLodged, events.CargoLineCancelled, events.CargoMoved):
        monkeypatch.setitem(table, kind, [lambda _session, event: seen.append(event)])
    reference = lodge(carrier_client, manifest_xml()).get_json()["manifest_reference"]
    lodged = [e for e in seen if isinstance(e, events.CargoLineLodged)]
    assert [(e.kind, e.identifier, e.package_count, str(e.gross_mass), e.exempt) for e in lodged] == [
        ("BL", "HLCUSHA2612001", 120, "2400", False), ("BL", "HLCUSHA2612002", 300, "4500", True)]

    seen.clear()  # the amendment drops the second bill of lading and changes the first's packages
    body = manifest_xml(function_code="13", TotalPackageQuantity="121").decode()
    body = re.sub(r"<TransportDocument>\s*<TypeCode>BL</TypeCode>\s*<ID>HLCUSHA2612002</ID>.*?</TransportDocument>",
                  "", body, flags=re.S)
    amended = carrier_client.post(f"{MANIFESTS}/{reference}/amendments", data=body.encode(), headers=headers())
    assert amended.status_code == 202, amended.text
    assert amended.get_json()["version"] == 2 and len(amended.get_json()["consignments"]) == 1
    assert [(type(e).__name__, e.identifier) for e in seen] == [
        ("CargoLineCancelled", "HLCUSHA2612002"), ("CargoLineLodged", "HLCUSHA2612001")]

    seen.clear()
    arrived_at = datetime.now(timezone.utc) - timedelta(minutes=5)
    moved = carrier_client.post(f"{MANIFESTS}/{reference}/movement",
                                json={"datetime": arrived_at.isoformat(timespec="seconds")},
                                headers=headers(content="application/json"))
    assert moved.status_code == 200, moved.text
    assert moved.get_json()["status"] == "arrived"
    assert [(type(e).__name__, e.identifier) for e in seen] == [("CargoMoved", "HLCUSHA2612001")]
    assert abs((seen[0].moved_at - arrived_at).total_seconds()) < 1
    refused = carrier_client.post(f"{MANIFESTS}/{reference}/cancellation", json={"reason": "too late now"},
                                  headers=headers(content="application/json"))
    assert refused.status_code == 409 and refused.get_json()["code"] == "MANIFEST_NOT_CHANGEABLE"
    history = carrier_client.get(f"{MANIFESTS}/{reference}", headers=headers()).get_json()["history"]
    assert [e["kind"] for e in history] == ["lodged", "amended", "arrived"]
    assert all(e["actor"].endswith(":harbour-carrier") and e["datetime"] for e in history)

    other = lodge(carrier_client, manifest_xml("air-arrival.xml")).get_json()["manifest_reference"]
    seen.clear()
    cancelled = carrier_client.post(f"{MANIFESTS}/{other}/cancellation", json={"reason": "flight cancelled"},
                                    headers=headers(content="application/json"))
    assert cancelled.status_code == 200 and cancelled.get_json()["status"] == "cancelled"
    assert [(type(e).__name__, e.identifier) for e in seen] == [("CargoLineCancelled", "160-12345675")]
    with carriers.extensions["csw"].sessions() as session:
        assert session.scalar(select(func.count()).select_from(ManifestEvent)
                              .where(ManifestEvent.manifest_id == other)) == 2


def test_an_aeo_consignee_gets_its_benefit_on_each_consignment(carriers: Flask, carrier_client: FlaskClient) -> None:
    plain = lodge(carrier_client, manifest_xml(lrn="MAN-PLAIN")).get_json()["manifest_reference"]
    register(carriers, operator("12345678", tier=2))  # the consignee of the first bill of lading
    carriers.extensions["csw"].aeo_standings.clear()
    aeo = lodge(carrier_client, manifest_xml(lrn="MAN-AEO")).get_json()["manifest_reference"]
    with carriers.extensions["csw"].sessions() as session:
        scores = {(line.manifest_id, line.document_number): line.risk_score
                  for line in session.scalars(select(ManifestLine))}
    first, through = "HLCUSHA2612001", "HLCUSHA2612002"
    assert scores[(aeo, first)] is not None and scores[(plain, first)] is not None
    assert scores[(aeo, first)] < scores[(plain, first)]
    assert scores[(aeo, through)] == scores[(plain, through)]  # its consignee is no AEO
