"""Every registration of the e-lock scheme and every change of a routing subscriber leaves
one event with who, when, from what to what and why, in the change's own transaction; the
dispatcher's automatic blocks and unblocks too. ``csw transit history`` and ``csw subscribers
history`` show them, and the audit chain seals them."""
from __future__ import annotations

import getpass
import json
import re
from datetime import datetime, timedelta, timezone
from typing import Any

from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from app.audit import service as audit
from app.cli import main as csw
from app.db.audit_models import AuditLink
from app.db.routing_models import OutboxMessage, SubscriberEvent
from app.db.transit_models import TransitRegistryEvent
from app.routing import subscribers
from app.routing.dispatcher import DispatchReport, Dispatcher
from app.transit.service import registry_history
from tests.integration.test_routing_admin import sign_in
from tests.integration.test_routing_delivery import (
    Receiver,
    add,
    enqueue,
    probe_now,
    settings,
)
from tests.integration.test_transit_journeys import (
    ADMIN_KEY,
    GATEWAY_KEY,
    _json_headers,
    lodge,
)

SUPPLIER = "HKSTP E-Lock Ltd"
CLI_ACTOR = f"cli:{getpass.getuser()}"
ADMIN_CLIENT = re.compile(r"client:\d+:customs-admin")


def run(database_url: str, *args: str) -> Any:
    return CliRunner().invoke(csw, list(args), env={"CSW_DATABASE_URL": database_url})


def registry(app: Flask, subject_kind: str,
             subject_id: str) -> list[tuple[str, str, dict[str, Any] | None, str | None]]:
    with app.extensions["csw"].sessions() as session:
        return [(e.kind, e.actor, e.detail, e.note) for e in registry_history(session, subject_kind, subject_id)]


def history(app: Flask, name: str) -> list[tuple[str, str, dict[str, Any] | None, str | None]]:
    with app.extensions["csw"].sessions() as session:
        return [(e.kind, e.actor, e.detail, e.note) for e in subscribers.history(session, name)]


def admin(client: FlaskClient, path: str, body: dict[str, Any], key: str = ADMIN_KEY) -> Any:
    return client.post(f"/api/v1/elock/{path}", json=body, headers=_json_headers(key))


def actors_match(events: list[tuple[str, str, Any, Any]]) -> bool:
    return all(ADMIN_CLIENT.fullmatch(actor) for _, actor, _, _ in events)


# --- the e-lock scheme's registry ---------------------------------------------------------------

def test_company_registration_and_change_are_recorded_with_the_client_and_reason(
        transit: FlaskClient, clean_app: Flask) -> None:
    body = {"br_number": "55512345", "name": "Air Land Ltd", "mode": "air-land"}
    assert admin(transit, "companies", body).status_code == 201
    assert admin(transit, "companies", body).status_code == 201  # the same again: nothing changes
    renamed = admin(transit, "companies", {**body, "name": "Air Land (HK) Ltd", "note": "renamed in ROCARS"})
    assert renamed.status_code == 201 and renamed.get_json()["name"] == "Air Land (HK) Ltd"
    assert admin(transit, "companies", {**body, "mode": "sea-land"}, key=GATEWAY_KEY).status_code == 403

    events = registry(clean_app, "company", "55512345")
    assert [(kind, detail, note) for kind, _, detail, note in events] == [
        ("registered", {"to": {"name": "Air Land Ltd", "mode": "air-land"}}, None),
        ("updated", {"from": {"name": "Air Land Ltd"}, "to": {"name": "Air Land (HK) Ltd"}}, "renamed in ROCARS"),
    ]
    assert actors_match(events)


def test_a_vehicle_moved_to_another_company_is_recorded_from_and_to(transit: FlaskClient, clean_app: Flask) -> None:
    assert admin(transit, "companies", {"br_number": "55512345", "name": "Air Land Ltd",
                                        "mode": "air-land"}).status_code == 201
    assert admin(transit, "vehicles", {"registration_mark": "ab 987", "company": "55512345"}).status_code == 201
    moved = admin(transit, "vehicles", {"registration_mark": "AB987", "company": "40617295", "note": "sold"})
    assert moved.status_code == 201 and moved.get_json()["company"] == "40617295"

    events = registry(clean_app, "vehicle", "ab 987")
    assert [(kind, detail, note) for kind, _, detail, note in events] == [
        ("registered", {"to": {"company": "55512345"}}, None),
        ("updated", {"from": {"company": "55512345"}, "to": {"company": "40617295"}}, "sold"),
    ]
    assert actors_match(events)


def test_elock_status_changes_are_recorded_but_a_journey_taking_the_lock_is_not(
        transit: FlaskClient, clean_app: Flask) -> None:
    assert admin(transit, "elocks", {"elock_id": "EL-900001", "supplier": SUPPLIER}).status_code == 201
    faulty = admin(transit, "elocks/EL-900001/status", {"status": "faulty", "note": "seal cracked"})
    assert faulty.status_code == 200 and faulty.get_json()["status"] == "faulty"
    assert admin(transit, "elocks/EL-900001/status", {"status": "faulty"}).status_code == 200  # no change
    assert admin(transit, "elocks/EL-900001/status", {"status": "available", "note": "repaired"}).status_code == 200
    assert lodge(transit, elock="EL-900001").status_code == 202  # a journey takes the lock: on its timeline
    busy = admin(transit, "elocks/EL-900001/status", {"status": "retired", "note": "end of life"})
    assert busy.status_code == 409  # refused: nothing recorded
    for bad in (7, "x" * 501, "nul \x00 byte"):
        bad_note = admin(transit, "elocks/EL-900001/status", {"status": "retired", "note": bad})
        assert bad_note.status_code == 400 and bad_note.get_json()["errors"][0]["path"] == "note"

    events = registry(clean_app, "elock", "EL-900001")
    assert [(kind, detail, note) for kind, _, detail, note in events] == [
        ("registered", {"to": {"supplier": SUPPLIER, "status": "available"}}, None),
        ("status_changed", {"from": {"status": "available"}, "to": {"status": "faulty"}}, "seal cracked"),
        ("status_changed", {"from": {"status": "faulty"}, "to": {"status": "available"}}, "repaired"),
    ]
    assert actors_match(events)


def test_cli_registrations_carry_the_os_user_and_history_prints_them(clean_app: Flask, database_url: str) -> None:
    assert run(database_url, "transit", "register-elock", "EL-900005", "--supplier", SUPPLIER).exit_code == 0
    retired = run(database_url, "transit", "elock-status", "EL-900005", "retired", "--note", "lost at Lok Ma Chau")
    assert retired.exit_code == 0, retired.output

    shown = run(database_url, "transit", "history", "elock", "EL-900005")
    assert shown.exit_code == 0, shown.output
    lines = [line.split("\t") for line in shown.output.strip().splitlines()]
    assert [line[1:] for line in lines] == [
        ["registered", CLI_ACTOR, f"supplier={SUPPLIER} status=available", ""],
        ["status_changed", CLI_ACTOR, "status=available->retired", "lost at Lok Ma Chau"],
    ]
    assert all(datetime.fromisoformat(line[0]).tzinfo is not None for line in lines)
    vehicle = run(database_url, "transit", "history", "vehicle", "xy 1234")  # the demo fleet's, as typed
    assert vehicle.output.split("\t")[1:4] == ["registered", "system:demo-seed", "company=40617295"]
    unknown = run(database_url, "transit", "history", "company", "99999999")
    assert unknown.exit_code == 1 and "no history for company 99999999" in unknown.output


# --- routing subscribers --------------------------------------------------------------------------

def kill(app: Flask, name: str) -> int:
    """Queue one message for the subscriber and make it a dead letter; returns its id."""
    with app.extensions["csw"].sessions() as session, session.begin():
        subscriber_id = subscribers.find_subscriber(session, name).id
    enqueue(app, subscriber_id, 1)
    with app.extensions["csw"].sessions() as session, session.begin():
        message_id = session.scalar(select(OutboxMessage.id).where(OutboxMessage.subscriber_id == subscriber_id))
        session.execute(update(OutboxMessage).where(OutboxMessage.id == message_id).values(
            status="dead", attempts=3, last_error="HTTP 422"))
    assert message_id is not None
    return message_id


def test_cli_subscriber_changes_are_on_its_history(clean_app: Flask, database_url: str) -> None:
    added = run(database_url, "subscribers", "add", "--name", "lmc-kiosk", "--role", "control_point", "--code",
                "HKLMC", "--url", "https://kiosk.example/hook", "--note", "ticket CSW-12")
    assert added.exit_code == 0, added.output
    secret = added.output.strip().splitlines()[-1]
    assert run(database_url, "subscribers", "pause", "lmc-kiosk", "--note", "kiosk maintenance").exit_code == 0
    assert run(database_url, "subscribers", "pause", "lmc-kiosk").exit_code == 0  # already paused: no event
    assert run(database_url, "subscribers", "resume", "lmc-kiosk").exit_code == 0
    assert run(database_url, "subscribers", "resume", "lmc-kiosk").exit_code == 0  # already active: no event
    message_id = kill(clean_app, "lmc-kiosk")
    replayed = run(database_url, "outbox", "replay", "--subscriber", "lmc-kiosk", "--note", "receiver fixed")
    assert replayed.exit_code == 0 and "replayed 1 message(s)" in replayed.output
    assert "replayed 0" in run(database_url, "outbox", "replay").output  # nothing dead: no event

    assert history(clean_app, "lmc-kiosk") == [
        ("added", CLI_ACTOR, {"to": {"state": "active", "role": "control_point", "code": "HKLMC", "party": None,
                                     "transport": "webhook", "url": "https://kiosk.example/hook", "format": "xml",
                                     "exchange": None}}, "ticket CSW-12"),
        ("paused", CLI_ACTOR, {"from": {"state": "active"}, "to": {"state": "paused"}}, "kiosk maintenance"),
        ("resumed", CLI_ACTOR, {"from": {"state": "paused", "consecutive_failures": 0},
                                "to": {"state": "active", "consecutive_failures": 0}}, None),
        ("replayed", CLI_ACTOR, {"messages": 1, "message_ids": [message_id]}, "receiver fixed"),
    ]
    shown = run(database_url, "subscribers", "history", "lmc-kiosk")
    assert shown.exit_code == 0, shown.output
    lines = [line.split("\t") for line in shown.output.strip().splitlines()]
    assert [(line[1], line[2], line[4]) for line in lines] == [
        ("added", CLI_ACTOR, "ticket CSW-12"), ("paused", CLI_ACTOR, "kiosk maintenance"),
        ("resumed", CLI_ACTOR, ""), ("replayed", CLI_ACTOR, "receiver fixed")]
    assert json.loads(lines[3][3]) == {"messages": 1, "message_ids": [message_id]}
    assert secret not in shown.output  # the signing secret never reaches the history
    assert run(database_url, "subscribers", "history", "nobody").exit_code != 0


def test_credentials_in_an_amqp_url_stay_off_the_history(clean_app: Flask, database_url: str) -> None:
    added = run(database_url, "subscribers", "add", "--name", "szx-broker", "--role", "partner_customs", "--code",
                "shenzhen", "--transport", "amqp", "--url", "amqp://csw:hunter2@broker.example:5672/customs")
    assert added.exit_code == 0, added.output
    [(kind, _, detail, _)] = history(clean_app, "szx-broker")
    assert kind == "added" and detail is not None
    assert detail["to"]["url"] == "amqp://broker.example:5672/customs"
    assert "hunter2" not in run(database_url, "subscribers", "history", "szx-broker").output


def test_admin_page_changes_are_recorded_as_the_signed_in_officer(
        admin_browser: FlaskClient, clean_app: Flask, database_url: str) -> None:
    run(database_url, "subscribers", "add", "--name", "lmc-kiosk", "--role", "control_point", "--code", "HKLMC",
        "--url", "https://kiosk.example/hook")
    message_id = kill(clean_app, "lmc-kiosk")
    with clean_app.extensions["csw"].sessions() as session:
        subscriber_id = subscribers.find_subscriber(session, "lmc-kiosk").id
    sign_in(admin_browser, "routing-admin")
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"',  # type: ignore[union-attr]
                      admin_browser.get("/admin/routing/subscribers").text).group(1)
    for action in ("pause", "resume", "replay"):
        answer = admin_browser.post(f"/admin/routing/subscribers/{subscriber_id}/{action}", data={"csrf_token": token})
        assert answer.status_code == 302

    assert [(kind, actor, detail) for kind, actor, detail, _ in history(clean_app, "lmc-kiosk")[1:]] == [
        ("paused", "officer:routing-admin", {"from": {"state": "active"}, "to": {"state": "paused"}}),
        ("resumed", "officer:routing-admin", {"from": {"state": "paused", "consecutive_failures": 0},
                                              "to": {"state": "active", "consecutive_failures": 0}}),
        ("replayed", "officer:routing-admin", {"messages": 1, "message_ids": [message_id]}),
    ]


def test_the_dispatcher_records_its_block_each_failed_probe_and_the_unblock(
        clean_app: Flask, receiver: Receiver) -> None:
    receiver.status = 503
    receiver.start()
    subscriber_id = add(clean_app, url=receiver.url)
    enqueue(clean_app, subscriber_id, 3)
    dispatcher = Dispatcher(clean_app.extensions["csw"].database, settings())
    try:
        dispatcher.run_once()
        dispatcher.run_once()  # blocked, no probe due: nothing happens, nothing is recorded
        probe_now(clean_app, subscriber_id)
        dispatcher.run_once()
        receiver.status = 200
        probe_now(clean_app, subscriber_id)
        dispatcher.drain()
    finally:
        dispatcher.close()

    events = history(clean_app, str(subscriber_id))
    assert [(kind, actor) for kind, actor, _, _ in events] == [
        ("added", "test"), ("blocked", "system:dispatcher"), ("probe_failed", "system:dispatcher"),
        ("unblocked", "system:dispatcher")]
    (_, _, blocked, why_blocked), (_, _, failed, why_failed), (_, _, unblocked, why_unblocked) = events[1:]
    assert blocked is not None and blocked["from"] == {"state": "active"}
    assert blocked["to"]["state"] == "blocked" and blocked["consecutive_failures"] == 1
    assert datetime.fromisoformat(blocked["to"]["next_probe_at"]) > datetime.now(timezone.utc)
    assert why_blocked is not None and why_blocked.startswith("HTTP 503")
    assert failed is not None and failed["consecutive_failures"] == 2
    assert why_failed is not None and why_failed.startswith("HTTP 503")
    assert unblocked == {"from": {"state": "blocked", "consecutive_failures": 2}, "to": {"state": "active"}}
    assert why_unblocked == "the receiver answered the probe"


def test_a_receiver_timing_out_is_blocked_with_the_timeout_as_reason(clean_app: Flask, receiver: Receiver) -> None:
    receiver.delay = 1.0
    receiver.start()
    subscriber_id = add(clean_app, url=receiver.url)
    enqueue(clean_app, subscriber_id, 2)
    dispatcher = Dispatcher(clean_app.extensions["csw"].database, settings(timeout_seconds=0.2))
    try:
        dispatcher.run_once()
    finally:
        dispatcher.close()
    [(kind, actor, _, note)] = history(clean_app, str(subscriber_id))[1:]
    assert (kind, actor) == ("blocked", "system:dispatcher") and "ReadTimeoutError" in (note or "")


def test_an_administrators_pause_outlasts_a_receiver_found_down(clean_app: Flask, receiver: Receiver) -> None:
    """A pause taken while the dispatcher was delivering stands; the dispatcher records no block."""
    subscriber_id = add(clean_app, url=receiver.url)  # receiver not started: connection refused
    enqueue(clean_app, subscriber_id, 1)
    dispatcher = Dispatcher(clean_app.extensions["csw"].database, settings())
    claim = dispatcher.claim(datetime.now(timezone.utc), set())
    assert claim is not None and claim.target.id == subscriber_id
    with clean_app.extensions["csw"].sessions() as session, session.begin():
        subscribers.pause(session, str(subscriber_id), actor="officer:routing-admin")
    try:
        dispatcher._serve(claim, DispatchReport())
    finally:
        dispatcher.close()
    events = history(clean_app, str(subscriber_id))
    assert [(kind, actor) for kind, actor, _, _ in events] == [("added", "test"), ("paused", "officer:routing-admin")]
    with clean_app.extensions["csw"].sessions() as session:
        assert subscribers.find_subscriber(session, str(subscriber_id)).state == "paused"


# --- the audit chain ------------------------------------------------------------------------------

def test_registry_and_subscriber_events_are_sealed_and_an_edit_is_named(
        transit: FlaskClient, clean_app: Flask, database_url: str) -> None:
    assert admin(transit, "elocks", {"elock_id": "EL-900007", "supplier": SUPPLIER}).status_code == 201
    run(database_url, "subscribers", "add", "--name", "lmc-kiosk", "--role", "control_point", "--code", "HKLMC",
        "--url", "https://kiosk.example/hook")
    run(database_url, "subscribers", "pause", "lmc-kiosk")
    sessions = clean_app.extensions["csw"].sessions
    later = datetime.now(timezone.utc) + timedelta(hours=1)
    with sessions() as session, session.begin():
        audit.seal(session, datetime.now(timezone.utc))
    with sessions() as session:
        assert audit.verify(session, later).intact
        registry_ids = set(session.scalars(select(TransitRegistryEvent.id)))
        subscriber_ids = set(session.scalars(select(SubscriberEvent.id)))
        sealed = {(link.table_name, link.row_id) for link in session.scalars(select(AuditLink))}
    assert len(registry_ids) >= 12 and len(subscriber_ids) == 2  # the demo fleet's registrations and ours
    assert {("transit_registry_events", i) for i in registry_ids} <= sealed
    assert {("subscriber_events", i) for i in subscriber_ids} <= sealed

    paused = max(subscriber_ids)
    with sessions() as session, session.begin():
        session.execute(update(SubscriberEvent).where(SubscriberEvent.id == paused).values(actor="someone-else"))
        registered = session.scalar(select(TransitRegistryEvent.id).where(
            TransitRegistryEvent.subject_id == "EL-900007"))
        session.execute(update(TransitRegistryEvent).where(TransitRegistryEvent.id == registered)
                        .values(note="backdated"))
    with sessions() as session:
        problems = {(p.kind, p.table, p.row_id) for p in audit.verify(session, later).problems}
    assert problems == {("edited", "subscriber_events", paused), ("edited", "transit_registry_events", registered)}
