"""E-lock alerts reach officers, the remaining journey rules on realistic replays (a long
stop, an unseal short of the destination), and the admin registration API of the scheme."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.db.case_models import Case
from app.domain.transit import ReadingKind
from app.jobs import JOBS, run_job
from app.transit.replay import along, clean_run
from app.transit.telemetry import GatewayEvent
from tests.conftest import TRADER_KEY, auth, sample
from tests.integration.test_transit_journeys import (
    ADMIN_KEY,
    GATEWAY_KEY,
    LMC,
    _json_headers,
    declaration,
    journey_of,
    lodge,
    post,
    start,
)


def cases_of(app: Flask, declaration_id: str) -> list[Case]:
    with app.extensions["csw"].sessions() as session:
        return list(session.scalars(select(Case).where(Case.declaration_id == declaration_id).order_by(Case.id)))


def test_an_alert_opens_an_officer_case_with_its_evidence(transit: FlaskClient, clean_app: Flask) -> None:
    declaration_id = lodge(transit).get_json()["declaration_id"]
    events = clean_run(LMC, "EL-000123", start(), "GW-case")
    lon, lat = along(LMC, 0.4)
    tamper = GatewayEvent("GW-case-x", "EL-000123", ReadingKind.TAMPER, events[8].at + timedelta(seconds=20),
                          lat, lon)
    [alert] = post(transit, [*events[:12], tamper])["alerts"]
    [case] = cases_of(clean_app, declaration_id)
    assert case.active and case.source == "alert" and case.alert_kind == "lock_tampered"
    assert case.alert_id == alert["alert_id"] and case.journey_id == alert["journey_id"]
    assert case.deadline_at is not None


def test_an_alert_from_the_overdue_job_joins_the_declarations_case(transit: FlaskClient, clean_app: Flask) -> None:
    declaration_id = lodge(transit).get_json()["declaration_id"]
    sealed = start() - timedelta(hours=5)
    events = clean_run(LMC, "EL-000123", sealed, "GW-jobcase")
    lon, lat = along(LMC, 0.2)
    post(transit, [*events[:5], GatewayEvent("GW-jobcase-x", "EL-000123", ReadingKind.OPEN,
                                             events[4].at + timedelta(seconds=10), lat, lon)])
    run = run_job(clean_app.extensions["csw"].database, "elock-overdue", JOBS["elock-overdue"])
    assert run is not None and sorted(a["kind"] for a in run.detail["alerts"]) == ["overdue", "telemetry_silence"]
    [case] = cases_of(clean_app, declaration_id)  # one case per declaration; every alert is a reason on it
    assert sorted(r["code"] for r in case.reasons if r.get("source") == "alert") == [
        "lock_opened", "overdue", "telemetry_silence"]


def test_a_stop_longer_than_allowed_is_an_alert_naming_where_it_began_and_ended(transit: FlaskClient) -> None:
    declaration_id = lodge(transit).get_json()["declaration_id"]
    events = clean_run(LMC, "EL-000123", start(), "GW-stop")
    middle = len(events) // 2
    parked_at = events[middle].at
    lon, lat = events[middle].longitude, events[middle].latitude
    parked = [GatewayEvent(f"GW-stop-p{n:02d}", "EL-000123", ReadingKind.POSITION,
                           parked_at + timedelta(minutes=2 * n), lat, lon) for n in range(1, 21)]  # 40 minutes
    later = [GatewayEvent(e.event_id, e.elock_id, e.kind, e.at + timedelta(minutes=40), e.latitude, e.longitude)
             for e in events[middle + 1:]]
    receipt = post(transit, [*events[:middle + 1], *parked, *later])
    assert [a["kind"] for a in receipt["alerts"]] == ["long_stop"]
    journey = journey_of(transit, declaration_id)
    [alert] = journey["alerts"]
    assert alert["evidence"]["event_ids"][0] == events[middle].event_id
    assert alert["evidence"]["coordinates"][0] == [lon, lat]
    assert "limit 30" in alert["message"]
    assert journey["state"] == "exception" and journey["timeline"][-1]["kind"] == "held"
    assert declaration(transit, declaration_id)["status"] == "accepted"


def test_an_unseal_short_of_the_destination_is_an_alert_and_nothing_is_released(transit: FlaskClient) -> None:
    declaration_id = lodge(transit).get_json()["declaration_id"]
    events = clean_run(LMC, "EL-000123", start(), "GW-short")
    cut = int(len(events) * 0.6)
    lon, lat = along(LMC, 0.6)
    unseal = GatewayEvent("GW-short-u", "EL-000123", ReadingKind.UNSEAL, events[cut].at + timedelta(minutes=1),
                          lat, lon)
    receipt = post(transit, [*events[:cut + 1], unseal])
    assert [a["kind"] for a in receipt["alerts"]] == ["unseal_away_from_destination"]
    journey = journey_of(transit, declaration_id)
    assert journey["state"] == "exception" and journey["arrived_datetime"] is None
    assert "released" not in [e["kind"] for e in journey["timeline"]]
    assert journey["alerts"][0]["evidence"]["event_ids"] == ["GW-short-u"]
    assert declaration(transit, declaration_id)["status"] == "accepted"


def _admin(client: FlaskClient, path: str, body: dict[str, Any], key: str = ADMIN_KEY) -> Any:
    return client.post(f"/api/v1/elock/{path}", json=body, headers=_json_headers(key))


@pytest.mark.parametrize(("path", "body", "status", "field", "rule"), [
    ("companies", {"br_number": "4061729", "name": "Short BR", "mode": "air-land"}, 400, "br_number", "br-number"),
    ("companies", {"br_number": "40617295", "name": "Bad mode", "mode": "rail"}, 400, "mode", "mode"),
    ("vehicles", {"registration_mark": "IO123", "company": "40617295"}, 400, "registration_mark", "vehicle-mark"),
    ("vehicles", {"registration_mark": "AB0123", "company": "40617295"}, 400, "registration_mark", "vehicle-mark"),
    ("vehicles", {"registration_mark": "AB123", "company": "99999999"}, 404, "company", "company-registered"),
    ("elocks", {"elock_id": "EL-900001", "supplier": "Nobody Ltd"}, 400, "supplier", "accredited-supplier"),
    ("elocks", {"elock_id": "el 1", "supplier": "HKSTP E-Lock Ltd"}, 400, "elock_id", "elock-id"),
    ("elocks", {"elock_id": "EL-900001"}, 400, "supplier", "required"),
])
def test_registration_refuses_bad_input_naming_the_field_and_rule(
        transit: FlaskClient, path: str, body: dict[str, Any], status: int, field: str, rule: str) -> None:
    response = _admin(transit, path, body)
    assert response.status_code == status
    [error] = response.get_json()["errors"]
    assert (error["path"], error["rule"]) == (field, rule)


def test_admins_register_a_fleet_and_a_lock_seals_one_journey_at_a_time(transit: FlaskClient) -> None:
    company = _admin(transit, "companies", {"br_number": "55512345", "name": "Air Land Ltd", "mode": "air-land"})
    assert company.status_code == 201 and company.get_json()["mode"] == "air-land"
    vehicle = _admin(transit, "vehicles", {"registration_mark": "ab 987", "company": "55512345"})
    assert vehicle.status_code == 201 and vehicle.get_json()["registration_mark"] == "AB987"
    lock = _admin(transit, "elocks", {"elock_id": "EL-900001", "supplier": "HKSTP E-Lock Ltd"})
    assert lock.status_code == 201 and lock.get_json()["status"] == "available"
    refused = _admin(transit, "companies", {"br_number": "55512346", "name": "X", "mode": "air-land"},
                     key=GATEWAY_KEY)
    assert refused.status_code == 403 and refused.get_json()["code"] == "FORBIDDEN"
    assert _admin(transit, "elocks", {"elock_id": "EL-900002", "supplier": "HKSTP E-Lock Ltd"},
                  key=TRADER_KEY).status_code == 403

    assert lodge(transit, elock="EL-900001", vehicle="AB987").status_code == 202
    busy = _admin(transit, "elocks/EL-900001/status", {"status": "faulty"})
    assert busy.status_code == 409 and busy.get_json()["code"] == "ELOCK_IN_USE"
    second = lodge(transit, lrn="DTC-TS-2026-000399", elock="EL-900001", vehicle="AB987")
    assert second.status_code == 422 and second.get_json()["errors"][0]["rule"] == "elock-available"

    spare = _admin(transit, "elocks", {"elock_id": "EL-900003", "supplier": "HKSTP E-Lock Ltd"})
    assert spare.status_code == 201
    faulty = _admin(transit, "elocks/EL-900003/status", {"status": "faulty"})
    assert faulty.status_code == 200 and faulty.get_json()["status"] == "faulty"
    refused_lodge = lodge(transit, lrn="DTC-TS-2026-000398", elock="EL-900003", vehicle="AB987")
    assert refused_lodge.status_code == 422
    assert "faulty" in refused_lodge.get_json()["errors"][0]["message"]


BATCH = ('<?xml version="1.0" encoding="UTF-8"?><ELockEventBatch xmlns="urn:csw:elock-events:v1"><Event>'
         '<EventID>T1</EventID><ELockID>EL-000123</ELockID><TypeCode>position</TypeCode>'
         '<OccurrenceDateTime>{when}</OccurrenceDateTime><Position><Latitude>22.3</Latitude>'
         '<Longitude>113.9</Longitude></Position></Event></ELockEventBatch>')


@pytest.mark.parametrize("when", ["2026-11-12T24:00:00Z", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00",
                                  "10000-01-01T00:00:00Z", "-0001-01-01T00:00:00Z"])
def test_a_schema_valid_time_the_service_cannot_hold_is_refused_with_its_path(transit: FlaskClient,
                                                                               when: str) -> None:
    response = transit.post("/api/v1/elock/events", data=BATCH.format(when=when).encode(), headers={
        "Authorization": f"Bearer {GATEWAY_KEY}", "Content-Type": "application/xml", "Accept": "application/json"})
    assert response.status_code == 422
    body = response.get_json()
    assert body["code"] == "VALUE_OUT_OF_RANGE"
    assert [(e["path"], e["rule"]) for e in body["errors"]] == [
        ("/ELockEventBatch/Event[1]/OccurrenceDateTime", "date-time-range")]


@pytest.mark.parametrize("when", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"])
def test_a_json_time_out_of_range_is_refused_with_its_path(transit: FlaskClient, when: str) -> None:
    body = ('{"events": [{"event_id": "J1", "elock_id": "EL-000123", "type": "position", "occurred_at": "%s", '
            '"latitude": 22.3, "longitude": 113.9}]}' % when).encode()
    response = transit.post("/api/v1/elock/events", data=body, headers=_json_headers(GATEWAY_KEY))
    assert response.status_code == 422
    assert [(e["path"], e["rule"]) for e in response.get_json()["errors"]] == [("events[0].occurred_at", "date-time")]


@pytest.mark.parametrize(("method", "url", "body", "status", "field"), [
    ("get", "/api/v1/journeys?declaration_id=%00", None, 400, "declaration_id"),
    ("post", "/api/v1/elock/companies", {"br_number": "40617295", "name": "A\u0000B", "mode": "air-land"}, 400,
     "name"),
    ("post", "/api/v1/elock/vehicles", {"registration_mark": "AB12", "company": "4061729\u0000"}, 400, "company"),
    ("post", "/api/v1/elock/elocks/EL%00/status", {"status": "faulty"}, 404, None),
])
def test_a_nul_byte_anywhere_is_a_client_error_on_every_backend(transit: FlaskClient, method: str, url: str,
                                                                body: dict[str, Any] | None, status: int,
                                                                field: str | None) -> None:
    headers = _json_headers(ADMIN_KEY)
    response = transit.post(url, json=body, headers=headers) if method == "post" else transit.get(url, headers=headers)
    assert response.status_code == status
    if field is not None:
        assert [e["path"] for e in response.get_json()["errors"]] == [field]


def test_the_every_minute_job_leaves_a_reporting_truck_alone_and_flags_a_silent_one(
        transit: FlaskClient, clean_app: Flask) -> None:
    now = datetime.now(timezone.utc).replace(microsecond=0)
    moving = lodge(transit).get_json()["declaration_id"]
    silent = lodge(transit, lrn="DTC-TS-2026-000377", elock="EL-000125").get_json()["declaration_id"]
    post(transit, clean_run(LMC, "EL-000123", now - timedelta(minutes=8), "GW-moving")[:5])  # last: 2 min ago
    post(transit, clean_run(LMC, "EL-000125", now - timedelta(minutes=40), "GW-silent")[:5])  # last: 32 min ago
    run = run_job(clean_app.extensions["csw"].database, "elock-overdue", JOBS["elock-overdue"])
    assert run is not None and run.outcome == "ok"
    [alert] = run.detail["alerts"]
    assert alert["kind"] == "telemetry_silence"
    assert alert["journey_id"] == journey_of(transit, silent)["journey_id"]
    assert journey_of(transit, moving)["state"] == "in_transit"


def amend(client: FlaskClient, declaration_id: str, elock: str = "EL-000123",
          description: str = "Integrated circuits, processors and controllers, in reels") -> Any:
    """A full replacement (FunctionCode 13) of the TS sample lodged by ``lodge``."""
    body = (sample("valid/transhipment-elock.xml").decode()
            .replace("<FunctionCode>9</FunctionCode>", "<FunctionCode>13</FunctionCode>")
            .replace("EL-000123", elock)
            .replace("Integrated circuits, processors and controllers, in reels", description))
    return client.post(f"/api/v1/declarations/{declaration_id}/amendments", data=body.encode(),
                       headers=auth(accept="application/json"))


def test_an_amendment_before_sealing_moves_the_journey_to_the_new_lock(transit: FlaskClient) -> None:
    declaration_id = lodge(transit).get_json()["declaration_id"]
    old = journey_of(transit, declaration_id)
    amended = amend(transit, declaration_id, elock="EL-000124")
    assert amended.status_code == 202, amended.get_json()
    listed = transit.get(f"/api/v1/journeys?declaration_id={declaration_id}", headers=_json_headers(ADMIN_KEY))
    states = {j["elock_id"]: j["state"] for j in listed.get_json()["journeys"]}
    assert states == {"EL-000123": "cancelled", "EL-000124": "registered"}
    [new] = [j for j in listed.get_json()["journeys"] if j["state"] == "registered"]
    cancelled = transit.get(f"/api/v1/journeys/{old['journey_id']}", headers=_json_headers(ADMIN_KEY)).get_json()
    assert cancelled["state"] == "cancelled" and "version 2" in cancelled["timeline"][-1]["note"]
    # the old lock is free again, the new one follows the journey
    assert lodge(transit, lrn="DTC-TS-2026-000388").status_code == 202
    receipt = post(transit, clean_run(LMC, "EL-000124", start(), "GW-moved")[:3])
    assert {r["journey_id"] for r in receipt["results"]} == {new["journey_id"]}


def test_a_sealed_movement_cannot_be_amended_but_the_goods_can(transit: FlaskClient) -> None:
    declaration_id = lodge(transit).get_json()["declaration_id"]
    post(transit, clean_run(LMC, "EL-000123", start(), "GW-sealed")[:3])
    refused = amend(transit, declaration_id, elock="EL-000124")
    assert refused.status_code == 409
    body = refused.get_json()
    assert body["code"] == "AMENDMENT_NOT_ALLOWED"
    assert [(e["path"], e["rule"]) for e in body["errors"]] == [
        ("/Declaration/GoodsShipment/Consignment", "journey-sealed")]
    assert declaration(transit, declaration_id)["version"] == 1
    accepted = amend(transit, declaration_id, description="Integrated circuits (processors), in reels")
    assert accepted.status_code == 202, accepted.get_json()
    journey = journey_of(transit, declaration_id)
    assert journey["elock_id"] == "EL-000123" and journey["state"] == "in_transit"
