"""E-lock journeys end to end: a transhipment declaration opens a journey; the gateway's
telemetry drives it; alerts, release under mutual recognition and the views are checked on
realistic replays (clean run, detour, tamper, overdue truck, duplicates, late events)."""
from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from lxml import etree
from sqlalchemy import select, update

from app.db import models
from app.domain.transit import ReadingKind
from app.jobs import JOBS, run_job
from app.transit import telemetry
from app.transit.network import network_for
from app.transit.replay import along, clean_run, offset
from app.transit.telemetry import GatewayEvent
from tests.conftest import PROJECT_ROOT, OTHER_KEY, auth, sample

GATEWAY_KEY = "csw_test_gateway_key_000000000000"
ADMIN_KEY = "csw_test_admin_key_00000000000000"
API = "/api/v1/declarations"
EVENTS = "/api/v1/elock/events"
NETWORK = network_for(PROJECT_ROOT / "rules")
LMC = NETWORK.routes["HKG-LMC-SZX"]
INBOUND = NETWORK.routes["DGG-LMC-KCG"]


def _json_headers(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", "Content-Type": "application/json", "Accept": "application/json"}


def set_lane(app: Flask, declaration_id: str, lane: str) -> None:
    """Where risk scoring put the declaration (the test decides, so release is deterministic)."""
    with app.extensions["csw"].sessions() as session, session.begin():
        session.execute(update(models.Declaration).where(models.Declaration.id == declaration_id).values(lane=lane))


def lodge(client: FlaskClient, lrn: str = "DTC-TS-2026-000301", elock: str = "EL-000123",
          origin: str = "HKHKG", control_point: str = "HKLMC", destination: str = "CNSZX",
          vehicle: str = "XY1234", lane: str | None = "green") -> Any:
    body = (sample("valid/transhipment-elock.xml").decode()
            .replace("DTC-TS-2026-000301", lrn).replace("EL-000123", elock)
            .replace("<DepartureLocationID>HKHKG", f"<DepartureLocationID>{origin}")
            .replace("<ControlPointID>HKLMC", f"<ControlPointID>{control_point}")
            .replace("<DestinationLocationID>CNSZX", f"<DestinationLocationID>{destination}")
            .replace("<ConveyanceID>XY1234", f"<ConveyanceID>{vehicle}"))
    response = client.post(API, data=body.encode(), headers=auth(accept="application/json"))
    if response.status_code == 202 and lane is not None:
        set_lane(client.application, response.get_json()["declaration_id"], lane)
    return response


def journey_of(client: FlaskClient, declaration_id: str) -> dict[str, Any]:
    listed = client.get(f"/api/v1/journeys?declaration_id={declaration_id}", headers=_json_headers(ADMIN_KEY))
    assert listed.status_code == 200, listed.get_json()
    [summary] = listed.get_json()["journeys"]
    view = client.get(f"/api/v1/journeys/{summary['journey_id']}", headers=_json_headers(ADMIN_KEY))
    assert view.status_code == 200
    return view.get_json()


def post(client: FlaskClient, events: list[GatewayEvent]) -> dict[str, Any]:
    response = client.post(EVENTS, data=telemetry.to_json(events), headers=_json_headers(GATEWAY_KEY))
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def declaration(client: FlaskClient, declaration_id: str) -> dict[str, Any]:
    return client.get(f"{API}/{declaration_id}", headers=auth(accept="application/json")).get_json()


def start() -> datetime:
    """A minute from now: telemetry follows the lodging of the declaration."""
    return datetime.now(timezone.utc).replace(microsecond=0) + timedelta(minutes=1)


def test_a_clean_airport_to_lok_ma_chau_run_is_released(transit: FlaskClient) -> None:
    lodged = lodge(transit)
    assert lodged.status_code == 202, lodged.get_json()
    declaration_id = lodged.get_json()["declaration_id"]
    journey = journey_of(transit, declaration_id)
    assert journey["state"] == "registered"
    assert (journey["origin"], journey["control_point"], journey["destination"]) == ("HKHKG", "HKLMC", "CNSZX")

    receipt = post(transit, clean_run(LMC, "EL-000123", start(), "GW-clean"))
    assert receipt["rejected"] == 0 and receipt["duplicate"] == 0 and receipt["alerts"] == []

    journey = journey_of(transit, declaration_id)
    assert journey["state"] == "released" and journey["sealed_by"] == "hk" and journey["alerts"] == []
    kinds = [entry["kind"] for entry in journey["timeline"]]
    assert kinds == ["registered", "sealed", "departed", "arrived", "unsealed", "released"]
    assert journey["timeline"][1]["source"] == "gateway" and journey["timeline"][0]["source"] == "declaration"
    track = journey["track"]["features"]
    line = next(f for f in track if f["properties"]["role"] == "track")
    assert line["geometry"]["type"] == "LineString" and len(line["geometry"]["coordinates"]) > 20
    assert any(f["properties"]["role"] == "corridor" and f["geometry"]["type"] == "Polygon" for f in track)

    status = declaration(transit, declaration_id)
    assert status["status"] == "released"
    assert "released" in status["history"][-1]["note"] and journey["journey_id"] in status["history"][-1]["note"]
    # the lock is free for the next journey
    assert lodge(transit, lrn="DTC-TS-2026-000302").status_code == 202


def test_a_detour_raises_a_route_alert_with_its_coordinates_and_holds_release(transit: FlaskClient) -> None:
    declaration_id = lodge(transit).get_json()["declaration_id"]
    events = clean_run(LMC, "EL-000123", start(), "GW-detour")
    middle = len(events) // 2
    lon, lat = offset(along(LMC, 0.5), 6000, 0)  # 6 km east of the corridor
    moved = events[middle]
    events[middle] = GatewayEvent(moved.event_id, "EL-000123", ReadingKind.POSITION, moved.at, lat, lon)
    receipt = post(transit, events)
    [alert] = receipt["alerts"]
    assert alert["kind"] == "route_deviation" and alert["declaration_id"] == declaration_id

    journey = journey_of(transit, declaration_id)
    assert journey["state"] == "exception"
    [stored] = journey["alerts"]
    assert stored["evidence"]["event_ids"] == [events[middle].event_id]
    assert stored["evidence"]["coordinates"] == [[lon, lat]]
    assert [e["kind"] for e in journey["timeline"]][-1] == "held"
    assert "route_deviation" in journey["timeline"][-1]["note"]
    assert declaration(transit, declaration_id)["status"] == "accepted"
    listed = transit.get("/api/v1/journeys?alert=route_deviation", headers=_json_headers(ADMIN_KEY)).get_json()
    assert [j["declaration_id"] for j in listed["journeys"]] == [declaration_id]
    assert transit.get("/api/v1/journeys?state=released", headers=_json_headers(ADMIN_KEY)).get_json()["total"] == 0


def test_tampering_en_route_is_an_alert_but_opening_at_a_control_point_is_an_inspection(transit: FlaskClient) -> None:
    declaration_id = lodge(transit).get_json()["declaration_id"]
    events = clean_run(LMC, "EL-000123", start(), "GW-tamper")
    lon, lat = along(LMC, 0.3)
    tamper = GatewayEvent("GW-tamper-x", "EL-000123", ReadingKind.TAMPER, events[10].at + timedelta(seconds=30),
                          lat, lon)
    lmc = NETWORK.points["HKLMC"]
    opened = GatewayEvent("GW-tamper-o", "EL-000123", ReadingKind.OPEN, events[-3].at + timedelta(seconds=5),
                          lmc.latitude, lmc.longitude)
    receipt = post(transit, [*events, tamper, opened])
    assert [a["kind"] for a in receipt["alerts"]] == ["lock_tampered"]
    journey = journey_of(transit, declaration_id)
    assert journey["state"] == "exception"
    assert journey["alerts"][0]["evidence"]["event_ids"] == ["GW-tamper-x"]
    inspection = next(e for e in journey["timeline"] if e["kind"] == "open")
    assert "HKLMC" in inspection["note"]


def test_an_overdue_silent_truck_is_found_by_the_every_minute_job(transit: FlaskClient, clean_app: Flask) -> None:
    declaration_id = lodge(transit).get_json()["declaration_id"]
    sealed = datetime.now(timezone.utc) - timedelta(hours=5)
    first = clean_run(LMC, "EL-000123", sealed, "GW-late")[:6]  # sealed, then a few positions, then nothing
    assert post(transit, first)["alerts"] == []
    run = run_job(clean_app.extensions["csw"].database, "elock-overdue", JOBS["elock-overdue"])
    assert run is not None and run.outcome == "ok"
    assert sorted(a["kind"] for a in run.detail["alerts"]) == ["overdue", "telemetry_silence"]
    journey = journey_of(transit, declaration_id)
    assert journey["state"] == "exception"
    assert {e["source"] for e in journey["timeline"] if e["kind"].startswith("alert:")} == {"job"}
    # a second run raises nothing new
    again = run_job(clean_app.extensions["csw"].database, "elock-overdue", JOBS["elock-overdue"])
    assert again is not None and again.detail["alerts"] == []
    alerts = transit.get("/api/v1/elock/alerts?kind=overdue", headers=_json_headers(ADMIN_KEY)).get_json()
    assert alerts["total"] == 1 and alerts["alerts"][0]["declaration_id"] == declaration_id


def test_duplicates_are_ignored_and_late_events_are_placed_by_their_time(transit: FlaskClient) -> None:
    declaration_id = lodge(transit).get_json()["declaration_id"]
    events = clean_run(LMC, "EL-000123", start(), "GW-order")
    late = events[5]
    first = [e for e in events[:-1] if e is not late]
    random.Random(7).shuffle(first)
    assert post(transit, first)["accepted"] == len(first)
    again = post(transit, first[:10])
    assert again["duplicate"] == 10 and again["accepted"] == 0
    assert {r["status"] for r in again["results"]} == {"duplicate"}
    receipt = post(transit, [late, events[-1], events[-1]])
    assert [r["status"] for r in receipt["results"]] == ["accepted", "accepted", "duplicate"]
    journey = journey_of(transit, declaration_id)
    assert journey["state"] == "released" and journey["alerts"] == []
    timeline = journey["timeline"]
    assert [e["kind"] for e in timeline] == ["registered", "sealed", "departed", "arrived", "unsealed", "released"]
    times = [e["occurred_datetime"] for e in timeline if e["source"] == "gateway"]
    assert times == sorted(times)
    points = [f for f in journey["track"]["features"] if f["properties"]["role"] == "event"]
    assert len(points) == len(events)
    assert [p["properties"]["occurred_datetime"] for p in points] == sorted(p["properties"]["occurred_datetime"]
                                                                            for p in points)


def test_events_for_an_unknown_lock_or_a_closed_journey_are_reported_back(transit: FlaskClient) -> None:
    declaration_id = lodge(transit).get_json()["declaration_id"]
    post(transit, clean_run(LMC, "EL-000123", start(), "GW-closed"))
    lon, lat = along(LMC, 1.0)
    receipt = post(transit, [
        GatewayEvent("GW-after", "EL-000123", ReadingKind.POSITION, start() + timedelta(hours=3), lat, lon),
        GatewayEvent("GW-nobody", "EL-999999", ReadingKind.POSITION, start() + timedelta(hours=3), lat, lon),
        GatewayEvent("GW-idle", "EL-000001", ReadingKind.POSITION, start() + timedelta(hours=3), lat, lon),
    ])
    assert [(r["status"], r.get("reason")) for r in receipt["results"]] == [
        ("rejected", "journey_closed"), ("rejected", "unknown_elock"), ("rejected", "no_journey")]
    assert receipt["results"][0]["journey_id"] == journey_of(transit, declaration_id)["journey_id"]
    # reported once; a re-send is a duplicate, not a second rejection
    resent = GatewayEvent("GW-nobody", "EL-999999", ReadingKind.POSITION, start(), lat, lon)
    assert post(transit, [resent])["duplicate"] == 1


def _partner_declaration(client: FlaskClient, app: Flask, lrn: str, lane: str) -> str:
    """An inbound transhipment sealed at Dongguan, with the lane risk scoring gave it."""
    lodged = lodge(client, lrn=lrn, elock="EL-000124", origin="CNDGG", destination="HKKCG", lane=lane)
    assert lodged.status_code == 202, lodged.get_json()
    return lodged.get_json()["declaration_id"]


def test_a_journey_sealed_by_partner_customs_is_released_under_mutual_recognition(
        transit: FlaskClient, clean_app: Flask) -> None:
    declaration_id = _partner_declaration(transit, clean_app, "DTC-TS-2026-000401", "green")
    post(transit, clean_run(INBOUND, "EL-000124", start(), "GW-mr", speed_kmh=60, every=timedelta(minutes=3)))
    journey = journey_of(transit, declaration_id)
    assert journey["state"] == "released" and journey["sealed_by"] == "partner"
    note = journey["timeline"][-1]["note"]
    assert "mutual recognition" in note and "CNDGG" in note
    assert declaration(transit, declaration_id)["status"] == "released"


def test_a_partner_sealed_journey_in_the_red_lane_is_held_until_an_officer_releases_it(
        transit: FlaskClient, clean_app: Flask) -> None:
    declaration_id = _partner_declaration(transit, clean_app, "DTC-TS-2026-000402", "red")
    post(transit, clean_run(INBOUND, "EL-000124", start(), "GW-red", speed_kmh=60, every=timedelta(minutes=3)))
    journey = journey_of(transit, declaration_id)
    assert journey["state"] == "arrived" and journey["alerts"] == []
    assert journey["timeline"][-1]["kind"] == "held" and "red lane" in journey["timeline"][-1]["note"]
    assert declaration(transit, declaration_id)["status"] == "accepted"
    from app.domain.declaration import DeclarationStatus
    from app.domain.actors import Caller
    from app.declarations.service import change_status

    with clean_app.extensions["csw"].sessions() as session, session.begin():  # what an officer's release does
        row = session.get(models.Declaration, declaration_id)
        change_status(session, row, DeclarationStatus.RELEASED, "released",
                      Caller(actor="officer:chan", role="officer"), None, note="documents checked")
    journey = journey_of(transit, declaration_id)
    assert journey["state"] == "released"
    released = [(entry["source"], entry["actor"]) for entry in journey["timeline"] if entry["kind"] == "released"]
    assert released == [("officer", "officer:chan")]


@pytest.mark.parametrize(("changes", "path", "rule"), [
    ({"elock": "EL-777777"}, "/Declaration/GoodsShipment/Consignment/TransportEquipment/ELockID", "elock-registered"),
    ({"destination": "CNZUH"}, "/Declaration/GoodsShipment/Consignment/ControlPointID", "approved-route"),
    ({"vehicle": "ZZ9"}, "/Declaration/GoodsShipment/Consignment/ConveyanceID", "vehicle-registered"),
])
def test_a_transhipment_that_cannot_move_under_e_lock_is_refused(
        transit: FlaskClient, clean_app: Flask, changes: dict[str, str], path: str, rule: str) -> None:
    response = lodge(transit, **changes)
    assert response.status_code == 422
    body = response.get_json()
    assert body["code"] == "TRANSIT_REJECTED"
    assert [(e["path"], e["rule"]) for e in body["errors"]] == [(path, rule)]
    with clean_app.extensions["csw"].sessions() as session:
        assert session.scalar(select(models.Declaration.id)) is None


def test_a_busy_lock_is_refused_until_the_cancelled_declaration_frees_it(transit: FlaskClient) -> None:
    first = lodge(transit).get_json()["declaration_id"]
    busy = lodge(transit, lrn="DTC-TS-2026-000302")
    assert busy.status_code == 422
    [error] = busy.get_json()["errors"]
    assert error["rule"] == "elock-available" and "in_use" in error["message"]
    cancelled = transit.post(f"{API}/{first}/cancellation", json={"reason": "shipment withdrawn"},
                             headers={"Authorization": auth()["Authorization"], "Accept": "application/json"})
    assert cancelled.status_code == 200, cancelled.get_json()
    journey = journey_of(transit, first)
    assert journey["state"] == "cancelled" and journey["timeline"][-1]["note"].endswith("shipment withdrawn")
    assert lodge(transit, lrn="DTC-TS-2026-000302").status_code == 202


def test_only_gateway_clients_post_telemetry_and_traders_see_only_their_journeys(transit: FlaskClient) -> None:
    declaration_id = lodge(transit).get_json()["declaration_id"]
    batch = telemetry.to_json(clean_run(LMC, "EL-000123", start(), "GW-auth")[:2])
    trader = transit.post(EVENTS, data=batch, headers=_json_headers("csw_test_trader_key_0000000000000"))
    assert trader.status_code == 403 and trader.get_json()["code"] == "FORBIDDEN"
    assert transit.post(EVENTS, data=batch, headers={"Content-Type": "application/json"}).status_code == 401
    journey_id = journey_of(transit, declaration_id)["journey_id"]
    own = transit.get(f"/api/v1/journeys/{journey_id}", headers=_json_headers("csw_test_trader_key_0000000000000"))
    assert own.status_code == 200
    other = transit.get(f"/api/v1/journeys/{journey_id}", headers=_json_headers(OTHER_KEY))
    assert other.status_code == 404
    assert transit.get("/api/v1/journeys", headers=_json_headers(OTHER_KEY)).get_json()["total"] == 0


def test_an_xml_batch_gets_an_xml_receipt_that_validates(  # type: ignore[no-untyped-def]
        transit: FlaskClient, response_schema) -> None:
    lodge(transit)
    events = clean_run(LMC, "EL-000123", start(), "GW-xml")[:3]
    events.append(GatewayEvent("GW-xml-u", "EL-999999", ReadingKind.LOW_BATTERY, start(), 22.3, 113.9))
    response = transit.post(EVENTS, data=telemetry.to_xml(events, "GW-01"), headers={
        "Authorization": f"Bearer {GATEWAY_KEY}", "Content-Type": "application/xml"})
    assert response.status_code == 200
    document = etree.fromstring(response.data)
    response_schema.assertValid(document)
    ns = {"r": "urn:csw:response:v1"}
    assert document.findtext("r:Accepted", namespaces=ns) == "3"
    assert document.findtext("r:Results/r:Result[4]/r:Reason", namespaces=ns) == "unknown_elock"


def test_a_malformed_batch_is_refused_whole_with_paths(transit: FlaskClient, clean_app: Flask) -> None:
    events = clean_run(LMC, "EL-000123", start(), "GW-bad")[:2]
    bad_xml = telemetry.to_xml(events).replace(b"<TypeCode>seal</TypeCode>", b"<TypeCode>sealed</TypeCode>")
    response = transit.post(EVENTS, data=bad_xml, headers={
        "Authorization": f"Bearer {GATEWAY_KEY}", "Content-Type": "application/xml", "Accept": "application/json"})
    assert response.status_code == 422
    assert response.get_json()["code"] == "SCHEMA_INVALID"
    assert any("TypeCode" in (e.get("path") or "") for e in response.get_json()["errors"])
    bad_json = b'{"events": [{"event_id": "A1", "elock_id": "EL-000123", "type": "position", ' \
               b'"occurred_at": "2026-11-12T09:00:00", "latitude": 95, "longitude": 114.0}]}'
    response = transit.post(EVENTS, data=bad_json, headers=_json_headers(GATEWAY_KEY))
    assert response.status_code == 422
    assert sorted(e["path"] for e in response.get_json()["errors"]) == ["events[0].latitude", "events[0].occurred_at"]
    with clean_app.extensions["csw"].sessions() as session:
        assert session.scalar(select(models.Declaration.id)) is None


def test_a_late_event_off_the_corridor_is_judged_in_its_place(transit: FlaskClient) -> None:
    declaration_id = lodge(transit).get_json()["declaration_id"]
    events = clean_run(LMC, "EL-000123", start(), "GW-lateoff")
    assert post(transit, events[:12])["alerts"] == []
    lon, lat = offset(along(LMC, 0.2), 0, -5000)
    late = GatewayEvent("GW-lateoff-x", "EL-000123", ReadingKind.POSITION, events[5].at + timedelta(seconds=30),
                        lat, lon)
    receipt = post(transit, [late])
    assert [a["kind"] for a in receipt["alerts"]] == ["route_deviation"]
    journey = journey_of(transit, declaration_id)
    assert journey["state"] == "exception"
    kinds = [e["kind"] for e in journey["timeline"]]
    assert kinds == ["registered", "sealed", "departed", "alert:route_deviation"]
    assert journey["timeline"][-1]["occurred_datetime"] < journey["last_event_datetime"]
