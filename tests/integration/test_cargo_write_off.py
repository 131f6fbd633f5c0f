"""Issue 21, the road flow end to end through the API: lodge cargo -> bundle it to a truck's trip
-> the kiosk -> the crossing -> the trade declaration that refers to the cargo -> written off.
A consignment selected before arrival stops its truck; a line with no declaration 14 days
after it moved opens a case for officers and a notice to the party that lodged it."""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from lxml import etree
from sqlalchemy import select, update

from app.config import PROJECT_ROOT
from app.db.case_models import Case
from app.db.cargo_models import CargoRecord
from app.db.routing_models import OutboxMessage
from app.db.writeoff_models import CargoLine
from app.domain.risk import Lane
from app.domain.time import hong_kong_date
from app.jobs import JOBS
from app.platform.jobs import run_job
from app.users.clients import create_client, ensure_party
from tests.conftest import OTHER_KEY, TRADER_BRN, TRADER_KEY, auth
from tests.factories import declaration_xml, recent_movement
from tests.integration.test_cargo_api import cargo_xml
from tests.integration.test_cargo_api import headers as cargo_headers
from tests.integration.test_transit_journeys import ADMIN_KEY
from tests.integration.test_trips_api import add_subscriber, json_headers, open_trip

TRIPS = "/api/v1/trips"


@pytest.fixture()
def customs(client: FlaskClient, clean_app: Flask) -> FlaskClient:
    """The test client, with Hong Kong customs' own API client (the control point's systems)."""
    with clean_app.extensions["csw"].sessions() as session, session.begin():
        create_client(session, "customs-admin", ensure_party(session, "HKCED0001", "Customs and Excise Department"),
                      key=ADMIN_KEY, role="admin")
    return client


@pytest.fixture(scope="module")
def routing_schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(PROJECT_ROOT / "schemas/routing/v1/routing.xsd")))


def lodge_cargo(client: FlaskClient, app: Flask, lrn: str, lane: str = "green", packages: int = 40) -> str:
    """Cargo lodged by the trader (the shipper), with its lane fixed (the risk draw is random)."""
    answer = client.post("/api/v1/cargo", data=cargo_xml(lrn, TotalPackageQuantity=str(packages)),
                         headers=cargo_headers())
    assert answer.status_code == 202, answer.text
    reference: str = answer.get_json()["cargo_reference"]
    with app.extensions["csw"].sessions() as session, session.begin():
        session.execute(update(CargoRecord).where(CargoRecord.id == reference).values(lane=lane))
    return reference


def bundle(client: FlaskClient, *references: str) -> dict[str, Any]:
    """The carrier (another party, handed the cargo references) opens a trip with them."""
    response = open_trip(client, key=OTHER_KEY, consignments=list(references))
    assert response.status_code == 201, response.text
    trip: dict[str, Any] = response.get_json()
    return trip


def cross(client: FlaskClient, trip_id: str, **body: str) -> Any:
    return client.post(f"{TRIPS}/{trip_id}/crossing", data=json.dumps(body), headers=json_headers(ADMIN_KEY))


def previous_document(reference: str, kind: str = "CRN", packages: int | None = None) -> str:
    quantity = f"<QuantityQuantity>{packages}</QuantityQuantity>" if packages is not None else ""
    return f"<PreviousDocument><TypeCode>{kind}</TypeCode><ID>{reference}</ID>{quantity}</PreviousDocument>"


def declare(client: FlaskClient, lrn: str, extra: str, movement_at: str | None = None) -> dict[str, Any]:
    body = declaration_xml(lrn=lrn, consignment_extra=extra, movement_at=movement_at)
    answer = client.post("/api/v1/declarations", data=body, headers=auth(TRADER_KEY, "application/json"))
    assert answer.status_code == 202, answer.text
    result: dict[str, Any] = answer.get_json()
    return result


def line(client: FlaskClient, reference: str, key: str = TRADER_KEY) -> Any:
    return client.get(f"/api/v1/cargo-lines/CRN/{reference}", headers={"Authorization": f"Bearer {key}",
                                                                        "Accept": "application/json"})


def test_lodge_bundle_kiosk_cross_declare_written_off(customs: FlaskClient, clean_app: Flask,
                                                      routing_schema: etree.XMLSchema,
                                                      response_schema) -> None:  # type: ignore[no-untyped-def]
    client = customs
    reference = lodge_cargo(client, clean_app, "ECI-WALK-1")
    trip = bundle(client, reference)
    assert trip["decision"] == "cleared"
    assert trip["consignments"] == [{"cargo_reference": reference, "ucr": "ECI-WALK-1", "status": "released",
                                     "selected": False}]
    routing_schema.assertValid(etree.fromstring(client.get(f"{TRIPS}/{trip['trip_id']}", headers=auth(OTHER_KEY)).data))

    kiosk = client.get(f"{TRIPS}/{trip['trip_id']}/decision", headers=auth(OTHER_KEY, "application/json"))
    assert kiosk.status_code == 200 and kiosk.get_json()["instruction"] == "proceed"
    again = client.get(f"{TRIPS}/{trip['trip_id']}/decision",
                       headers={**auth(OTHER_KEY, "application/json"), "If-None-Match": kiosk.headers["ETag"]})
    assert again.status_code == 304

    # bundled: the shipper can no longer change or withdraw it
    amended = client.post(f"/api/v1/cargo/{reference}/amendments",
                          data=cargo_xml("ECI-WALK-1", function_code="13"), headers=cargo_headers())
    assert amended.status_code == 409 and amended.get_json()["code"] == "CARGO_NOT_CHANGEABLE"
    cancelled = client.post(f"/api/v1/cargo/{reference}/cancellation", data=json.dumps({"reason": "not going"}),
                            headers=json_headers())
    assert cancelled.status_code == 409 and cancelled.get_json()["code"] == "CARGO_NOT_CHANGEABLE"

    refused = client.post(f"{TRIPS}/{trip['trip_id']}/crossing", data="{}", headers=json_headers(OTHER_KEY))
    assert refused.status_code == 403  # customs record the crossing, not the carrier
    crossed = cross(client, trip["trip_id"])
    assert crossed.status_code == 200, crossed.text
    assert crossed.get_json()["crossed_datetime"] and cross(client, trip["trip_id"]).status_code == 200
    cargo = client.get(f"/api/v1/cargo/{reference}", headers=cargo_headers()).get_json()
    assert cargo["status"] == "moved" and cargo["history"][-1]["kind"] == "moved"
    late_link = client.post(f"{TRIPS}/{trip['trip_id']}/consignments",
                            data=json.dumps({"consignments": [reference]}), headers=json_headers(OTHER_KEY))
    assert late_link.status_code == 409 and late_link.get_json()["code"] == "TRIP_CROSSED"
    assert line(client, reference).get_json()["status"] == "open"

    # the declaration names its cargo and leaves the date out: the crossing is the movement date
    declared = declare(client, "DEC-WALK-1", previous_document(reference, packages=40))
    codes = {f["code"] for f in declared["findings"]}
    assert "R304" not in codes and "R307" in codes and "R306" not in codes

    written_off = line(client, reference).get_json()
    assert written_off["status"] == "written_off" and written_off["declared_package_quantity"] == 40
    assert "declarations" not in written_off  # the lodger sees how much is declared, not by whom
    seen_by_customs = line(client, reference, ADMIN_KEY).get_json()
    assert [d["declaration_id"] for d in seen_by_customs["declarations"]] == [declared["declaration_id"]]
    assert line(client, reference, OTHER_KEY).status_code == 404  # the carrier is not the lodger
    xml = client.get(f"/api/v1/cargo-lines/CRN/{reference}", headers=auth(ADMIN_KEY))
    response_schema.assertValid(etree.fromstring(xml.data))

    # cancelling the declaration reopens the line
    cancel = client.post(f"/api/v1/declarations/{declared['declaration_id']}/cancellation",
                         data=json.dumps({"reason": "lodged twice"}), headers=json_headers())
    assert cancel.status_code in (200, 202), cancel.text
    assert line(client, reference).get_json()["status"] == "open"


def test_a_selected_consignment_stops_the_truck_until_an_officer_releases_it(
        customs: FlaskClient, clean_app: Flask, routing_schema: etree.XMLSchema) -> None:
    client = customs
    add_subscriber(clean_app, "lok-ma-chau", "control_point", transport="webhook", code="HKLMC")
    green, red = lodge_cargo(client, clean_app, "ECI-SEL-1"), lodge_cargo(client, clean_app, "ECI-SEL-2", lane="red")
    trip = bundle(client, green, red)
    assert trip["decision"] == "inspection"
    with clean_app.extensions["csw"].sessions() as session:
        manifest = session.scalars(select(OutboxMessage).where(
            OutboxMessage.message_type == "manifest_decision")).one()
    document = etree.fromstring(manifest.body)  # the control point is told which cargo to inspect
    routing_schema.assertValid(document)
    assert document.findtext(".//{*}Decision") == "inspection"
    assert [e.text for e in document.iterfind(".//{*}CargoReference")] == [green, red]
    kiosk = client.get(f"{TRIPS}/{trip['trip_id']}/decision", headers=auth(OTHER_KEY, "application/json"))
    assert kiosk.get_json()["instruction"] == "go to inspection" and kiosk.get_json()["selected_cargo"] == [red]
    routing_schema.assertValid(etree.fromstring(
        client.get(f"{TRIPS}/{trip['trip_id']}/decision", headers=auth(OTHER_KEY)).data))
    refused = cross(client, trip["trip_id"])
    assert refused.status_code == 409 and refused.get_json()["code"] == "TRIP_NOT_CLEARED"

    not_theirs = client.post(f"/api/v1/cargo/{red}/control-decisions", data=json.dumps({"decision": "release"}),
                             headers=json_headers(OTHER_KEY))
    assert not_theirs.status_code == 403
    released = client.post(f"/api/v1/cargo/{red}/control-decisions",
                           data=json.dumps({"decision": "release", "note": "examined: as declared"}),
                           headers=json_headers(ADMIN_KEY))
    assert released.status_code == 200, released.text
    after = client.get(f"{TRIPS}/{trip['trip_id']}/decision",
                       headers={**auth(OTHER_KEY, "application/json"), "If-None-Match": kiosk.headers["ETag"]})
    assert after.status_code == 200 and after.get_json()["decision"] == "cleared"

    held = client.post(f"/api/v1/cargo/{green}/control-decisions", data=json.dumps({"decision": "hold"}),
                       headers=json_headers(ADMIN_KEY))
    assert held.status_code == 200
    assert client.get(f"{TRIPS}/{trip['trip_id']}/decision",
                      headers=auth(OTHER_KEY, "application/json")).get_json()["selected_cargo"] == [green]


def test_bundling_refuses_what_cannot_cross_on_this_trip(customs: FlaskClient, clean_app: Flask) -> None:
    client = customs
    reference = lodge_cargo(client, clean_app, "ECI-REF-1")
    elsewhere = client.post("/api/v1/cargo", data=cargo_xml("ECI-REF-2", ControlPointID="HKSZB"),
                            headers=cargo_headers()).get_json()["cargo_reference"]
    trip = bundle(client, reference)
    other = open_trip(client, key=OTHER_KEY).get_json()
    twice = client.post(f"{TRIPS}/{other['trip_id']}/consignments", data=json.dumps({"consignments": [reference]}),
                        headers=json_headers(OTHER_KEY))
    assert twice.status_code == 409 and twice.get_json()["code"] == "ALREADY_LINKED"
    wrong_point = client.post(f"{TRIPS}/{other['trip_id']}/consignments",
                              data=json.dumps({"consignments": [elsewhere]}), headers=json_headers(OTHER_KEY))
    assert wrong_point.status_code == 409 and wrong_point.get_json()["errors"][0]["rule"] == "same-control-point"
    missing = client.post(f"{TRIPS}/{other['trip_id']}/consignments",
                          data=json.dumps({"consignments": [reference[:-1] + ("A" if reference[-1] != "A" else "B")]}),
                          headers=json_headers(OTHER_KEY))
    assert missing.status_code == 400 and missing.get_json()["code"] == "INVALID_REFERENCE"
    unlinked = client.delete(f"{TRIPS}/{trip['trip_id']}/consignments/{reference}", headers=json_headers(OTHER_KEY))
    assert unlinked.status_code == 200 and unlinked.get_json()["consignments"] == []
    amended = client.post(f"/api/v1/cargo/{reference}/amendments",
                          data=cargo_xml("ECI-REF-1", function_code="13", TotalPackageQuantity="39"),
                          headers=cargo_headers())
    assert amended.status_code == 202  # unbundled, it may change again
    assert line(client, reference).get_json()["package_quantity"] == 39


def _crossed(client: FlaskClient, app: Flask, lrn: str) -> tuple[str, datetime]:
    reference = lodge_cargo(client, app, lrn)
    trip = bundle(client, reference)
    assert cross(client, trip["trip_id"]).status_code == 200
    with app.extensions["csw"].sessions() as session:
        moved = session.scalar(select(CargoLine.moved_at).where(CargoLine.identifier == reference))
    assert moved is not None
    return reference, moved


def _backdate(app: Flask, reference: str, days: int) -> datetime:
    with app.extensions["csw"].sessions() as session, session.begin():
        moved = datetime.now(timezone.utc) - timedelta(days=days)
        session.execute(update(CargoLine).where(CargoLine.identifier == reference).values(moved_at=moved))
    return moved


def test_partial_and_over_declaration_are_findings_and_late_declaring_is_charged(
        customs: FlaskClient, clean_app: Flask) -> None:
    client = customs
    reference, _ = _crossed(client, clean_app, "ECI-PART-1")
    _backdate(clean_app, reference, 40)
    first = declare(client, "DEC-PART-1", previous_document(reference, packages=30))
    codes = {f["code"] for f in first["findings"]}
    assert {"R302", "R307"} <= codes and "R304" not in codes  # late: the penalty runs from the crossing
    partial = line(client, reference).get_json()
    assert partial["status"] == "partial" and [f["code"] for f in partial["findings"]] == ["W101"]
    assert all(f["message_zh"] for f in partial["findings"])
    declare(client, "DEC-PART-2", previous_document(reference, packages=20))
    over = line(client, reference).get_json()
    assert over["status"] == "over" and over["declared_package_quantity"] == 50
    assert [f["code"] for f in over["findings"]] == ["W102"]

    # a reference customs do not hold moves nothing: without a date the declaration is refused (R304)
    refused = client.post("/api/v1/declarations", data=declaration_xml(
        lrn="DEC-UNKNOWN-0", consignment_extra=previous_document("HK26C0000000001"), movement_at=None),
        headers=auth(TRADER_KEY, "application/json"))
    assert refused.status_code == 422 and "R304" in [e["rule"] for e in refused.get_json()["errors"]]
    unknown = declare(client, "DEC-UNKNOWN-1", previous_document("HK26C0000000001"), recent_movement())
    assert [f["path"] for f in unknown["findings"] if f["code"] == "R306"] == [
        "/Declaration/GoodsShipment/Consignment/PreviousDocument[1]/ID"]


def test_a_line_not_declared_14_days_after_crossing_opens_a_case_and_notifies_the_lodger(
        customs: FlaskClient, clean_app: Flask) -> None:
    client = customs
    add_subscriber(clean_app, "trader-pull", "party", party=TRADER_BRN)
    reference, _ = _crossed(client, clean_app, "ECI-LATE-1")
    declared, _ = _crossed(client, clean_app, "ECI-LATE-2")
    declare(client, "DEC-LATE-2", previous_document(declared))
    moved = _backdate(clean_app, reference, 20)
    _backdate(clean_app, declared, 20)
    database = clean_app.extensions["csw"].database
    sessions = database.sessions
    day_of_movement = hong_kong_date(moved)

    def run(day: date) -> list[str]:
        run = run_job(database, "cargo-write-off", JOBS["cargo-write-off"], today=day)
        assert run is not None and run.outcome == "ok", run and run.detail
        followed: list[str] = run.detail["followed_up"]  # type: ignore[assignment]
        return followed

    assert run(day_of_movement + timedelta(days=14)) == []  # the 14th day after: still in time
    assert run(day_of_movement + timedelta(days=15)) == [f"CRN {reference}"]
    assert run(day_of_movement + timedelta(days=16)) == []  # followed up once
    with sessions() as session:
        cases = session.scalars(select(Case).where(Case.source == "write-off")).all()
        notices = session.scalars(select(OutboxMessage).where(
            OutboxMessage.message_type == "cargo_line_open_notice")).all()
    assert [case.reasons[0]["code"] for case in cases] == [f"CRN:{reference}"]
    assert cases[0].reasons[0]["message_zh"] and cases[0].active
    assert [n.subject for n in notices] == [f"cargo-line:CRN:{reference}"]
    routing_schema = etree.XMLSchema(etree.parse(str(PROJECT_ROOT / "schemas/routing/v1/routing.xsd")))
    routing_schema.assertValid(etree.fromstring(notices[0].body))
    pulled = client.get("/api/v1/notifications", headers=auth(TRADER_KEY, "application/json")).get_json()
    assert any(n["message_type"] == "cargo_line_open_notice" for n in pulled["notifications"])
    followed = line(client, reference).get_json()
    assert followed["followed_up_datetime"] and "W103" in [f["code"] for f in followed["findings"]]


def test_officers_see_a_write_off_case_in_their_language(clean_app: Flask, accounts: dict[str, int]) -> None:
    from app.cases import service as cases
    from tests.integration.test_officer_app import browser, queue_ids

    now = datetime.now(timezone.utc)
    with clean_app.extensions["csw"].sessions() as session, session.begin():
        case_id = cases.open_case_for_cargo_line(
            session, kind="CRN", identifier="HK26C0000000001", declarations=(),
            message_en="CRN HK26C0000000001 moved on 2026-11-16: 0 of 40 packages declared",
            message_zh="CRN HK26C0000000001 於 2026-11-16 進出口：40 件中只有 0 件已報關",
            actor="job:cargo-write-off", now=now).id
    client, token = browser(clean_app, "officer")
    queue = client.get("/officer/").text
    assert case_id in queue_ids(queue)
    assert "cargo line CRN HK26C0000000001" in queue and "e-lock journey None" not in queue
    assert 'href="/officer/cargo-lines/CRN/HK26C0000000001"' in queue
    view = client.get(f"/officer/cases/{case_id}")
    assert view.status_code == 200 and "0 of 40 packages declared" in view.text
    client.post("/officer/locale", data={"csrf_token": token, "locale": "zh_Hant", "next": "/officer/"})
    chinese = client.get(f"/officer/cases/{case_id}")
    assert chinese.status_code == 200 and "40 件中只有 0 件已報關" in chinese.text


@pytest.mark.parametrize(("path", "body", "content_type", "status", "error_path"), [
    ("crossing", "[]", "application/json", 400, "$"),
    ("crossing", '{"crossed_datetime": "yesterday"}', "application/json", 400, "crossed_datetime"),
    ("crossing", '{"crossed_datetime": "2999-01-01T00:00:00Z"}', "application/json", 400, "crossed_datetime"),
    ("crossing", "<x/>", "application/xml", 415, None),
    ("decision", '{"decision": 5}', "application/json", 400, "decision"),
    ("decision", '{"decision": "approve"}', "application/json", 400, "decision"),
    ("decision", '{"decision": "hold", "note": ["x"]}', "application/json", 400, "decision"),
])
def test_bad_requests_are_refused_with_the_path_and_nothing_changes(
        customs: FlaskClient, clean_app: Flask, path: str, body: str, content_type: str, status: int,
        error_path: str | None) -> None:
    client = customs
    reference = lodge_cargo(client, clean_app, "ECI-BAD-1")
    trip = bundle(client, reference)
    url = (f"{TRIPS}/{trip['trip_id']}/crossing" if path == "crossing"
           else f"/api/v1/cargo/{reference}/control-decisions")
    answer = client.post(url, data=body, headers={"Authorization": f"Bearer {ADMIN_KEY}", "Content-Type": content_type,
                                                  "Accept": "application/json"})
    assert answer.status_code == status, answer.text
    if error_path:
        assert answer.get_json()["errors"][0]["path"] == error_path
    after = client.get(f"{TRIPS}/{trip['trip_id']}", headers=auth(ADMIN_KEY, "application/json")).get_json()
    assert after["state_version"] == trip["state_version"] and "crossed_datetime" not in after
    assert client.get(f"/api/v1/cargo-lines/{'X' * 5}/{'Y' * 50}", headers=auth(ADMIN_KEY)).status_code == 404


def test_road_cargo_selected_before_crossing_is_a_case_its_officers_decide(
        customs: FlaskClient, clean_app: Flask, accounts: dict[str, int], monkeypatch: pytest.MonkeyPatch) -> None:
    """Road cargo a red lane selects is an entry in the officers' queue; inspection from the case
    holds it (the truck goes to inspection); the officers' API release closes the case."""
    from dataclasses import replace

    from tests.integration.test_manifest_pages import _lane
    from tests.integration.test_officer_app import browser, queue_ids

    runtime = clean_app.extensions["csw"]
    monkeypatch.setattr(runtime, "cargo", replace(runtime.cargo, profile=lambda *_args: _lane(Lane.RED)))
    answer = customs.post("/api/v1/cargo", data=cargo_xml("ECI-CASE-1"), headers=cargo_headers())
    assert answer.status_code == 202 and answer.get_json()["lane"] == "red"
    reference = answer.get_json()["cargo_reference"]
    with runtime.sessions() as session:
        case = session.scalars(select(Case).where(Case.cargo_ref == f"CRN:{reference}")).one()
    assert case.active and case.source == "cargo" and case.lane == "red"
    officer, token = browser(clean_app, "officer")
    queue = officer.get("/officer/").text
    assert case.id in queue_ids(queue) and f"road cargo {reference}" in queue
    view = officer.get(f"/officer/cases/{case.id}").text
    assert f"road cargo {reference}" in view and "red lane before crossing" in view and "HKLMC" in view
    assert officer.post(f"/officer/cases/{case.id}/claim", data={"csrf_token": token}).status_code == 302
    inspect = officer.post(f"/officer/cases/{case.id}/decision",
                           data={"csrf_token": token, "decision": "inspect", "reason": "x-ray the truck"})
    assert inspect.status_code in (302, 303)
    with runtime.sessions() as session:
        record = session.get(CargoRecord, reference)
        assert record is not None and record.control_decision == "held"
    released = customs.post(f"/api/v1/cargo/{reference}/control-decisions",
                            data=json.dumps({"decision": "release", "note": "x-ray clear"}),
                            headers=json_headers(ADMIN_KEY))
    assert released.status_code == 200, released.text
    with runtime.sessions() as session:
        case = session.scalars(select(Case).where(Case.cargo_ref == f"CRN:{reference}")).one()
        kinds = [e.kind for e in case.events]
    assert not case.active and case.decision == "released"
    assert kinds == ["opened", "claimed", "decision:inspect", "updated", "closed"]
    assert case.id not in queue_ids(officer.get("/officer/").text)


def test_an_amendment_keeps_an_officers_release_of_unchanged_road_cargo(
        customs: FlaskClient, clean_app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """As for manifests: a release stands while the cargo's particulars are unchanged (a new
    crossing time changes none); changed and selected again, it needs a new decision."""
    from dataclasses import replace

    from tests.integration.test_manifest_pages import _lane

    runtime = clean_app.extensions["csw"]
    monkeypatch.setattr(runtime, "cargo", replace(runtime.cargo, profile=lambda *_args: _lane(Lane.RED)))
    reference = customs.post("/api/v1/cargo", data=cargo_xml("ECI-LAPSE-1"),
                             headers=cargo_headers()).get_json()["cargo_reference"]
    released = customs.post(f"/api/v1/cargo/{reference}/control-decisions",
                            data=json.dumps({"decision": "release", "note": "documents checked"}),
                            headers=json_headers(ADMIN_KEY))
    assert released.status_code == 200, released.text
    amendments = f"/api/v1/cargo/{reference}/amendments"
    later = datetime.now(timezone.utc) + timedelta(days=2)
    same = customs.post(amendments, data=cargo_xml("ECI-LAPSE-1", crossing=later, function_code="13"),
                        headers=cargo_headers())
    assert same.status_code == 202, same.text
    assert "C201" not in [f["code"] for f in same.get_json()["findings"]]
    with runtime.sessions() as session:
        assert session.get(CargoRecord, reference).control_decision == "released"  # type: ignore[union-attr]
        assert [c.active for c in session.scalars(select(Case).where(Case.cargo_ref == f"CRN:{reference}"))] == [
            False]
    changed = customs.post(amendments, data=cargo_xml("ECI-LAPSE-1", crossing=later, function_code="13",
                                                      TotalPackageQuantity="44"), headers=cargo_headers())
    assert changed.status_code == 202, changed.text
    lapsed = [f for f in changed.get_json()["findings"] if f["code"] == "C201"]
    assert lapsed and "new decision" in lapsed[0]["message"] and lapsed[0]["message_zh"]
    history = customs.get(f"/api/v1/cargo/{reference}", headers=cargo_headers()).get_json()["history"]
    assert [e["kind"] for e in history][-2:] == ["amended", "release_lapsed"]
    with runtime.sessions() as session:
        assert session.get(CargoRecord, reference).control_decision is None  # type: ignore[union-attr]
        cases = session.scalars(select(Case).where(Case.cargo_ref == f"CRN:{reference}").order_by(Case.id)).all()
        assert [c.active for c in cases] == [False, True]
