"""Manifests follow every change of their consignments: an officer's release through the case
queue reaches the subscribers (release notice and cleared manifest, pull queue and kiosk); a
cleared manifest that gains or loses a consignment is routed again; an amendment that puts a
consignment in the red lane sends the truck to inspection; the kiosk's ETag differs per
representation."""
from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone

from flask import Flask
from flask.testing import FlaskClient
from lxml import etree
from sqlalchemy import select

from app.cases import service as cases
from app.config import PROJECT_ROOT
from app.db import models
from app.db.case_models import User
from app.domain.declaration import DeclarationStatus
from app.routing import subscribers as subscriber_service
from app.domain.actors import Caller
from app.declarations.service import change_status
from app.users.service import hash_password
from tests.conftest import OTHER_BRN, OTHER_KEY, TRADER_BRN, TRADER_KEY
from tests.factories import declaration_xml

NS = {"r": "urn:csw:routing:v1"}
OFFICER_PASSWORD = "officer-rerouting-pass"


def headers(key: str = TRADER_KEY, content_type: str = "application/json") -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", "Content-Type": content_type, "Accept": "application/json"}


def lodge(client: FlaskClient, lrn: str, body: bytes | None = None) -> str:
    response = client.post("/api/v1/declarations", data=body or declaration_xml(lrn=lrn),
                           headers=headers(content_type="application/xml"))
    assert response.status_code == 202, response.get_data(as_text=True)
    return response.get_json()["declaration_id"]


def open_trip(client: FlaskClient, consignments: list[str]) -> dict[str, object]:
    crossing = (datetime.now(timezone.utc) + timedelta(hours=2)).isoformat()
    response = client.post("/api/v1/trips", headers=headers(), data=json.dumps({
        "vehicle_registration_id": "XY1234", "control_point_id": "HKLMC", "expected_crossing_datetime": crossing,
        "consignments": consignments}))
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def release(app: Flask, reference: str) -> None:
    with app.extensions["csw"].sessions() as session, session.begin():
        change_status(session, session.get(models.Declaration, reference), DeclarationStatus.RELEASED, "released",
                      Caller(actor="officer:test", role="admin"), None)


def pull_subscribers(app: Flask) -> None:
    """The trader's own pull queue, and the Lok Ma Chau control point reading through the
    harbour party's key."""
    with app.extensions["csw"].sessions() as session, session.begin():
        subscriber_service.add_subscriber(session, "trader", "party", "pull", party_identifier=TRADER_BRN,
                                          actor="test")
        subscriber_service.add_subscriber(session, "lmc", "control_point", "pull", code="HKLMC",
                                          party_identifier=OTHER_BRN, actor="test")


def pulled(client: FlaskClient, key: str) -> list[dict[str, object]]:
    response = client.get("/api/v1/notifications", headers=headers(key))
    assert response.status_code == 200
    return response.get_json()["notifications"]


def manifests(notifications: list[dict[str, object]]) -> list[etree._Element]:
    return [etree.fromstring(str(n["content"]).encode()) for n in notifications
            if n["message_type"] == "manifest_decision"]


def consignment_ids(manifest: etree._Element) -> list[str]:
    return manifest.xpath("r:Consignments/r:Consignment/r:DeclarationID/text()", namespaces=NS)


def test_an_officers_release_reaches_the_subscribers_and_the_kiosk(client: FlaskClient, clean_app: Flask) -> None:
    pull_subscribers(clean_app)
    reference = lodge(client, "LRN-OFFICER-ROUTE")
    with clean_app.extensions["csw"].sessions() as session, session.begin():
        session.get(models.Declaration, reference).lane = "red"
        case = cases.open_cases_for_declaration(session, reference, actor="test")
        assert case is not None
        case_id = case.id
        session.add(User(username="officer", display_name="Officer Test", role="officer", locale="en",
                         password_hash=hash_password(OFFICER_PASSWORD), active=True,
                         created_at=datetime.now(timezone.utc)))
    trip = open_trip(client, [reference])
    kiosk = f"/api/v1/trips/{trip['trip_id']}/decision"
    assert client.get(kiosk, headers=headers()).get_json()["decision"] == "inspection"

    officer = clean_app.test_client()

    def token() -> str:
        match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', officer.get("/login").text)
        assert match
        return match.group(1)

    signed_in = officer.post("/login", data={"username": "officer", "password": OFFICER_PASSWORD,
                                             "csrf_token": token()})
    assert signed_in.status_code == 302
    csrf = token()
    officer.post(f"/officer/cases/{case_id}/claim", data={"csrf_token": csrf})
    decided = officer.post(f"/officer/cases/{case_id}/decision",
                           data={"csrf_token": csrf, "decision": "release", "reason": "inspected, in order"})
    assert decided.status_code == 302

    trader = pulled(client, TRADER_KEY)
    assert [(n["message_type"], n["subject"]) for n in trader] == [
        ("manifest_decision", f"trip:{trip['trip_id']}"), ("release_notice", f"declaration:{reference}"),
        ("manifest_decision", f"trip:{trip['trip_id']}")]
    assert [m.findtext("r:Decision", namespaces=NS) for m in manifests(trader)] == ["inspection", "cleared"]
    notice = etree.fromstring(str(trader[1]["content"]).encode())
    assert notice.findtext("r:DeclarationID", namespaces=NS) == reference
    assert notice.findtext("r:Status", namespaces=NS) == "released"
    assert notice.findtext("r:Note", namespaces=NS) == "inspected, in order"
    control_point = pulled(client, OTHER_KEY)
    assert [n["message_type"] for n in control_point] == ["manifest_decision", "release_notice", "manifest_decision"]
    assert manifests(control_point)[-1].findtext("r:Decision", namespaces=NS) == "cleared"
    answer = client.get(kiosk, headers=headers()).get_json()
    assert answer["decision"] == "cleared" and answer["instruction"] == "proceed"


def test_a_cleared_manifest_that_gains_or_loses_a_consignment_is_routed_again(
        client: FlaskClient, clean_app: Flask) -> None:
    pull_subscribers(clean_app)
    first, second = lodge(client, "LRN-REROUTE-1"), lodge(client, "LRN-REROUTE-2")
    release(clean_app, first)
    release(clean_app, second)
    trip = open_trip(client, [first])
    trip_id = str(trip["trip_id"])
    linked = client.post(f"/api/v1/trips/{trip_id}/consignments", headers=headers(),
                         data=json.dumps({"consignments": [second]}))
    assert linked.status_code == 200 and linked.get_json()["decision"] == "cleared"
    unlinked = client.delete(f"/api/v1/trips/{trip_id}/consignments/{first}", headers=headers())
    assert unlinked.status_code == 200 and unlinked.get_json()["decision"] == "cleared"

    routed = manifests(pulled(client, OTHER_KEY))
    assert [m.findtext("r:Decision", namespaces=NS) for m in routed] == ["cleared"] * 3
    assert [consignment_ids(m) for m in routed] == [[first], [first, second], [second]]
    assert [int(m.findtext("r:StateVersion", namespaces=NS)) for m in routed] == sorted(
        int(m.findtext("r:StateVersion", namespaces=NS)) for m in routed)


def test_an_amendment_into_the_red_lane_sends_the_truck_to_inspection(client: FlaskClient, clean_app: Flask) -> None:
    services = clean_app.extensions["csw"]
    from dataclasses import replace

    original = services.risk
    services.risk = replace(original, policy=replace(original.policy, sample_rate=0.0))
    try:
        pull_subscribers(clean_app)
        reference = lodge(client, "LRN-AMEND-RED", declaration_xml(lrn="LRN-AMEND-RED", value="4000.00"))
        trip = open_trip(client, [reference])
        kiosk = f"/api/v1/trips/{trip['trip_id']}/decision"
        before = client.get(kiosk, headers=headers())
        assert before.get_json()["decision"] == "pending"
        importer = b"<Importer><Name>Importer</Name><ID>99999999</ID></Importer><GoodsShipment>"
        amended = declaration_xml(lrn="LRN-AMEND-RED", value="10.00", function_code="13").replace(
            b"<GoodsShipment>", importer, 1)
        response = client.post(f"/api/v1/declarations/{reference}/amendments", data=amended,
                               headers=headers(content_type="application/xml"))
        assert response.status_code == 202 and response.get_json()["risk"]["lane"] == "red"
    finally:
        services.risk = original

    after = client.get(kiosk, headers={**headers(), "If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200
    assert after.get_json()["decision"] == "inspection" and after.get_json()["selected_consignments"] == [reference]
    routed = manifests(pulled(client, OTHER_KEY))
    assert [m.findtext("r:Decision", namespaces=NS) for m in routed] == ["inspection"]
    with clean_app.extensions["csw"].sessions() as session:
        assert session.scalar(select(models.Declaration.lane).where(models.Declaration.id == reference)) == "red"


def test_the_kiosk_etag_names_the_representation(client: FlaskClient, clean_app: Flask) -> None:
    trip = open_trip(client, [lodge(client, "LRN-ETAG")])
    kiosk = f"/api/v1/trips/{trip['trip_id']}/decision"
    as_json = client.get(kiosk, headers=headers())
    as_xml = client.get(kiosk, headers={**headers(), "Accept": "application/xml"})
    assert as_json.headers["ETag"] != as_xml.headers["ETag"]
    assert client.get(kiosk, headers={**headers(), "Accept": "application/xml",
                                      "If-None-Match": as_xml.headers["ETag"]}).status_code == 304
    crossed = client.get(kiosk, headers={**headers(), "Accept": "application/xml",
                                         "If-None-Match": as_json.headers["ETag"]})
    assert crossed.status_code == 200 and crossed.data.startswith(b"<?xml")
    routing_schema = etree.XMLSchema(etree.parse(str(PROJECT_ROOT / "schemas/routing/v1/routing.xsd")))
    routing_schema.assertValid(etree.fromstring(crossed.data))
