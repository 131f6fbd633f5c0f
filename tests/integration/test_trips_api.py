"""Conveyance trips over the API: open, link (with the cut-off), the manifest decision at the
kiosk, notices and manifests written to the outbox with the change, the pull queue."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from flask import Flask
from flask.testing import FlaskClient
from lxml import etree
from sqlalchemy import func, select, update

from app.config import PROJECT_ROOT
from app.db import models
from app.platform.uow import drain
from app.db.routing_models import OutboxMessage, Subscriber, Trip
from app.domain.declaration import DeclarationStatus
from app.routing import subscribers as subscriber_service
from app.domain.actors import Caller
from app.declarations.service import change_status
from tests.conftest import OTHER_BRN, OTHER_KEY, TRADER_BRN, TRADER_KEY, auth
from tests.factories import declaration_xml

OFFICER = Caller(actor="officer:test", role="admin")


@pytest.fixture(scope="module")
def routing_schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(PROJECT_ROOT / "schemas/routing/v1/routing.xsd")))


def lodge(client: FlaskClient, lrn: str, key: str = TRADER_KEY, declarant: str = TRADER_BRN,
          carrier: str | None = None) -> str:
    body = declaration_xml(lrn=lrn, declarant=declarant)
    if carrier:
        body = body.replace(b"<GoodsShipment>", f"<Carrier><Name>Road Carrier</Name><ID>{carrier}</ID></Carrier>"
                                                 "<GoodsShipment>".encode())
    response = client.post("/api/v1/declarations", data=body, headers=auth(key, "application/json"))
    assert response.status_code == 202, response.get_data(as_text=True)
    return response.get_json()["declaration_id"]


def decide(app: Flask, reference: str, status: DeclarationStatus, lane: str | None = None) -> None:
    """What an officer's decision does: one transaction through change_status."""
    with app.extensions["csw"].sessions() as session, session.begin():
        row = session.get(models.Declaration, reference)
        if lane:
            row.lane = lane
        change_status(session, row, status, status.value, OFFICER, None)


def set_lane(app: Flask, reference: str, lane: str) -> None:
    with app.extensions["csw"].sessions() as session, session.begin():
        session.execute(update(models.Declaration).where(models.Declaration.id == reference).values(lane=lane))


def json_headers(key: str = TRADER_KEY) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", "Content-Type": "application/json", "Accept": "application/json"}


def open_trip(client: FlaskClient, minutes_ahead: int = 120, key: str = TRADER_KEY, **extra: object):  # type: ignore[no-untyped-def]
    crossing = (datetime.now(timezone.utc) + timedelta(minutes=minutes_ahead)).isoformat()
    body = {"vehicle_registration_id": "xy 1234", "control_point_id": "HKLMC",
            "expected_crossing_datetime": crossing, **extra}
    return client.post("/api/v1/trips", data=json.dumps(body), headers=json_headers(key))


def add_subscriber(app: Flask, name: str, role: str, transport: str = "pull", code: str | None = None,
                   party: str | None = None, fmt: str = "xml") -> None:
    with app.extensions["csw"].sessions() as session, session.begin():
        subscriber_service.add_subscriber(session, name, role, transport,
                                          "http://127.0.0.1:9/hook" if transport == "webhook" else None,
                                          code, party, fmt, actor="test")


def outbox(app: Flask) -> list[OutboxMessage]:
    with app.extensions["csw"].sessions() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_open_link_and_read_the_manifest(client: FlaskClient, routing_schema: etree.XMLSchema) -> None:
    first, second = lodge(client, "LRN-TRIP-1"), lodge(client, "LRN-TRIP-2")
    response = open_trip(client, consignments=[first])
    assert response.status_code == 201, response.get_data(as_text=True)
    trip = response.get_json()
    assert trip["vehicle_registration_id"] == "XY1234" and trip["decision"] == "pending"
    assert [c["declaration_id"] for c in trip["consignments"]] == [first]
    linked = client.post(f"/api/v1/trips/{trip['trip_id']}/consignments", data=json.dumps({"consignments": [second]}),
                         headers=json_headers())
    assert linked.status_code == 200
    assert [c["declaration_id"] for c in linked.get_json()["consignments"]] == [first, second]
    xml = client.get(response.headers["Location"], headers=auth())
    document = etree.fromstring(xml.data)
    routing_schema.assertValid(document)
    assert [e["kind"] for e in linked.get_json()["history"]] == ["opened", "linked", "linked"]


def test_linking_later_than_the_cutoff_is_refused_with_the_reason(client: FlaskClient) -> None:
    reference = lodge(client, "LRN-LATE-1")
    trip = open_trip(client, minutes_ahead=20).get_json()
    response = client.post(f"/api/v1/trips/{trip['trip_id']}/consignments",
                           data=json.dumps({"consignments": [reference]}), headers=json_headers())
    assert response.status_code == 409
    body = response.get_json()
    assert body["code"] == "LINKING_TOO_LATE" and "30 minutes before the expected crossing" in body["message"]
    assert body["errors"][0]["rule"] == "link-cutoff"


def test_only_the_callers_or_carried_declarations_can_be_linked(client: FlaskClient) -> None:
    theirs = lodge(client, "LRN-THEIRS", key=OTHER_KEY, declarant=OTHER_BRN)
    carried = lodge(client, "LRN-CARRIED", key=OTHER_KEY, declarant=OTHER_BRN, carrier=TRADER_BRN)
    trip = open_trip(client).get_json()
    refused = client.post(f"/api/v1/trips/{trip['trip_id']}/consignments",
                          data=json.dumps({"consignments": [theirs]}), headers=json_headers())
    assert refused.status_code == 404 and refused.get_json()["errors"][0]["path"] == "consignments[0]"
    accepted = client.post(f"/api/v1/trips/{trip['trip_id']}/consignments",
                           data=json.dumps({"consignments": [carried]}), headers=json_headers())
    assert accepted.status_code == 200
    # the other party cannot see the trader's trip at all, nor its kiosk decision (404 like a missing trip)
    assert client.get(f"/api/v1/trips/{trip['trip_id']}", headers=json_headers(OTHER_KEY)).status_code == 404
    hidden = client.get(f"/api/v1/trips/{trip['trip_id']}/decision", headers=json_headers(OTHER_KEY))
    assert hidden.status_code == 404 and hidden.get_json()["code"] == "NOT_FOUND"
    assert client.get(f"/api/v1/trips/{trip['trip_id']}/decision", headers=json_headers()).status_code == 200


def test_cancelled_or_already_linked_consignments_are_refused(client: FlaskClient, clean_app: Flask) -> None:
    cancelled, linked = lodge(client, "LRN-CANC"), lodge(client, "LRN-ONE-TRIP")
    decide(clean_app, cancelled, DeclarationStatus.CANCELLED)
    first = open_trip(client, consignments=[linked]).get_json()
    second = open_trip(client).get_json()
    response = client.post(f"/api/v1/trips/{second['trip_id']}/consignments",
                           data=json.dumps({"consignments": [cancelled]}), headers=json_headers())
    assert response.status_code == 409 and response.get_json()["code"] == "CONSIGNMENT_NOT_LINKABLE"
    response = client.post(f"/api/v1/trips/{second['trip_id']}/consignments",
                           data=json.dumps({"consignments": [linked]}), headers=json_headers())
    assert response.status_code == 409 and response.get_json()["code"] == "ALREADY_LINKED"
    again = client.post(f"/api/v1/trips/{first['trip_id']}/consignments",
                        data=json.dumps({"consignments": [linked]}), headers=json_headers())
    assert again.status_code == 200 and len(again.get_json()["consignments"]) == 1


@pytest.mark.parametrize(("body", "field"), [
    ({"vehicle_registration_id": "XO1234"}, "vehicle_registration_id"),
    ({"control_point_id": "HKHKG"}, "control_point_id"),
    ({"expected_crossing_datetime": "2020-01-01T00:00:00+08:00"}, "expected_crossing_datetime"),
    ({"expected_crossing_datetime": "tomorrow"}, "expected_crossing_datetime"),
    ({"consignments": "HK26D"}, "consignments"),
])
def test_bad_trips_are_refused_naming_the_field(client: FlaskClient, body: dict[str, object], field: str) -> None:
    valid = {"vehicle_registration_id": "XY1234", "control_point_id": "HKLMC",
             "expected_crossing_datetime": (datetime.now(timezone.utc) + timedelta(hours=2)).isoformat()}
    response = client.post("/api/v1/trips", data=json.dumps({**valid, **body}), headers=json_headers())
    assert 400 <= response.status_code < 500
    assert field in [error.get("path") for error in response.get_json()["errors"]]


def test_kiosk_decision_follows_the_consignments_and_is_cacheable(
        client: FlaskClient, clean_app: Flask, routing_schema: etree.XMLSchema) -> None:
    first, second = lodge(client, "LRN-KIOSK-1"), lodge(client, "LRN-KIOSK-2")
    trip = open_trip(client, consignments=[first, second]).get_json()
    url = f"/api/v1/trips/{trip['trip_id']}/decision"
    pending = client.get(url, headers=json_headers())
    assert pending.get_json()["decision"] == "pending"
    etag = pending.headers["ETag"]
    assert client.get(url, headers={**json_headers(), "If-None-Match": etag}).status_code == 304

    decide(clean_app, first, DeclarationStatus.RELEASED)
    still = client.get(url, headers={**json_headers(), "If-None-Match": etag})
    assert still.status_code == 304  # one of two released: still pending, same state version

    decide(clean_app, second, DeclarationStatus.RELEASED)
    cleared = client.get(url, headers={**json_headers(), "If-None-Match": etag})
    assert cleared.status_code == 200 and cleared.get_json()["decision"] == "cleared"
    assert cleared.get_json()["instruction"] == "proceed"

    third = lodge(client, "LRN-KIOSK-3")
    set_lane(clean_app, third, "red")
    client.post(f"/api/v1/trips/{trip['trip_id']}/consignments", data=json.dumps({"consignments": [third]}),
                headers=json_headers())
    inspection = client.get(url, headers=auth())
    document = etree.fromstring(inspection.data)
    routing_schema.assertValid(document)
    ns = {"r": "urn:csw:routing:v1"}
    assert document.findtext("r:Decision", namespaces=ns) == "inspection"
    assert document.xpath("r:SelectedConsignments/r:DeclarationID/text()", namespaces=ns) == [third]


def test_release_notices_and_manifests_reach_the_outbox_with_the_change(
        client: FlaskClient, clean_app: Flask, routing_schema: etree.XMLSchema) -> None:
    add_subscriber(clean_app, "trader", "party", party=TRADER_BRN)
    add_subscriber(clean_app, "lmc", "control_point", transport="webhook", code="HKLMC", fmt="json")
    add_subscriber(clean_app, "shenzhen-customs", "partner_customs", transport="webhook", code="shenzhen")
    add_subscriber(clean_app, "airport", "control_point", transport="webhook", code="HKHKG")
    reference = lodge(client, "LRN-ROUTE-1")
    trip = open_trip(client, consignments=[reference]).get_json()
    assert outbox(clean_app) == []  # nothing routed for lodging or linking a pending manifest

    decide(clean_app, reference, DeclarationStatus.RELEASED)
    messages = outbox(clean_app)
    by = {(m.subscriber_id, m.message_type) for m in messages}
    with clean_app.extensions["csw"].sessions() as session:
        ids = {s.name: s.id for s in session.scalars(select(Subscriber))}
    assert by == {(ids["trader"], "release_notice"), (ids["trader"], "manifest_decision"),
                  (ids["lmc"], "release_notice"), (ids["lmc"], "manifest_decision"),
                  (ids["shenzhen-customs"], "manifest_decision")}
    assert ids["airport"] not in {m.subscriber_id for m in messages}
    for message in messages:
        if message.content_type == "application/xml":
            routing_schema.assertValid(etree.fromstring(message.body))
        else:
            assert json.loads(message.body)["message"] in {"ReleaseNotice", "ConveyanceManifest"}
    manifest = next(m for m in messages
                    if m.message_type == "manifest_decision" and m.content_type == "application/xml")
    assert b"<Decision>cleared</Decision>" in manifest.body and trip["trip_id"].encode() in manifest.body
    assert manifest.routing_key == "manifest_decision.HKLMC"


def test_a_rolled_back_change_leaves_no_message(client: FlaskClient, clean_app: Flask) -> None:
    add_subscriber(clean_app, "trader", "party", party=TRADER_BRN)
    reference = lodge(client, "LRN-ROLLBACK")
    with clean_app.extensions["csw"].sessions() as session:
        session.begin()
        change_status(session, session.get(models.Declaration, reference), DeclarationStatus.RELEASED,
                      "released", OFFICER, None)
        drain(session)  # the handlers run in the change's transaction, as they do before a commit
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 1
        session.rollback()
    assert outbox(clean_app) == []


def test_pull_queue_serves_and_forgets_acknowledged_messages(
        client: FlaskClient, clean_app: Flask, routing_schema: etree.XMLSchema) -> None:
    add_subscriber(clean_app, "trader", "party", party=TRADER_BRN)
    first, second = lodge(client, "LRN-PULL-1"), lodge(client, "LRN-PULL-2")
    decide(clean_app, first, DeclarationStatus.RELEASED)
    decide(clean_app, second, DeclarationStatus.REFUSED)
    xml = client.get("/api/v1/notifications", headers=auth())
    routing_schema.assertValid(etree.fromstring(xml.data))
    listed = client.get("/api/v1/notifications", headers=json_headers()).get_json()["notifications"]
    assert [(n["message_type"], n["subject"]) for n in listed] == [
        ("release_notice", f"declaration:{first}"), ("refusal_notice", f"declaration:{second}")]
    assert "<RefusalNotice" in listed[1]["content"]
    # another party sees nothing and cannot acknowledge them
    assert client.get("/api/v1/notifications", headers=json_headers(OTHER_KEY)).get_json() == {"notifications": []}
    ids = [n["message_id"] for n in listed]
    other = client.post("/api/v1/notifications/acknowledgements", data=json.dumps({"message_ids": ids}),
                        headers=json_headers(OTHER_KEY))
    assert other.get_json() == {"count": 0}
    mine = client.post("/api/v1/notifications/acknowledgements", data=json.dumps({"message_ids": ids[:1]}),
                       headers=json_headers())
    assert mine.get_json() == {"count": 1}
    left = client.get("/api/v1/notifications", headers=json_headers()).get_json()["notifications"]
    assert [n["message_id"] for n in left] == ids[1:]
    bad = client.post("/api/v1/notifications/acknowledgements", data=json.dumps({"message_ids": "all"}),
                      headers=json_headers())
    assert bad.status_code == 400 and bad.get_json()["errors"][0]["path"] == "message_ids"
    huge = client.post("/api/v1/notifications/acknowledgements", data=json.dumps({"message_ids": [2**70]}),
                       headers=json_headers())
    assert huge.status_code == 400


def test_unlinking_reroutes_a_manifest_that_changes_state(client: FlaskClient, clean_app: Flask) -> None:
    add_subscriber(clean_app, "trader", "party", party=TRADER_BRN)
    released, selected = lodge(client, "LRN-UNLINK-1"), lodge(client, "LRN-UNLINK-2")
    decide(clean_app, released, DeclarationStatus.RELEASED)
    set_lane(clean_app, selected, "red")
    trip = open_trip(client, consignments=[released, selected]).get_json()
    assert trip["decision"] == "inspection"
    response = client.delete(f"/api/v1/trips/{trip['trip_id']}/consignments/{selected}", headers=json_headers())
    assert response.status_code == 200 and response.get_json()["decision"] == "cleared"
    with clean_app.extensions["csw"].sessions() as session:
        decisions = list(session.scalars(
            select(OutboxMessage.body).where(OutboxMessage.message_type == "manifest_decision")
            .order_by(OutboxMessage.id)))
        assert session.get(Trip, trip["trip_id"]).decision == "cleared"
    assert [b"<Decision>inspection</Decision>" in d for d in decisions] == [True, False]
    assert b"<Decision>cleared</Decision>" in decisions[1]
