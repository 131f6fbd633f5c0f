"""Issue 23: a logistics system learns every step of its declarations without the portal, by a
callback it registers itself (pushed through the outbox, signed, in order, once) or by pulling
its feed, and answers an officer's document request by API."""
from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from lxml import etree
from sqlalchemy import func, select

from app.cases import service as cases
from app.cases.service import DecisionRequest
from app.db.case_models import Case, User
from app.db.portal_models import DocumentRequestAnswer
from app.db.routing_models import LifecycleNotification, OutboxMessage
from app.domain.cases import Decision, InspectionResult
from app.domain.risk import LaneThresholds
from app.domain.routing import verify
from app.routing.dispatcher import Dispatcher
from tests.conftest import OTHER_KEY, TRADER_KEY, sample
from tests.factories import declaration_xml
from tests.integration.test_routing_delivery import free_port, probe_now, settings

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
SCHEMA = etree.XMLSchema(etree.parse("schemas/notification/v1/notification.xsd"))


class CallbackReceiver:
    """A declarant's system: records each notification it is pushed and checks the signature
    with the secret CSW gave at registration."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/csw/notifications"
        self.secret = ""
        self.received: list[dict[str, Any]] = []
        self._server: ThreadingHTTPServer | None = None
        self._lock = threading.Lock()

    def start(self) -> CallbackReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver._lock:
                    receiver.received.append({
                        "key": self.headers["Idempotency-Key"], "type": self.headers["Content-Type"], "body": body,
                        "signed": verify(receiver.secret, self.headers["X-CSW-Timestamp"], body,
                                         self.headers["X-CSW-Signature"])})
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def notifications(self) -> list[dict[str, Any]]:
        """Each notification once (first delivery), as JSON-like dicts."""
        seen: dict[str, dict[str, Any]] = {}
        with self._lock:
            for item in self.received:
                if item["type"].startswith("application/json"):
                    seen.setdefault(item["key"], json.loads(item["body"]))
                else:
                    root = etree.fromstring(item["body"])
                    SCHEMA.assertValid(root)
                    seen.setdefault(item["key"], {etree.QName(child).localname: child.text for child in root})
        return list(seen.values())


@pytest.fixture()
def callback_receiver() -> Iterator[CallbackReceiver]:
    receiver = CallbackReceiver()
    yield receiver
    receiver.stop()


@pytest.fixture()
def officer_cases(clean_app: Flask, monkeypatch: pytest.MonkeyPatch) -> Flask:
    """Every declaration opens a case (red lane), no random sampling; an officer account."""
    engine = clean_app.extensions["csw"].risk
    monkeypatch.setattr(engine, "policy", replace(engine.policy, thresholds=LaneThresholds(yellow=0, red=0),
                                                  sample_rate=0.0))
    with clean_app.extensions["csw"].sessions() as session, session.begin():
        session.add(User(username="chan", display_name="Officer Chan", role="officer", locale="en",
                         password_hash="x", active=True, created_at=func.now()))
    return clean_app


def headers(key: str = TRADER_KEY, content_type: str = "application/json") -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", "Accept": "application/json", "Content-Type": content_type}


def lodge(api: FlaskClient, lrn: str, key: str = TRADER_KEY) -> tuple[str, str]:
    """Lodge a declaration; returns its reference and the submission's conversation id."""
    response = api.post("/api/v1/declarations", data=declaration_xml(lrn=lrn),
                        headers=headers(key, "application/xml"))
    assert response.status_code == 202, response.text
    return response.get_json()["declaration_id"], response.headers["X-Conversation-ID"]


def officer_decides(app: Flask, reference: str, decision: Decision, **fields: Any) -> None:
    """What an officer does in the case view, through the same service."""
    with app.extensions["csw"].sessions() as session, session.begin():
        user = session.scalar(select(User).where(User.username == "chan"))
        case = session.scalar(select(Case).where(Case.declaration_id == reference, Case.active.is_(True)))
        assert user is not None and case is not None
        if case.assigned_to_id is None:
            cases.claim(session, case.id, user)
        cases.decide(session, case.id, user, DecisionRequest(decision, **fields), None)


def officer_records_inspection(app: Flask, reference: str, result: InspectionResult) -> None:
    with app.extensions["csw"].sessions() as session, session.begin():
        user = session.scalar(select(User).where(User.username == "chan"))
        case = session.scalar(select(Case).where(Case.declaration_id == reference, Case.active.is_(True)))
        assert user is not None and case is not None
        cases.record_inspection(session, case.id, user, result, Decimal("0"), "checked 3 cartons")


def deliver(app: Flask) -> None:
    dispatcher = Dispatcher(app.extensions["csw"].database, settings())
    dispatcher.drain()
    dispatcher.close()


def register(api: FlaskClient, url: str, fmt: str = "json", key: str = TRADER_KEY) -> dict[str, Any]:
    response = api.put("/api/v1/callback", json={"url": url, "format": fmt}, headers=headers(key))
    assert response.status_code == 200, response.text
    return response.get_json()


def test_walkthrough_by_push(officer_cases: Flask, callback_receiver: CallbackReceiver) -> None:
    """Register a callback, lodge, hear "accepted"; an officer requests documents; answer by API
    with a PDF; hear "released"; each notification signed, in order, once, tied to the
    submission's conversation."""
    app, api = officer_cases, officer_cases.test_client()
    registered = register(api, callback_receiver.url, "xml")
    callback_receiver.secret = registered["signing_secret"]
    assert len(callback_receiver.secret) == 64 and registered["state"] == "active"
    assert "signing_secret" not in api.get("/api/v1/callback", headers=headers()).get_json()
    callback_receiver.start()

    reference, conversation = lodge(api, "PUSH-0001")
    officer_decides(app, reference, Decision.REQUEST_DOCUMENTS, reason="value looks low",
                    documents="commercial invoice")
    deliver(app)
    heard = callback_receiver.notifications()
    assert [n["Kind"] for n in heard] == ["accepted", "documents_requested"]
    request_id = int(heard[1]["RequestID"])
    assert heard[1]["Documents"] == "commercial invoice" and heard[1]["Message"] == "value looks low"

    requests = api.get(f"/api/v1/declarations/{reference}/document-requests", headers=headers()).get_json()
    assert [(r["request_id"], r["open"]) for r in requests["requests"]] == [(request_id, True)]
    answered = api.post(f"/api/v1/declarations/{reference}/document-requests/{request_id}/answers",
                        data={"message": "invoice attached", "attachment": (io.BytesIO(PDF), "invoice.pdf")},
                        headers={"Authorization": f"Bearer {TRADER_KEY}", "Accept": "application/json"},
                        content_type="multipart/form-data")
    assert answered.status_code == 201, answered.text
    download = answered.get_json()["download"]
    fetched = api.get(download, headers=headers())
    assert fetched.status_code == 200 and fetched.data == PDF and fetched.mimetype == "application/pdf"
    listed = api.get(f"/api/v1/declarations/{reference}/attachments", headers=headers()).get_json()
    assert [a["filename"] for a in listed["attachments"]] == ["invoice.pdf"]

    officer_decides(app, reference, Decision.RELEASE, reason="invoice matches")
    deliver(app)
    heard = callback_receiver.notifications()
    assert [n["Kind"] for n in heard] == ["accepted", "documents_requested", "documents_answered", "released"]
    assert all(item["signed"] for item in callback_receiver.received)
    assert {n["DeclarationID"] for n in heard} == {reference}
    assert {n["LRN"] for n in heard} == {"PUSH-0001"}
    assert {n["ConversationID"] for n in heard} == {conversation}
    sequences = [int(n["Sequence"]) for n in heard]
    assert sequences == sorted(sequences)
    assert len(callback_receiver.received) == 4  # once each


def test_walkthrough_by_pull_with_a_cursor_per_client(officer_cases: Flask) -> None:
    app, api = officer_cases, officer_cases.test_client()
    reference, conversation = lodge(api, "PULL-0001")
    officer_decides(app, reference, Decision.REQUEST_DOCUMENTS, reason="need the invoice", documents="invoice")
    feed = api.get("/api/v1/lifecycle-notifications", headers=headers()).get_json()
    kinds = [n["kind"] for n in feed["notifications"]]
    assert kinds == ["accepted", "documents_requested"]
    request_id = feed["notifications"][1]["request_id"]
    assert feed["notifications"][0]["conversation_id"] == conversation

    answered = api.post(f"/api/v1/declarations/{reference}/document-requests/{request_id}/answers",
                        json={"message": "sent by courier"}, headers=headers())
    assert answered.status_code == 201, answered.text
    officer_decides(app, reference, Decision.RELEASE, reason="ok")

    through = feed["next_after"]
    acked = api.post("/api/v1/lifecycle-notifications/acknowledgements", json={"through": through},
                     headers=headers())
    assert acked.status_code == 200 and acked.get_json()["acknowledged_through"] == through
    rest = api.get("/api/v1/lifecycle-notifications", headers=headers()).get_json()
    assert [n["kind"] for n in rest["notifications"]] == ["documents_answered", "released"]
    # Acknowledging never moves back, nor past the newest notification.
    assert api.post("/api/v1/lifecycle-notifications/acknowledgements", json={"through": 0},
                    headers=headers()).get_json()["acknowledged_through"] == through
    beyond = api.post("/api/v1/lifecycle-notifications/acknowledgements", json={"through": 10**9},
                      headers=headers())
    assert beyond.status_code == 400 and beyond.get_json()["errors"][0]["path"] == "through"
    # The other party hears nothing of it.
    assert api.get("/api/v1/lifecycle-notifications", headers=headers(OTHER_KEY)).get_json()["notifications"] == []

    xml = api.get("/api/v1/lifecycle-notifications?after=0",
                  headers={"Authorization": f"Bearer {TRADER_KEY}", "Accept": "application/xml"})
    root = etree.fromstring(xml.data)
    SCHEMA.assertValid(root)
    assert len(root.findall("{urn:csw:notification:v1}Notifications/{urn:csw:notification:v1}Notification")) == 4


def test_reroute_tells_the_lane_not_the_reason_and_an_inspection_its_result(officer_cases: Flask) -> None:
    app, api = officer_cases, officer_cases.test_client()
    reference, _ = lodge(api, "LANE-0001")
    officer_decides(app, reference, Decision.INSPECT, reason="profile 17: undervalued phones")
    officer_records_inspection(app, reference, InspectionResult.DISCREPANCY)
    officer_decides(app, reference, Decision.REROUTE, reason="profile 17 hit", lane="yellow")
    feed = api.get("/api/v1/lifecycle-notifications", headers=headers()).get_json()["notifications"]
    by_kind = {n["kind"]: n for n in feed}
    assert "inspection_ordered" in by_kind and "note" not in by_kind["inspection_ordered"]
    assert by_kind["inspection_outcome"]["result"] == InspectionResult.DISCREPANCY.value
    rerouted = by_kind["rerouted"]
    assert rerouted["lane"] == "yellow" and "note" not in rerouted and "message" not in rerouted
    assert "profile 17" not in json.dumps(feed)


def test_a_callback_down_for_a_while_receives_every_notification_once_in_order(
        clean_app: Flask, callback_receiver: CallbackReceiver) -> None:
    api = clean_app.test_client()
    callback_receiver.secret = register(api, callback_receiver.url)["signing_secret"]
    references = [lodge(api, f"DOWN-{n:04d}")[0] for n in range(5)]
    dispatcher = Dispatcher(clean_app.extensions["csw"].database, settings())
    assert dispatcher.run_once().unavailable == 1  # the receiver is down: blocked, probed later
    callback_receiver.start()
    with clean_app.extensions["csw"].sessions() as session:
        subscriber_id = session.scalar(select(OutboxMessage.subscriber_id).where(
            OutboxMessage.message_type == "notification"))
    assert subscriber_id is not None
    probe_now(clean_app, subscriber_id)
    dispatcher.drain()
    dispatcher.close()
    heard = callback_receiver.notifications()
    with clean_app.extensions["csw"].sessions() as session:
        stored = session.scalars(select(LifecycleNotification.event_id).order_by(LifecycleNotification.id)).all()
    assert [n["event_id"] for n in heard] == list(stored)
    assert {n["declaration_id"] for n in heard} == set(references)
    assert all(item["signed"] for item in callback_receiver.received)
    assert len({item["key"] for item in callback_receiver.received}) == len(stored)


@pytest.mark.parametrize(("url", "rule"), [
    ("ftp://127.0.0.1/hook", "http-url"),
    ("http://10.0.0.5/hook", "public-address"),
    ("https://169.254.169.254/latest/meta-data/", "public-address"),
    ("https://[::ffff:192.168.1.1]/hook", "public-address"),
    ("http://93.184.215.14/hook", "https-required"),
    ("https://93.184.215.14/" + "x" * 2000, "max-length"),
])
def test_a_callback_url_that_is_not_allowed_is_refused(client: FlaskClient, url: str, rule: str) -> None:
    response = client.put("/api/v1/callback", json={"url": url}, headers=headers())
    assert response.status_code == 422, response.text
    assert [(e["path"], e["rule"]) for e in response.get_json()["errors"]] == [("url", rule)]
    assert client.get("/api/v1/callback", headers=headers()).status_code == 404


def test_a_changed_callback_keeps_its_secret_unless_rotated_and_a_removed_one_gets_nothing(
        clean_app: Flask) -> None:
    api = clean_app.test_client()
    first = register(api, "http://127.0.0.1:9/one")
    changed = register(api, "http://127.0.0.1:9/two", "xml")
    assert "signing_secret" not in changed
    assert changed["url"].endswith("/two") and changed["format"] == "xml"
    rotated = api.put("/api/v1/callback", json={"url": "http://127.0.0.1:9/two", "rotate_secret": True},
                      headers=headers()).get_json()
    assert rotated["signing_secret"] not in (None, first["signing_secret"])
    assert api.delete("/api/v1/callback", headers=headers()).status_code == 204
    lodge(api, "GONE-0001")
    with clean_app.extensions["csw"].sessions() as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.message_type == "notification")) == 0
    assert api.delete("/api/v1/callback", headers=headers()).status_code == 404


def test_answers_that_are_not_allowed_change_nothing(officer_cases: Flask) -> None:
    app, api = officer_cases, officer_cases.test_client()
    reference, _ = lodge(api, "BAD-0001")
    officer_decides(app, reference, Decision.REQUEST_DOCUMENTS, reason="invoice", documents="invoice")
    request_id = api.get(f"/api/v1/declarations/{reference}/document-requests",
                         headers=headers()).get_json()["requests"][0]["request_id"]
    answers = f"/api/v1/declarations/{reference}/document-requests/{request_id}/answers"
    not_a_pdf = api.post(answers, data={"message": "here", "attachment": (io.BytesIO(b"MZ\x90\x00 program"),
                                                                          "invoice.pdf")},
                         headers={"Authorization": f"Bearer {TRADER_KEY}", "Accept": "application/json"},
                         content_type="multipart/form-data")
    assert not_a_pdf.status_code == 422
    assert [(e["path"], e["rule"]) for e in not_a_pdf.get_json()["errors"]] == [("attachment", "attachment-type")]
    # Another party's request is not found, exactly like a missing one.
    other = api.post(answers, json={"message": "hi"}, headers=headers(OTHER_KEY))
    missing = api.post(f"/api/v1/declarations/{reference}/document-requests/999999/answers",
                       json={"message": "hi"}, headers=headers())
    assert other.status_code == missing.status_code == 404
    empty = api.post(answers, json={"message": "  "}, headers=headers())
    assert empty.status_code == 422 and empty.get_json()["errors"][0]["path"] == "message"
    with app.extensions["csw"].sessions() as session:
        assert session.scalar(select(func.count()).select_from(DocumentRequestAnswer)) == 0
        assert "documents_answered" not in session.scalars(select(LifecycleNotification.kind)).all()


def test_green_lane_declarations_are_heard_accepted_then_released(clean_app: Flask) -> None:
    api = clean_app.test_client()
    lodge(api, "GREEN-0001")
    response = api.post("/api/v1/declarations", data=sample("valid/import-5-items.xml"),
                        headers=headers(content_type="application/xml"))
    assert response.status_code == 202
    feed = api.get("/api/v1/lifecycle-notifications", headers=headers()).get_json()["notifications"]
    by_declaration: dict[str, list[str]] = {}
    for notification in feed:
        by_declaration.setdefault(notification["declaration_id"], []).append(notification["kind"])
    for kinds in by_declaration.values():
        assert kinds[0] == "accepted"
        assert kinds in (["accepted"], ["accepted", "released"])


def test_the_portal_shows_the_same_feed_on_the_declaration_in_both_languages(officer_cases: Flask) -> None:
    from tests.integration.test_portal_web import PASSWORD, signed_in
    from app.users.service import create_user
    from app.db import models

    app, api = officer_cases, officer_cases.test_client()
    reference, _ = lodge(api, "PORTAL-FEED-1")
    officer_decides(app, reference, Decision.REQUEST_DOCUMENTS, reason="invoice please", documents="invoice")
    with app.extensions["csw"].sessions() as session, session.begin():
        party = session.scalar(select(models.Party.id).where(models.Party.identifier == "12345678"))
        create_user(session, "wong", "trader", PASSWORD, party_id=party)
        create_user(session, "chan-zh", "trader", PASSWORD, locale="zh_Hant", party_id=party)
    page = signed_in(app, "wong").get(f"/trader/declarations/{reference}").get_data(as_text=True)
    section = page.split('id="notifications-title"')[1].split("</section>")[0]
    assert section.index("accepted") < section.index("documents requested") and "invoice" in section
    chinese = signed_in(app, "chan-zh").get(f"/trader/declarations/{reference}").get_data(as_text=True)
    assert "發送至貴公司系統的通知" in chinese


def test_the_feed_keeps_fourteen_days(clean_app: Flask) -> None:
    from datetime import date, datetime, timedelta, timezone

    from sqlalchemy import update

    from app.routing.jobs import outbox_purge

    api = clean_app.test_client()
    lodge(api, "OLD-0001")
    lodge(api, "NEW-0001")
    with clean_app.extensions["csw"].sessions() as session, session.begin():
        session.execute(update(LifecycleNotification).where(LifecycleNotification.lrn == "OLD-0001").values(
            occurred_at=datetime.now(timezone.utc) - timedelta(days=15)))
    with clean_app.extensions["csw"].sessions() as session, session.begin():
        assert outbox_purge(session, date.today())["notifications_purged"] >= 1
    lrns = {n["lrn"] for n in api.get("/api/v1/lifecycle-notifications", headers=headers()).get_json()["notifications"]}
    assert lrns == {"NEW-0001"}


def test_the_release_notice_and_the_tariff_search_are_there_by_api_too(clean_app: Flask) -> None:
    """Two more things the portal does, for systems: download the routed release notice, and
    look up HS codes by words."""
    from tests.integration.test_trips_api import add_subscriber

    api = clean_app.test_client()
    add_subscriber(clean_app, "trader", "party", party="12345678", fmt="xml")
    response = api.post("/api/v1/declarations", data=sample("valid/import-5-items.xml"),
                        headers=headers(content_type="application/xml"))
    reference = response.get_json()["declaration_id"]
    notice = api.get(f"/api/v1/declarations/{reference}/release-notice", headers=headers())
    if response.get_json()["status"] == "released":
        assert notice.status_code == 200 and b"ReleaseNotice" in notice.data and reference.encode() in notice.data
    else:  # picked for the random sample: not released, so no notice yet
        assert notice.status_code == 404
    assert api.get(f"/api/v1/declarations/{reference}/release-notice",
                   headers=headers(OTHER_KEY)).status_code == 404
    codes = api.get("/api/v1/hs-codes?q=8517", headers=headers()).get_json()["codes"]
    assert codes and all(c["code"].startswith("8517") for c in codes)
    assert api.get("/api/v1/hs-codes?q=", headers=headers()).status_code == 400


def test_every_xml_answer_of_these_routes_validates(officer_cases: Flask, response_schema) -> None:  # type: ignore[no-untyped-def]
    app, api = officer_cases, officer_cases.test_client()
    xml = {"Authorization": f"Bearer {TRADER_KEY}", "Accept": "application/xml"}
    reference, _ = lodge(api, "XML-0001")
    officer_decides(app, reference, Decision.REQUEST_DOCUMENTS, reason="invoice", documents="invoice")
    request_id = api.get(f"/api/v1/declarations/{reference}/document-requests",
                         headers=headers()).get_json()["requests"][0]["request_id"]
    answers = [
        api.put("/api/v1/callback", json={"url": "http://127.0.0.1:9/x"}, headers={**xml}),
        api.get("/api/v1/callback", headers=xml),
        api.post(f"/api/v1/declarations/{reference}/document-requests/{request_id}/answers",
                 data={"message": "here", "attachment": (io.BytesIO(PDF), "a.pdf")}, headers=xml,
                 content_type="multipart/form-data"),
        api.get(f"/api/v1/declarations/{reference}/document-requests", headers=xml),
        api.get(f"/api/v1/declarations/{reference}/attachments", headers=xml),
        api.post("/api/v1/lifecycle-notifications/acknowledgements", json={"through": 1}, headers=xml),
        api.get("/api/v1/hs-codes?q=phone", headers=xml),
    ]
    for answer in answers:
        assert answer.status_code in (200, 201), answer.text
        response_schema.assertValid(etree.fromstring(answer.data))


def test_a_batch_is_heard_declaration_by_declaration_by_push(clean_app: Flask,
                                                             callback_receiver: CallbackReceiver) -> None:
    """Declarations lodged in one batch: each is heard accepted (and released, on the green
    lane) with its own LRN and the batch's conversation, once, in order."""
    api = clean_app.test_client()
    registered = register(api, callback_receiver.url, "json")
    callback_receiver.secret = registered["signing_secret"]
    callback_receiver.start()
    body = (b'<?xml version="1.0" encoding="UTF-8"?>\n<DeclarationBatch xmlns="urn:csw:declaration-batch:v1">'
            + b"".join(declaration_xml(lrn=f"PUSHED-{n}").split(b"?>", 1)[1] for n in range(3))
            + b"</DeclarationBatch>")
    answer = api.post("/api/v1/declaration-batches", data=body, headers=headers(content_type="application/xml"))
    assert answer.status_code == 200 and answer.get_json()["accepted"] == 3
    conversation = answer.get_json()["conversation_id"]
    references = {r["declaration_id"]: r for r in answer.get_json()["results"]}
    deliver(clean_app)
    heard = callback_receiver.notifications()
    assert all(item["signed"] for item in callback_receiver.received)
    for reference, result in references.items():
        kinds = [n["kind"] for n in heard if n["declaration_id"] == reference]
        assert kinds == (["accepted", "released"] if result["status"] == "released" else ["accepted"])
        assert {n["lrn"] for n in heard if n["declaration_id"] == reference} == {result["lrn"]}
    assert {n["conversation_id"] for n in heard} == {conversation}
    sequences = [int(n["sequence"]) for n in heard]
    assert sequences == sorted(sequences) and len(callback_receiver.received) == len(heard)
