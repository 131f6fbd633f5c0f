"""Every route of the whole application (read from Flask's URL map, so a new route fails this
test until someone says who may use it) against every kind of caller: no one signed in,
each officers' role, a trader's portal account, no API key, and an API key of each client
role. Route-specific tests prove the finer scoping (a trader's own party only); this one
proves that no door was left open."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.db import models
from app.users.clients import create_client
from app.users.service import create_user
from tests.conftest import TRADER_BRN, TRADER_KEY, auth, hashed
from tests.factories import declaration_xml
from tests.integration.test_officer_app import csrf_token

PASSWORD = "matrix-test-password"
WEB_ROLES = ("officer", "supervisor", "admin", "trader")
API_ROLES = ("trader", "carrier", "partner", "gateway", "admin")
KEYS = {role: f"csw_matrix_{role}_key_".ljust(33, "0") for role in API_ROLES}
OFFICERS = frozenset({"officer", "supervisor", "admin"})
WORKERS = frozenset({"officer", "supervisor"})
EVERY_CLIENT = frozenset(API_ROLES)


@dataclass(frozen=True)
class Public:
    """Anyone, signed in or not."""


@dataclass(frozen=True)
class Web:
    """A signed-in browser session with one of these roles; others get 403, no one signed in
    is sent to the login page."""
    roles: frozenset[str]


@dataclass(frozen=True)
class Api:
    """A bearer API key of one of these client roles; other roles get 403, no key 401."""
    roles: frozenset[str]


EXPECTED: dict[str, Public | Web | Api] = {
    "static": Public(), "site.index": Public(), "site.healthz": Public(), "site.metrics": Public(),
    "auth.login": Public(), "auth.logout": Public(), "officer.locale": Public(), "officer.static": Public(),
    "portal.static": Public(), "api.openapi": Public(), "api.list_rules": Public(),
    "officer.queue": Web(OFFICERS), "officer.case_view": Web(OFFICERS), "officer.attachment": Web(OFFICERS),
    "officer.claim": Web(WORKERS), "officer.unclaim": Web(WORKERS), "officer.decide": Web(WORKERS),
    "officer.inspection": Web(WORKERS), "officer.note": Web(WORKERS),
    "officer.reassign": Web(frozenset({"supervisor"})), "officer.dashboard": Web(frozenset({"supervisor", "admin"})),
    "officer.unpaid_duty": Web(OFFICERS), "officer.revenue_report": Web(frozenset({"supervisor", "admin"})),
    "officer.revenue_report_csv": Web(frozenset({"supervisor", "admin"})),
    "officer.user_admin": Web(frozenset({"admin"})), "officer.user_active": Web(frozenset({"admin"})),
    "officer.user_account": Web(frozenset({"admin"})), "officer.user_role": Web(frozenset({"admin"})),
    "officer.user_password": Web(frozenset({"admin"})), "officer.search": Web(OFFICERS),
    "officer.declaration": Web(OFFICERS), "officer.save_search": Web(OFFICERS), "officer.delete_search": Web(OFFICERS),
    "officer.manifests": Web(OFFICERS), "officer.manifest": Web(OFFICERS), "officer.release_line": Web(WORKERS),
    "officer.cargo_line": Web(OFFICERS),
    "admin_routing.subscribers": Web(frozenset({"admin"})), "admin_routing.change": Web(frozenset({"admin"})),
    "admin_routing.subscriber": Web(frozenset({"admin"})), "admin_routing.retire": Web(frozenset({"admin"})),
    **{f"portal.{name}": Web(frozenset({"trader"})) for name in (
        "declarations", "hs_codes", "declaration", "amend", "attachment", "cancel", "document", "release_notice",
        "answer", "new_declaration", "draft", "delete_draft", "keys", "revoke_key", "upload", "pay_duty",
        "receipt", "manifests", "manifest", "cargo_list", "cargo")},
    **{f"api.{name}": Api(EVERY_CLIENT) for name in (
        "submit_declaration", "submit_batch", "list_declarations", "get_declaration", "amend_declaration",
        "cancel_declaration",
        "get_document")},
    "aeo_api.get_operator": Api(EVERY_CLIENT), "aeo_api.change_status": Api(frozenset({"admin"})),
    **{f"revenue_api.{name}": Api(EVERY_CLIENT) for name in (
        "duty_statement", "pay_duty", "get_receipt", "duty_account")},
    "transit_api.post_events": Api(frozenset({"gateway", "admin"})),
    "transit_api.list_journeys": Api(frozenset({"trader", "partner", "admin"})),
    "transit_api.get_journey": Api(frozenset({"trader", "partner", "admin"})),
    "transit_api.list_alerts": Api(frozenset({"partner", "admin"})),
    **{f"transit_api.{name}": Api(frozenset({"admin"})) for name in (
        "register_company", "register_vehicle", "register_elock", "change_elock_status")},
    **{f"trips_api.{name}": Api(EVERY_CLIENT) for name in (
        "open_trip", "get_trip", "link_consignments", "unlink_consignment", "kiosk_decision", "notifications",
        "acknowledge")},
    "trips_api.record_crossing": Api(frozenset({"admin"})),
    "cargo_api.decide_cargo": Api(frozenset({"admin"})),
    "cargo_api.get_cargo_line": Api(EVERY_CLIENT),
    **{f"notifications_api.{name}": Api(EVERY_CLIENT) for name in (
        "get_callback", "put_callback", "delete_callback", "lifecycle_notifications", "acknowledge_notifications",
        "document_requests", "answer_document_request", "attachments", "download_attachment", "release_notice",
        "hs_codes")},
    **{f"cargo_api.{name}": Api(frozenset({"trader", "carrier"})) for name in (
        "lodge_cargo", "amend_cargo", "cancel_cargo", "get_cargo", "list_cargo")},
    **{f"manifests_api.{name}": Api(frozenset({"carrier"})) for name in (
        "lodge_manifest", "amend_manifest", "cancel_manifest", "record_movement", "get_manifest",
        "list_manifests")},
}

# Values for the URL's variables: the trader's own objects where they exist, so an allowed
# caller reaches the view itself and a refusal can only come from the role check.
PATH_VALUES = {"case_id": 1, "user_id": 1, "answer_id": 1, "request_id": 1, "draft_id": 1, "client_id": 1,
               "subscriber_id": 1, "search_id": 1, "action": "pause", "version": 1, "operator_id": "HKAEO00000001",
               "elock_id": "EL-000001", "journey_id": "1", "trip_id": "1", "filename": "csw.css", "path": "csw.css",
               "number": "HK26R0000000000X", "line_type": "CRN", "line_id": "HK26C0000000001",
               "consignment_id": 1, "kind": "CRN", "identifier": "HK26C0000000001"}


@pytest.fixture()
def callers(clean_app: Flask) -> Iterator[dict[str, object]]:
    """Users of each web role, API clients of each role, and one declaration of the trader."""
    with clean_app.extensions["csw"].sessions() as session, session.begin():
        party = session.scalars(select(models.Party).where(models.Party.identifier == TRADER_BRN)).one()
        for role in WEB_ROLES:
            create_user(session, f"matrix-{role}", role, PASSWORD, party_id=party.id if role == "trader" else None,
                        password_hash=hashed(PASSWORD))
        for role in API_ROLES:
            create_client(session, f"matrix-{role}", party, key=KEYS[role], role=role)
    answer = clean_app.test_client().post("/api/v1/declarations", data=declaration_xml(lrn="MATRIX-1"),
                                          headers=auth(TRADER_KEY, "application/json"))
    assert answer.status_code == 202, answer.text
    yield {"reference": answer.get_json()["declaration_id"]}


def _signed_in(app: Flask, role: str) -> tuple[FlaskClient, str]:
    client = app.test_client()
    token = csrf_token(client.get("/login").text)
    response = client.post("/login", data={"username": f"matrix-{role}", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302, response.text
    return client, csrf_token(client.get("/login").text)


def _area(path: str) -> str:
    """The first segment of a local path: officer, trader, admin, login ..."""
    return path.removeprefix("http://localhost").lstrip("/").split("/", 1)[0].split("?", 1)[0]


def _request(client: FlaskClient, rule_methods: set[str], path: str, headers: dict[str, str],
             token: str) -> tuple[int, str]:
    if "GET" in rule_methods:
        response = client.get(path, headers=headers)
    elif "DELETE" in rule_methods:
        response = client.delete(path, headers=headers)
    elif "PUT" in rule_methods:
        response = client.put(path, headers=headers, data=b"")
    else:
        response = client.post(path, headers=headers, data={"csrf_token": token} if token else b"")
    return response.status_code, response.headers.get("Location", "")


def test_every_route_of_the_application_admits_exactly_its_callers(clean_app: Flask,
                                                                    callers: dict[str, object]) -> None:
    # Signing out last: the signed-in browsers are shared by every route.
    rules = sorted(clean_app.url_map.iter_rules(), key=lambda rule: rule.endpoint == "auth.logout")
    assert {rule.endpoint for rule in rules} == set(EXPECTED), "a new route needs its callers in EXPECTED"
    values = {**PATH_VALUES, "reference": callers["reference"]}
    browsers = {role: _signed_in(clean_app, role) for role in WEB_ROLES}
    anonymous = clean_app.test_client()
    anonymous_token = csrf_token(anonymous.get("/login").text)
    wrong: list[str] = []
    for rule in rules:
        path = rule.build({k: v for k, v in values.items() if k in rule.arguments}, append_unknown=False)[1]
        methods = set(rule.methods or ()) - {"HEAD", "OPTIONS"}
        expected = EXPECTED[rule.endpoint]
        trials: list[tuple[str, FlaskClient, dict[str, str], str]] = [("anonymous", anonymous, {}, anonymous_token)]
        trials += [(f"web:{role}", client, {}, token) for role, (client, token) in browsers.items()]
        trials += [(f"api:{role}", clean_app.test_client(), auth(KEYS[role], "application/json"), "")
                   for role in API_ROLES]
        for who, client, headers, token in trials:
            status, location = _request(client, methods, path, headers, token)
            kind, _, role = who.partition(":")
            if isinstance(expected, Public):  # signing out, or a refused sign-in, goes to the login page
                allowed = status not in (401, 403) and ("/login" not in location
                                                        or rule.endpoint in ("auth.logout", "auth.login"))
            elif isinstance(expected, Web):
                if kind != "web":
                    allowed = False  # a key is no session; a form post without one fails its CSRF check
                    refused = (status == 302 and "/login" in location) or (kind == "api" and status == 400)
                else:  # a redirect into another area (a trader sent to the portal) is a refusal too
                    elsewhere = status == 302 and _area(location) != _area(path)
                    allowed = status not in (401, 403) and not elsewhere
                    refused = status == 403 or elsewhere
                if not allowed and not refused:
                    wrong.append(f"{rule.endpoint} as {who}: {status} {location} (expected a refusal)")
                    continue
            else:
                allowed = kind == "api" and status not in (401, 403)
                refused = status == (403 if kind == "api" else 401)
                if not allowed and not refused:
                    wrong.append(f"{rule.endpoint} as {who}: {status} (expected 401/403)")
                    continue
            should = isinstance(expected, Public) or (kind == ("web" if isinstance(expected, Web) else "api")
                                                      and role in expected.roles)
            if allowed != should:
                wrong.append(f"{rule.endpoint} as {who}: {status} {location} ({'allowed' if allowed else 'refused'},"
                             f" expected {'allowed' if should else 'refused'})")
    assert not wrong, "\n".join(wrong)
