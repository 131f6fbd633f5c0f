"""How declaration changes reach their followers (trips, outbox): two defects of the code
before domain events, each held by a test.

1. An officer's re-route into a selecting lane (green -> red or yellow) must send the truck
   carrying the consignment to inspection and route the new manifest. Before domain events
   the re-route recorded an unchanged status *before* it set the new lane, and only a status
   change re-evaluated the trip: the kiosk kept saying "pending" and no manifest was routed.
   Now a lane change is an event of its own that the trips capability follows.

2. A green-lane release on lodging had a code path of its own (its own 'released' event and
   release notice). It now goes through the one status-change path; the test pins what the
   trader, the carrier and the control point see of it to what any other release through
   ``change_status`` (same actor, note and conversation) produces, so the paths cannot drift.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app import create_app
from app.config import Settings
from app.db import models
from app.db.case_models import Case, User
from app.db.routing_models import OutboxMessage, Subscriber
from app.domain.declaration import DeclarationStatus
from app.domain.risk import LaneThresholds
from tests.conftest import OTHER_BRN, OTHER_KEY, TRADER_BRN, TRADER_KEY, auth, hashed, sample
from tests.factories import declaration_xml
from tests.integration.test_trips_api import add_subscriber, json_headers, open_trip

OFFICER_PASSWORD = "officer-event-defects-pass"


# --- helpers ------------------------------------------------------------------------------

def _officer(app: Flask) -> tuple[FlaskClient, str]:
    """An officer account, signed in through the login form; returns the browser and a CSRF token."""
    with app.extensions["csw"].sessions() as session, session.begin():
        session.add(User(username="officer", display_name="Officer Test", role="officer", locale="en",
                         password_hash=hashed(OFFICER_PASSWORD), active=True,
                         created_at=datetime.now(timezone.utc)))
    browser = app.test_client()

    def token() -> str:
        match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', browser.get("/login").text)
        assert match, "login page has no CSRF token"
        return match.group(1)

    signed_in = browser.post("/login", data={"username": "officer", "password": OFFICER_PASSWORD,
                                             "csrf_token": token()})
    assert signed_in.status_code == 302, signed_in.text
    return browser, token()


def _outbox(app: Flask, subject: str, message_type: str | None = None) -> list[OutboxMessage]:
    with app.extensions["csw"].sessions() as session:
        query = select(OutboxMessage).where(OutboxMessage.subject == subject)
        if message_type:
            query = query.where(OutboxMessage.message_type == message_type)
        return list(session.scalars(query.order_by(OutboxMessage.id)))


# --- defect 1: an officer's re-route does not reach the trip ------------------------------

@pytest.fixture()
def everything_green(clean_app: Flask, monkeypatch: pytest.MonkeyPatch) -> Flask:
    """Every score lands in the green lane and nothing is sampled: only a hold finding opens a
    case, so the declaration starts green and its truck waits ("pending")."""
    engine = clean_app.extensions["csw"].risk
    monkeypatch.setattr(engine, "policy", replace(engine.policy, thresholds=LaneThresholds(yellow=100, red=100),
                                                  sample_rate=0.0))
    return clean_app


@pytest.mark.parametrize("lane", ["red", "yellow"])
def test_an_officers_reroute_into_a_selecting_lane_sends_the_truck_to_inspection(
        everything_green: Flask, lane: str) -> None:
    app = everything_green
    api = app.test_client()
    # The carrier's (harbour's) systems and the Lok Ma Chau control point receive manifests.
    add_subscriber(app, "harbour", "party", party=OTHER_BRN, fmt="json")
    add_subscriber(app, "lmc", "control_point", code="HKLMC", party=OTHER_BRN, fmt="json")

    # Road cargo with an unconfirmed AEO claim (R701, hold): green lane, but a case opens.
    lodged = api.post("/api/v1/declarations", data=sample("demo/harbour-laptops-unconfirmed-aeo-claim.xml"),
                      headers=auth(OTHER_KEY, "application/json"))
    assert lodged.status_code == 202, lodged.text
    ack = lodged.get_json()
    reference = ack["declaration_id"]
    assert ack["status"] == "accepted" and ack["risk"]["lane"] == "green"
    with app.extensions["csw"].sessions() as session:
        case_id = session.scalar(select(Case.id).where(Case.declaration_id == reference, Case.active.is_(True)))
    assert case_id is not None

    created = open_trip(api, key=OTHER_KEY, consignments=[reference])
    assert created.status_code == 201, created.text
    trip_id = created.get_json()["trip_id"]
    kiosk = f"/api/v1/trips/{trip_id}/decision"
    assert api.get(kiosk, headers=json_headers(OTHER_KEY)).get_json()["decision"] == "pending"
    assert _outbox(app, f"trip:{trip_id}", "manifest_decision") == []  # a pending manifest is not routed

    officer, csrf = _officer(app)
    claimed = officer.post(f"/officer/cases/{case_id}/claim", data={"csrf_token": csrf})
    assert claimed.status_code == 302, claimed.text
    decided = officer.post(f"/officer/cases/{case_id}/decision",
                           data={"csrf_token": csrf, "decision": "reroute", "lane": lane,
                                 "reason": "intelligence report 77"})
    assert decided.status_code == 302, decided.text

    # The re-route itself was recorded (this part works today) ...
    status = api.get(f"/api/v1/declarations/{reference}", headers=json_headers(OTHER_KEY)).get_json()
    assert status["lane"] == lane and status["status"] == "accepted"
    assert any(e["kind"] == "lane_changed" for e in status["history"])

    # ... and the truck carrying it must now go to inspection, named.
    answer = api.get(kiosk, headers=json_headers(OTHER_KEY)).get_json()
    assert (answer["decision"], answer["instruction"], answer.get("selected_consignments")) == (
        "inspection", "go to inspection", [reference]), answer

    # The new manifest is routed to the carrier and the control point.
    routed = _outbox(app, f"trip:{trip_id}", "manifest_decision")
    with app.extensions["csw"].sessions() as session:
        names = {row.id: row.name for row in session.scalars(select(Subscriber))}
    assert sorted(names[m.subscriber_id] for m in routed) == ["harbour", "lmc"], routed
    for message in routed:
        body = json.loads(message.body)
        assert body["decision"] == "inspection"
        assert [(c["declaration_id"], c["selected"]) for c in body["consignments"]] == [(reference, True)]


# --- defect 2: the green-lane release on lodging is a second release path ----------------

@pytest.fixture()
def releasing(clean_app: Flask, database_url: str, tmp_path: Path) -> Iterator[tuple[Flask, FlaskClient]]:
    """The service as deployed: the lane policy's own ``[green] release`` setting (as in
    tests/integration/test_green_lane_release.py), everything scored green, nothing sampled."""
    settings = Settings.from_env(database_url=database_url, instance_dir=tmp_path, secret_key="test",
                                 log_level="WARNING", api_rate_limit="100000 per second")
    app = create_app(settings)
    engine = app.extensions["csw"].risk
    engine.policy = replace(engine.policy, thresholds=LaneThresholds(yellow=100, red=100), sample_rate=0.0)
    assert engine.policy.release_green
    yield app, app.test_client()
    app.extensions["csw"].engine.dispose()


def _with_carrier(lrn: str) -> bytes:
    """Road cargo at Lok Ma Chau naming a carrier (the other party): the release notice goes to
    the declarant, the carrier, the control point and its terminal."""
    return declaration_xml(lrn=lrn).replace(
        b"<GoodsShipment>", f"<Carrier><Name>Harbour Logistics</Name><ID>{OTHER_BRN}</ID></Carrier>"
                            "<GoodsShipment>".encode(), 1)


def _seen(app: Flask, client: FlaskClient, reference: str) -> dict[str, Any]:
    """What the release looks like from outside, with the declaration's own identity (its
    reference, LRN, notice ids, times) left out: the trader's status and history, and each
    routed notice by recipient with its content."""
    status = client.get(f"/api/v1/declarations/{reference}", headers=auth(TRADER_KEY, "application/json")).get_json()
    history = [{k: v for k, v in event.items() if k != "occurred_datetime"} for event in status["history"]]
    with app.extensions["csw"].sessions() as session:
        names = {row.id: row.name for row in session.scalars(select(Subscriber))}
        row = session.get(models.Declaration, reference)
        assert row is not None
        # The stored event rows: where each status came from, and the lodging's conversation
        # and time carried by the release written in the same transaction.
        events = [(e.kind, e.status_from, e.status_to, e.version, e.actor, e.note,
                   e.conversation_id == row.conversation_id, e.occurred_at == row.received_at)
                  for e in session.scalars(select(models.DeclarationEvent).where(
                      models.DeclarationEvent.declaration_id == reference).order_by(models.DeclarationEvent.id))]
    notices = []
    for message in _outbox(app, f"declaration:{reference}"):
        body = json.loads(message.body)
        assert body["declaration_id"] == reference
        notices.append((names[message.subscriber_id], message.message_type, message.content_type,
                        {k: v for k, v in body.items() if k not in ("notice_id", "issue_datetime", "declaration_id")}))
    return {"status": status["status"], "lane": status["lane"], "version": status["version"],
            "history": history, "events": events, "notices": sorted(notices, key=lambda n: (n[0], n[1]))}


def test_a_green_lane_release_on_lodging_looks_like_a_release_through_change_status(
        releasing: tuple[Flask, FlaskClient]) -> None:
    from app.declarations.service import GREEN_LANE_NOTE, LANE_POLICY, change_status

    app, client = releasing
    add_subscriber(app, "trader", "party", party=TRADER_BRN, fmt="json")
    add_subscriber(app, "carrier", "party", party=OTHER_BRN, fmt="json")
    add_subscriber(app, "lmc", "control_point", code="HKLMC", party=OTHER_BRN, fmt="json")
    add_subscriber(app, "lmc-terminal", "terminal", code="HKLMC", party=OTHER_BRN, fmt="json")

    # Released by the lane policy as it is lodged (submit's own release).
    on_lodging = client.post("/api/v1/declarations", data=_with_carrier("GREEN-PATH-1"),
                             headers=auth(TRADER_KEY, "application/json"))
    assert on_lodging.status_code == 202, on_lodging.text
    assert on_lodging.get_json()["status"] == "released"
    released_on_lodging = on_lodging.get_json()["declaration_id"]

    # The same document lodged while the policy holds green cargo, then released by the lane
    # policy through change_status (the path every other release takes).
    engine = app.extensions["csw"].risk
    releasing_policy = engine.policy
    engine.policy = replace(releasing_policy, release_green=False)
    try:
        held = client.post("/api/v1/declarations", data=_with_carrier("GREEN-PATH-2"),
                           headers=auth(TRADER_KEY, "application/json"))
    finally:
        engine.policy = releasing_policy
    assert held.status_code == 202, held.text
    assert held.get_json()["status"] == "accepted" and held.get_json()["risk"]["lane"] == "green"
    released_later = held.get_json()["declaration_id"]
    with app.extensions["csw"].sessions() as session, session.begin():
        row = session.get(models.Declaration, released_later)
        assert row is not None
        change_status(session, row, DeclarationStatus.RELEASED, "released", LANE_POLICY, row.conversation_id,
                      note=GREEN_LANE_NOTE, now=row.received_at)

    lodged, unified = _seen(app, client, released_on_lodging), _seen(app, client, released_later)
    # What the release must look like (whichever path writes it) ...
    assert [(e["kind"], e["status"], e["actor"].split(":")[0], e["actor"].split(":")[-1], e.get("note"))
            for e in lodged["history"]] == [
        ("submitted", "accepted", "client", "trader-tms", None),
        ("released", "released", "system", "lane-policy", GREEN_LANE_NOTE)], lodged["history"]
    assert [event[:3] for event in lodged["events"]] == [
        ("submitted", None, "accepted"), ("released", "accepted", "released")]
    assert all(same_conversation and same_time for *_, same_conversation, same_time in lodged["events"])
    assert [(name, kind) for name, kind, _, _ in lodged["notices"]] == [
        ("carrier", "release_notice"), ("lmc", "release_notice"), ("lmc-terminal", "release_notice"),
        ("trader", "release_notice")]
    assert all(content["status"] == "released" and content["lane"] == "green" and content["note"] == GREEN_LANE_NOTE
               for _, _, _, content in lodged["notices"])
    # ... and identical to a release through change_status.
    assert lodged == unified
