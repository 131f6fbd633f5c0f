"""Administration of routing: ``csw subscribers``, ``csw dispatch --once``, the admin page."""
from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from app.cli import main as csw
from app.domain.routing import MessageType
from app.routing import outbox
from app.routing.subscribers import find_subscriber, history
from tests.conftest import TRADER_BRN

PASSWORD = "routing-admin-password"


def run(database_url: str, *args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(csw, list(args), env={"CSW_DATABASE_URL": database_url})


def test_subscribers_add_list_pause_resume(clean_app: Flask, database_url: str) -> None:
    added = run(database_url, "subscribers", "add", "--name", "lmc-kiosk", "--role", "control_point",
                "--code", "HKLMC", "--url", "https://kiosk.example/hook")
    assert added.exit_code == 0, added.output
    secret = added.output.strip().splitlines()[-1]
    assert re.fullmatch(r"[0-9a-f]{64}", secret)
    pulled = run(database_url, "subscribers", "add", "--name", "trader-pull", "--role", "party",
                 "--transport", "pull", "--party", TRADER_BRN, "--format", "json")
    assert pulled.exit_code == 0, pulled.output
    refused = run(database_url, "subscribers", "add", "--name", "broken", "--role", "control_point",
                  "--url", "ftp://x")
    assert refused.exit_code != 0
    assert "url: a webhook needs an http:// or https:// URL" in refused.output and "code:" in refused.output
    assert run(database_url, "subscribers", "pause", "lmc-kiosk").output.strip() == "paused lmc-kiosk"
    listed = run(database_url, "subscribers", "list").output
    assert re.search(r"lmc-kiosk\s+control_point\s+HKLMC\s+webhook\s+paused", listed)
    assert "trader-pull" in listed
    assert run(database_url, "subscribers", "resume", "lmc-kiosk").output.strip() == "resumed lmc-kiosk"
    assert run(database_url, "subscribers", "pause", "nobody").exit_code != 0


def test_dispatch_once_skips_paused_subscribers(clean_app: Flask, database_url: str) -> None:
    run(database_url, "subscribers", "add", "--name", "down", "--role", "control_point", "--code", "HKLMC",
        "--url", "http://127.0.0.1:9/hook")
    run(database_url, "subscribers", "pause", "down")
    with clean_app.extensions["csw"].sessions() as session, session.begin():
        outbox.enqueue(session, [find_subscriber(session, "down")], MessageType.RELEASE_NOTICE, "declaration:X",
                       {"declaration_id": "HK26D00000000001"}, "HKLMC", datetime.now(timezone.utc))
    result = run(database_url, "dispatch", "--once")
    assert result.exit_code == 0 and '"subscribers": 0' in result.output


def sign_in(client: FlaskClient, username: str) -> None:
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get("/login").text).group(1)  # type: ignore[union-attr]
    response = client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302


def test_admin_page_shows_health_and_pauses_for_admins_only(
        admin_browser: FlaskClient, clean_app: Flask, database_url: str) -> None:
    run(database_url, "subscribers", "add", "--name", "lmc-kiosk", "--role", "control_point", "--code", "HKLMC",
        "--url", "https://kiosk.example/hook")
    with clean_app.extensions["csw"].sessions() as session, session.begin():
        outbox.enqueue(session, [find_subscriber(session, "lmc-kiosk")], MessageType.RELEASE_NOTICE,
                       "declaration:X", {"declaration_id": "HK26D00000000001"}, "HKLMC", datetime.now(timezone.utc))
    page = "/admin/routing/subscribers"
    assert admin_browser.get(page).status_code == 302  # signed out: to the login page
    sign_in(admin_browser, "routing-officer")
    assert admin_browser.get(page).status_code == 403
    admin_browser.post("/logout", data={"csrf_token": re.search(
        r'name="csrf_token"[^>]*value="([^"]+)"', admin_browser.get("/login").text).group(1)})  # type: ignore[union-attr]
    admin = clean_app.test_client()
    sign_in(admin, "routing-admin")
    html = admin.get(page).text
    row = re.search(r'<tr data-subscriber="lmc-kiosk" data-state="active">.*?</tr>', html, re.S)
    assert row and '<td class="num backlog">1</td>' in row.group(0)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    with clean_app.extensions["csw"].sessions() as session:
        subscriber_id = find_subscriber(session, "lmc-kiosk").id
    action = f"/admin/routing/subscribers/{subscriber_id}/pause"
    assert admin.post(action).status_code == 400  # no CSRF token
    assert admin.post(action, data={"csrf_token": token}).status_code == 302
    assert 'data-subscriber="lmc-kiosk" data-state="paused"' in admin.get(page).text


def test_admin_adds_a_subscriber_in_the_web_ui(admin_browser: FlaskClient, clean_app: Flask) -> None:
    """Post/redirect/get: the signing secret is shown once; a refusal names the field plainly;
    the addition is on the subscriber's history with the administrator's name."""
    sign_in(admin_browser, "routing-admin")
    page = "/admin/routing/subscribers"
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', admin_browser.get(page).text).group(1)  # type: ignore[union-attr]
    refused = admin_browser.post(page, data={"csrf_token": token, "name": "lmc-kiosk", "role": "control_point",
                                             "code": "HKLMC", "transport": "webhook", "url": "", "format": "xml"})
    assert refused.status_code == 303  # post/redirect/get: what was typed and the problem kept for the page
    refused = admin_browser.get(refused.headers["Location"].split("#")[0])
    assert refused.status_code == 422 and 'value="lmc-kiosk"' in refused.text
    assert "Address: a web hook needs an http:// or https:// address" in refused.text
    added = admin_browser.post(page, data={"csrf_token": token, "name": "lmc-kiosk", "role": "control_point",
                                           "code": "HKLMC", "transport": "webhook", "format": "json",
                                           "url": "https://kiosk.example/hook", "note": "new kiosk"})
    assert added.status_code == 302
    shown = admin_browser.get(added.headers["Location"].split("#")[0]).text
    assert "Subscriber lmc-kiosk added." in shown and 'id="new-secret"' in shown
    assert 'id="new-secret"' not in admin_browser.get(page).text  # once
    with clean_app.extensions["csw"].sessions() as session:
        subscriber = find_subscriber(session, "lmc-kiosk")
        assert (subscriber.role, subscriber.code, subscriber.format) == ("control_point", "HKLMC", "json")
        events = [(e.kind, e.actor, e.note) for e in history(session, "lmc-kiosk")]
    assert events == [("added", "officer:routing-admin", "new kiosk")]


def test_admin_changes_and_retires_a_subscriber_in_the_web_ui(admin_browser: FlaskClient, clean_app: Flask) -> None:
    """Issue 24: a subscriber's address and format are changed on its page, and it is retired
    with a reason; each change is an event with the administrator and the time, and a retired
    subscriber is addressed and delivered nothing more, nor paused or resumed."""
    from app.domain.routing import RecipientRole
    from app.routing.outbox import Addressees, subscribers_for
    from app.routing.subscribers import add_subscriber

    with clean_app.extensions["csw"].sessions() as session, session.begin():
        subscriber_id = add_subscriber(session, "lmc-kiosk", "control_point", "webhook", "https://kiosk.example/a",
                                       "HKLMC", actor="officer:setup").id
    sign_in(admin_browser, "routing-admin")
    page = f"/admin/routing/subscribers/{subscriber_id}"
    html = admin_browser.get(page).text
    assert 'value="https://kiosk.example/a"' in html and 'id="retire-subscriber"' in html
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    changed = admin_browser.post(page, data={"csrf_token": token, "role": "control_point", "code": "HKLMC",
                                             "transport": "webhook", "url": "https://kiosk.example/b",
                                             "format": "json", "note": "new kiosk software"})
    assert changed.status_code == 302
    assert "Subscriber lmc-kiosk changed." in admin_browser.get(page).text
    refused = admin_browser.post(f"{page}/retire", data={"csrf_token": token, "note": ""})
    assert refused.status_code == 303
    assert "Why it is retired" in admin_browser.get(page).text
    retired = admin_browser.post(f"{page}/retire", data={"csrf_token": token, "note": "kiosk closed"})
    assert retired.status_code == 302
    shown = admin_browser.get(page).text
    assert 'data-state="retired"' in shown and 'id="retire-subscriber"' not in shown and "kiosk closed" in shown
    assert "new kiosk software" in shown and "https://kiosk.example/b" in shown  # the history, as changed
    paused = admin_browser.post(f"/admin/routing/subscribers/{subscriber_id}/pause", data={"csrf_token": token},
                                follow_redirects=True)
    assert "This subscriber is retired" in paused.text
    with clean_app.extensions["csw"].sessions() as session:
        subscriber = find_subscriber(session, "lmc-kiosk")
        assert (subscriber.url, subscriber.format, subscriber.state) == ("https://kiosk.example/b", "json", "retired")
        events = [(e.kind, e.actor, e.note, e.detail) for e in history(session, "lmc-kiosk")]
        assert all(e.occurred_at is not None for e in history(session, "lmc-kiosk"))  # when, with who
        assert subscribers_for(session, Addressees(frozenset(), "HKLMC", None,
                                                   frozenset({RecipientRole.CONTROL_POINT}))) == []
    assert [(kind, actor, note) for kind, actor, note, _detail in events] == [
        ("added", "officer:setup", None), ("changed", "officer:routing-admin", "new kiosk software"),
        ("retired", "officer:routing-admin", "kiosk closed")]
    assert events[1][3] == {"from": {"url": "https://kiosk.example/a", "format": "xml"},
                            "to": {"url": "https://kiosk.example/b", "format": "json"}}


def test_the_scheduler_runs_the_dispatcher_and_the_purge(clean_app: Flask, database_url: str,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    import threading
    import time
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from apscheduler.schedulers.background import BackgroundScheduler

    from app.routing.jobs import schedule_routing

    received: list[str] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            self.rfile.read(int(self.headers["Content-Length"]))
            received.append(self.headers["Idempotency-Key"])
            self.send_response(204)
            self.end_headers()

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("CSW_DISPATCH_INTERVAL_SECONDS", "0.2")
    run(database_url, "subscribers", "add", "--name", "lmc", "--role", "control_point", "--code", "HKLMC",
        "--url", f"http://127.0.0.1:{server.server_address[1]}/hook")
    with clean_app.extensions["csw"].sessions() as session, session.begin():
        outbox.enqueue(session, [find_subscriber(session, "lmc")], MessageType.RELEASE_NOTICE, "declaration:X",
                       {"declaration_id": "HK26D00000000001"}, "HKLMC", datetime.now(timezone.utc))
    scheduler = BackgroundScheduler()
    dispatcher = schedule_routing(scheduler, clean_app.extensions["csw"].database)
    assert {job.id for job in scheduler.get_jobs()} == {"outbox-dispatch", "outbox-purge"}
    scheduler.start()
    try:
        deadline = time.monotonic() + 20
        while not received and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        scheduler.shutdown()
        dispatcher.close()
        server.shutdown()
        server.server_close()
    assert len(received) == 1  # delivered by the scheduled job, with nobody calling the dispatcher
    listed = run(database_url, "subscribers", "list")
    assert re.search(r"lmc .* active +0 +0 +1", listed.output), listed.output


def test_purge_removes_only_delivered_messages_past_retention(clean_app: Flask, database_url: str) -> None:
    from datetime import timedelta

    from sqlalchemy import select, update

    from app.db.routing_models import OutboxMessage

    run(database_url, "subscribers", "add", "--name", "lmc", "--role", "control_point", "--code", "HKLMC",
        "--url", "https://kiosk.example/hook")
    now = datetime.now(timezone.utc)
    with clean_app.extensions["csw"].sessions() as session, session.begin():
        for _ in range(3):
            outbox.enqueue(session, [find_subscriber(session, "lmc")], MessageType.RELEASE_NOTICE, "declaration:X",
                           {"declaration_id": "HK26D00000000001"}, "HKLMC", now)
        ids = list(session.scalars(select(OutboxMessage.id).order_by(OutboxMessage.id)))
        for message_id, status, age in zip(ids, ("delivered", "delivered", "dead"), (15, 1, 30)):
            session.execute(update(OutboxMessage).where(OutboxMessage.id == message_id).values(
                status=status, delivered_at=now - timedelta(days=age) if status == "delivered" else None,
                created_at=now - timedelta(days=age)))
    result = run(database_url, "jobs", "run", "outbox-purge")
    assert result.exit_code == 0, result.output
    with clean_app.extensions["csw"].sessions() as session:
        assert list(session.scalars(select(OutboxMessage.id).order_by(OutboxMessage.id))) == ids[1:]
