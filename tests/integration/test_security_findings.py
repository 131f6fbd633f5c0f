"""Issue 19, the outside security test: crafted input answers 4xx (never 500), trips are
changed only by their carrier, sign-out ends the session on the server, redirects stay on the
site, and attachment names cannot shape the download's headers."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from lxml import etree
from sqlalchemy import select

from app.db.case_models import DocumentRequest, User
from app.db.portal_models import DocumentRequestAnswer
from app.db.routing_models import TripConsignment
from app.users import service as users
from app.users.clients import create_client, ensure_party
from tests.conftest import TRADER_KEY
from tests.integration.test_officer_app import browser, csrf_token, lodge as lodge_case
from tests.integration.test_portal_web import form_fields
from tests.integration.test_transit_journeys import ADMIN_KEY, GATEWAY_KEY
from tests.integration.test_trips_api import json_headers, lodge, open_trip

PARTNER_KEY = "csw_test_partner_key_000000000000"
HUGE = "9" * 5000
DEEP = b"[" * 100_000 + b"]" * 100_000


def _refused(response, status: int, parameter: str | None = None) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    body = response.get_json()
    assert body is not None, response.get_data(as_text=True)[:500]
    if parameter is not None:
        assert parameter in {e.get("path") for e in body.get("errors", [])}, body
        assert all(e.get("rule") for e in body["errors"]), body
    return body


# --- A. crafted input answers 400/404 with the error envelope, never 500 --------------------

@pytest.mark.parametrize("query, parameter", [
    ("page=²", "page"), ("per_page=²", "per_page"), (f"page={HUGE}", "page"), ("page=٣", "page"),
    ("since=0001-01-01T00:00:00%2B01:00", "since"), ("since=9999-12-31T23:59:59-01:00", "since"),
])
def test_declaration_list_parameters_are_refused_naming_the_parameter(client: FlaskClient, query: str,
                                                                     parameter: str) -> None:
    response = client.get(f"/api/v1/declarations?{query}", headers=json_headers())
    assert _refused(response, 400, parameter)["code"] == "INVALID_PARAMETER"


@pytest.mark.parametrize("path, parameter", [
    ("/api/v1/notifications?limit=²", "limit"), (f"/api/v1/notifications?limit={HUGE}", "limit"),
    ("/api/v1/journeys?page=²", "page"), ("/api/v1/journeys?per_page=²", "per_page"),
    ("/api/v1/elock/alerts?page=²", "page"),
])
def test_other_query_integers_are_refused(transit: FlaskClient, path: str, parameter: str) -> None:
    _refused(transit.get(path, headers=json_headers(ADMIN_KEY)), 400, parameter)


@pytest.mark.parametrize("version", [str(2**31), str(2**63), HUGE])
def test_document_versions_beyond_the_column_are_not_found(client: FlaskClient, version: str) -> None:
    reference = lodge(client, "LRN-H19-DOC")
    _refused(client.get(f"/api/v1/declarations/{reference}/documents/{version}", headers=json_headers()), 404)


@pytest.mark.parametrize("number", [str(2**31), str(2**63), HUGE])
def test_officer_and_portal_ids_beyond_the_column_are_not_found(clean_app: Flask, accounts: dict[str, int],
                                                               number: str) -> None:
    officer, _token = browser(clean_app, "officer")
    assert officer.get(f"/officer/cases/{number}").status_code == 404
    assert officer.get(f"/officer/cases/1/answers/{number}/attachment").status_code == 404
    assert officer.get(f"/officer/cases/{number}/answers/1/attachment").status_code == 404
    trader, _token = browser(clean_app, "trader")
    assert trader.get(f"/trader/drafts/{number}").status_code == 404
    _case, reference = lodge_case(clean_app, "LRN-H19-IDS")
    assert trader.get(f"/trader/declarations/{reference}/answers/{number}/attachment").status_code == 404
    assert trader.get(f"/trader/declarations/{reference}/documents/{number}").status_code == 404


def test_deeply_nested_json_bodies_are_refused(transit: FlaskClient, clean_app: Flask) -> None:
    reference = lodge(transit, "LRN-H19-DEEP")
    trip = open_trip(transit).get_json()["trip_id"]
    for path, key in ((f"/api/v1/declarations/{reference}/cancellation", TRADER_KEY),
                      ("/api/v1/trips", TRADER_KEY), (f"/api/v1/trips/{trip}/consignments", TRADER_KEY),
                      ("/api/v1/notifications/acknowledgements", TRADER_KEY),
                      ("/api/v1/elock/events", GATEWAY_KEY), ("/api/v1/elock/companies", ADMIN_KEY),
                      ("/api/v1/aeo/operators/HKAEO00001/status", ADMIN_KEY)):
        response = transit.post(path, data=DEEP, headers=json_headers(key))
        assert response.status_code == 400, (path, response.get_data(as_text=True)[:300])
        assert response.get_json()["code"] == "INVALID_PARAMETER", path


def test_trip_moments_that_overflow_or_lack_a_zone_are_refused(client: FlaskClient) -> None:
    for moment in ("0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "2026-11-21T08:00:00"):
        response = client.post("/api/v1/trips", data=json.dumps({
            "vehicle_registration_id": "XY1234", "control_point_id": "HKLMC",
            "expected_crossing_datetime": moment}), headers=json_headers())
        _refused(response, 400, "expected_crossing_datetime")


def test_portal_and_officer_form_integers_are_refused(clean_app: Flask, accounts: dict[str, int]) -> None:
    trader, token = browser(clean_app, "trader")
    data = {**form_fields(items=1), "csrf_token": token}
    for fields in ({"action": "add_item", "add_count": "²"}, {"action": "remove_item:²"},
                   {"action": "add_item", "add_count": HUGE}):
        response = trader.post("/trader/declarations/new", data={**data, **fields})
        assert response.status_code == 400, (fields, response.status_code)
    case_id, _reference = lodge_case(clean_app, "LRN-H19-FORM")
    officer, token = browser(clean_app, "officer")
    officer.post(f"/officer/cases/{case_id}/claim", data={"csrf_token": token})
    response = officer.post(f"/officer/cases/{case_id}/decision", data={
        "csrf_token": token, "decision": "release", "declaration_version": "²"},
                          headers={"Accept": "application/json"})
    _refused(response, 400, "declaration_version")


@pytest.mark.parametrize("path", ["/api/v1/aeo/operators/%01%08x", "/api/v1/journeys/%01x%7f"])
def test_an_xml_error_for_an_id_with_control_characters_is_well_formed(client: FlaskClient, path: str) -> None:
    response = client.get(path, headers={"Authorization": f"Bearer {TRADER_KEY}", "Accept": "application/xml"})
    assert response.status_code == 404, response.get_data(as_text=True)[:300]
    assert etree.fromstring(response.data).findtext("{urn:csw:response:v1}Code") == "NOT_FOUND"


# --- B. only a trip's carrier changes its consignments ---------------------------------------

@pytest.fixture()
def customs_clients(clean_app: Flask) -> None:
    with clean_app.extensions["csw"].sessions() as session, session.begin():
        customs = ensure_party(session, "HKCED0001", "Customs and Excise Department")
        create_client(session, "customs-partner", customs, key=PARTNER_KEY, role="partner")
        create_client(session, "customs-admin", customs, key=ADMIN_KEY, role="admin")


@pytest.mark.parametrize("key", [PARTNER_KEY, ADMIN_KEY])
def test_customs_clients_read_trips_but_cannot_change_them(client: FlaskClient, clean_app: Flask,
                                                            customs_clients: None, key: str) -> None:
    first, second = lodge(client, "LRN-H19-TRIP-1"), lodge(client, "LRN-H19-TRIP-2")
    trip = open_trip(client, consignments=[first]).get_json()["trip_id"]
    assert client.get(f"/api/v1/trips/{trip}", headers=json_headers(key)).status_code == 200
    assert client.get(f"/api/v1/trips/{trip}/decision", headers=json_headers(key)).status_code == 200
    unlinked = client.delete(f"/api/v1/trips/{trip}/consignments/{first}", headers=json_headers(key))
    assert _refused(unlinked, 403)["code"] == "FORBIDDEN"
    linked = client.post(f"/api/v1/trips/{trip}/consignments", data=json.dumps({"consignments": [second]}),
                         headers=json_headers(key))
    assert linked.status_code in (403, 404), linked.get_data(as_text=True)
    with clean_app.extensions["csw"].sessions() as session:
        assert session.scalars(select(TripConsignment.declaration_id)
                               .where(TripConsignment.trip_id == trip)).all() == [first]


# --- C. sign-out, password reset and deactivation end the session on the server --------------

def _replayed(app: Flask, cookie: str) -> int:
    replay = app.test_client()
    replay.set_cookie("session", cookie)
    return replay.get("/officer/").status_code


def test_a_cookie_captured_before_logout_no_longer_opens_the_application(clean_app: Flask,
                                                                           accounts: dict[str, int]) -> None:
    client, token = browser(clean_app, "officer")
    captured = client.get_cookie("session")
    assert captured is not None and _replayed(clean_app, captured.value) == 200
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert _replayed(clean_app, captured.value) == 302


@pytest.mark.parametrize("change", ["password", "deactivate"])
def test_a_password_reset_or_deactivation_ends_existing_sessions(clean_app: Flask, accounts: dict[str, int],
                                                                  change: str) -> None:
    client, _token = browser(clean_app, "officer")
    captured = client.get_cookie("session")
    assert captured is not None
    with clean_app.extensions["csw"].sessions() as session, session.begin():
        user = session.get(User, accounts["officer"])
        if change == "password":
            users.reset_password(session, user, "a-brand-new-password", "test", "leaked")
        else:
            users.set_active(session, user, False, "test", "left")
            users.set_active(session, user, True, "test", "back")
    assert _replayed(clean_app, captured.value) == 302


# --- D. redirects stay on the site -----------------------------------------------------------

OFFSITE = ["/\t/evil.example", "/\n/evil.example", "//evil.example", "/\\evil.example", "\\\\evil.example",
           " //evil.example", "https://evil.example/", "/\r\nSet-Cookie:x=1", "\t//evil.example", "/%09/ok"]


def _location_is_local(location: str) -> bool:
    return (location.startswith("/") and not location.startswith("//") and "\\" not in location
            and not any(ord(ch) < 33 or ord(ch) == 127 for ch in location))


@pytest.mark.parametrize("target", OFFSITE)
def test_locale_and_login_redirect_only_to_local_paths(clean_app: Flask, accounts: dict[str, int],
                                                       target: str) -> None:
    client = clean_app.test_client()
    page = client.get("/login")
    switched = client.post("/officer/locale", data={"csrf_token": csrf_token(page.text), "locale": "en",
                                                    "next": target})
    assert switched.status_code == 302 and _location_is_local(switched.headers["Location"]), switched.headers
    signed = client.post("/login", query_string={"next": target}, data={
        "username": "officer", "password": "officer-test-pass", "csrf_token": csrf_token(client.get("/login").text)})
    assert signed.status_code == 302 and _location_is_local(signed.headers["Location"]), signed.headers


# --- E. attachment names cannot shape the download's headers ---------------------------------

def test_attachment_downloads_have_a_safe_content_disposition(clean_app: Flask, accounts: dict[str, int]) -> None:
    case_id, reference = lodge_case(clean_app, "LRN-H19-ATTACH")
    name = 'in"vo;ice\r\nX-Injected: 1 發票.pdf'
    now = datetime.now(timezone.utc)
    with clean_app.extensions["csw"].sessions() as session, session.begin():
        request = DocumentRequest(case_id=case_id, declaration_id=reference, documents="invoice", message="send",
                                  requested_by="user:officer", requested_at=now)
        session.add(request)
        session.flush()
        answer = DocumentRequestAnswer(request_id=request.id, declaration_id=reference, message="here",
                                       filename=name, content_type="application/pdf", size=5, content=b"%PDF-",
                                       answered_by="user:trader", answered_at=now)
        session.add(answer)
        session.flush()
        answer_id = answer.id
    officer, _token = browser(clean_app, "officer")
    trader, _token = browser(clean_app, "trader")
    for client, path in ((trader, f"/trader/declarations/{reference}/answers/{answer_id}/attachment"),
                         (officer, f"/officer/cases/{case_id}/answers/{answer_id}/attachment")):
        response = client.get(path)
        assert response.status_code == 200 and response.data == b"%PDF-", path
        header = response.headers["Content-Disposition"]
        assert "X-Injected" not in response.headers
        assert header.startswith('attachment; filename="') and header.count('"') == 2, header
        assert all(32 <= ord(ch) < 127 for ch in header), header
        assert header.endswith("; filename*=UTF-8''" + quote(name.replace("\r", "").replace("\n", ""), safe="")), header
