"""The officers' case queue through the browser-facing pages (Flask test client, real
database): sign-in, role checks on every route, queue, claiming, decisions, inspection
outcomes, dashboard, language, escalation and the ``csw users`` command."""
from __future__ import annotations

import io
import re
import threading
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.cases import service as cases
from app.cases.escalation import case_escalation
from app.cli import main as cli
from app.db import models
from app.db.case_models import Case, CaseEvent, DocumentRequest, User, UserEvent
from app.db.portal_models import DocumentRequestAnswer
from app.jobs import JOBS, run_job
from tests.conftest import TRADER_BRN, TRADER_KEY, auth, sample
from tests.factories import declaration_xml, goods_item_xml

PASSWORDS = {"officer": "officer-test-pass", "officer2": "officer2-test-pass",
             "supervisor": "supervisor-test-pass", "admin": "admin-test-pass", "trader": "trader-test-pass"}
ROLES = {"officer": "officer", "officer2": "officer", "supervisor": "supervisor", "admin": "admin",
         "trader": "trader"}
EVERYONE = {"officer", "supervisor", "admin"}
WORKERS = {"officer", "supervisor"}
SUPERVISORS = {"supervisor", "admin"}
# Every route of the officers' application and who may use it (None: public).
ROUTES: dict[str, set[str] | None] = {
    "officer.queue": EVERYONE, "officer.case_view": EVERYONE, "officer.claim": WORKERS,
    "officer.unclaim": WORKERS, "officer.reassign": {"supervisor"}, "officer.decide": WORKERS,
    "officer.inspection": WORKERS, "officer.note": WORKERS, "officer.dashboard": SUPERVISORS,
    "officer.user_admin": {"admin"}, "officer.user_active": {"admin"}, "officer.user_account": {"admin"},
    "officer.user_role": {"admin"}, "officer.user_password": {"admin"}, "officer.attachment": EVERYONE,
    "officer.locale": None, "officer.search": EVERYONE, "officer.declaration": EVERYONE,
    "officer.save_search": EVERYONE, "officer.delete_search": EVERYONE,
    "officer.manifests": EVERYONE, "officer.manifest": EVERYONE, "officer.release_line": WORKERS,
    "officer.cargo_line": EVERYONE,
    "officer.unpaid_duty": EVERYONE, "officer.revenue_report": SUPERVISORS, "officer.revenue_report_csv": SUPERVISORS,
    "officer.static": None,
    "auth.login": None, "auth.logout": None,
}


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, "page has no CSRF token"
    return match.group(1)


def sign_in(client: FlaskClient, username: str) -> str:
    """Sign in through the login form; returns a CSRF token for later posts."""
    page = client.get("/login")
    response = client.post("/login", data={"username": username, "password": PASSWORDS[username],
                                           "csrf_token": csrf_token(page.text)})
    assert response.status_code == 302, response.text
    return csrf_token(client.get("/login").text)


def browser(app: Flask, username: str) -> tuple[FlaskClient, str]:
    client = app.test_client()
    return client, sign_in(client, username)


def lodge(app: Flask, lrn: str, *, lane: str = "red", risk: int = 50, revenue: str = "0",
          control_point: str | None = None, movement: datetime | None = None, type_code: str = "IM",
          body: bytes | None = None) -> tuple[int, str]:
    """A declaration lodged through the API, then put in ``lane`` with the risk inputs given
    (as the risk module would), and its case opened. Returns (case id, declaration id)."""
    api = app.test_client()
    response = api.post("/api/v1/declarations", data=body or declaration_xml(lrn=lrn, type_code=type_code),
                        headers=auth(TRADER_KEY, "application/json"))
    assert response.status_code in (201, 202), response.text
    declaration_id = response.get_json()["declaration_id"]
    with app.extensions["csw"].sessions() as session, session.begin():
        row = session.get(models.Declaration, declaration_id)
        assert row is not None
        row.lane, row.risk_score, row.revenue_at_stake = lane, risk, Decimal(revenue)
        if control_point:
            row.control_point = control_point
        if movement:
            row.movement_at = movement
        case = cases.open_cases_for_declaration(session, declaration_id, actor="test")
        assert case is not None
        return case.id, declaration_id


def case_row(app: Flask, case_id: int) -> Case:
    with app.extensions["csw"].sessions() as session:
        case = session.get(Case, case_id)
        assert case is not None
        session.expunge(case)
        return case


def declaration_status(app: Flask, declaration_id: str) -> dict[str, object]:
    response = app.test_client().get(f"/api/v1/declarations/{declaration_id}",
                                     headers=auth(TRADER_KEY, "application/json"))
    assert response.status_code == 200
    return response.get_json()


def queue_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'data-case-id="(\d+)"', html)]


# --- sign-in and roles --------------------------------------------------------------------

def test_pages_need_sign_in_and_a_wrong_password_is_refused(clean_app: Flask, accounts: dict[str, int]) -> None:
    client = clean_app.test_client()
    response = client.get("/officer/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
    page = client.get("/login")
    refused = client.post("/login", data={"username": "officer", "password": "wrong-password",
                                          "csrf_token": csrf_token(page.text)}, follow_redirects=True)
    assert refused.status_code == 401
    assert "unknown username or wrong password" in refused.text
    assert client.get("/officer/").status_code == 302
    token = sign_in(client, "officer")
    assert client.get("/officer/").status_code == 200
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/officer/").status_code == 302


@pytest.mark.parametrize("target", ["https://evil.example/x", "//evil.example/x", "/\\evil.example/x"])
def test_login_redirects_only_to_local_pages(clean_app: Flask, accounts: dict[str, int], target: str) -> None:
    client = clean_app.test_client()
    page = client.get("/login")
    response = client.post("/login", query_string={"next": target}, data={
        "username": "officer", "password": PASSWORDS["officer"], "csrf_token": csrf_token(page.text)})
    assert response.headers["Location"] == "/officer/"
    kept = clean_app.test_client()
    page = kept.get("/login")
    response = kept.post("/login", query_string={"next": "/officer/dashboard"}, data={
        "username": "officer", "password": PASSWORDS["officer"], "csrf_token": csrf_token(page.text)})
    assert response.headers["Location"] == "/officer/dashboard"


def test_every_route_checks_the_role_of_every_user(clean_app: Flask, accounts: dict[str, int]) -> None:
    """Walks every route of the officers' application with every role (traders of the portal
    included: they are no officers) and without sign-in."""
    endpoints = {rule.endpoint for rule in clean_app.url_map.iter_rules()
                 if rule.endpoint.startswith(("officer.", "auth."))}
    assert endpoints == set(ROUTES), "a new route needs its roles in ROUTES"
    case_id, reference = lodge(clean_app, "LRN-ROLES-1")
    anonymous = clean_app.test_client()
    for username in ("officer", "supervisor", "admin", "trader", None):
        client, token = browser(clean_app, username) if username else (anonymous, "")
        role = ROLES.get(username or "")
        for rule in clean_app.url_map.iter_rules():
            allowed = ROUTES.get(rule.endpoint, "skip")
            if allowed == "skip" or allowed is None:
                continue
            path = rule.build({"case_id": case_id, "answer_id": 1, "user_id": accounts["officer2"],
                               "reference": reference, "search_id": 1, "consignment_id": 1,
                               "kind": "CRN", "identifier": "HK26C0000000001"}, append_unknown=False)[1]
            if "GET" in rule.methods:
                response = client.get(path)
            else:
                if not token:
                    token = csrf_token(client.get("/login").text)
                response = client.post(path, data={"csrf_token": token})
            where = f"{rule.endpoint} as {username or 'anonymous'}"
            if username is None:
                assert response.status_code == 302 and "/login" in response.headers["Location"], where
            elif role in allowed:
                assert response.status_code not in (401, 403), where
                assert "/login" not in response.headers.get("Location", ""), where
            elif response.status_code == 302:  # a trader's queue link leads to the traders' portal
                assert rule.endpoint == "officer.queue" and role == "trader", where
                assert not response.headers["Location"].startswith(("/officer", "/login")), where
            else:
                assert response.status_code == 403, where
                assert 'data-code="FORBIDDEN"' in response.text, where


def test_posts_without_the_csrf_token_are_refused_but_the_api_needs_none(clean_app: Flask,
                                                                         accounts: dict[str, int]) -> None:
    case_id, _ = lodge(clean_app, "LRN-CSRF-1")
    client, _token = browser(clean_app, "officer")
    response = client.post(f"/officer/cases/{case_id}/claim")
    assert response.status_code == 400
    assert 'data-code="CSRF_INVALID"' in response.text
    assert case_row(clean_app, case_id).assigned_to_id is None
    # the same browser (session cookie and all) posting to the API needs its bearer key, no token
    api = client.post("/api/v1/declarations", data=declaration_xml(lrn="LRN-CSRF-API"), headers=auth(TRADER_KEY))
    assert api.status_code in (201, 202)


# --- the queue ----------------------------------------------------------------------------

def test_queue_puts_the_riskiest_case_first_and_filters(clean_app: Flask, accounts: dict[str, int]) -> None:
    low, _ = lodge(clean_app, "LRN-Q-LOW", lane="yellow", risk=10)
    high, _ = lodge(clean_app, "LRN-Q-HIGH", lane="red", risk=90)
    rich, _ = lodge(clean_app, "LRN-Q-RICH", lane="yellow", risk=10, revenue="250000", control_point="HKSWC")
    client, token = browser(clean_app, "officer")
    page = client.get("/officer/")
    assert queue_ids(page.text) == [high, rich, low]
    assert queue_ids(client.get("/officer/?lane=yellow").text) == [rich, low]
    assert queue_ids(client.get("/officer/?control_point=HKSWC").text) == [rich]
    assert queue_ids(client.get("/officer/?type=EX").text) == []
    client.post(f"/officer/cases/{low}/claim", data={"csrf_token": token})
    assert queue_ids(client.get("/officer/?mine=1").text) == [low]
    assert client.get("/officer/?page=0").status_code == 404


def test_lodging_a_declaration_with_a_hold_finding_opens_its_case(clean_app: Flask,
                                                                  accounts: dict[str, int]) -> None:
    """The intake pipeline opens the case itself (no help from the test): a goods item that
    repeats another in every detail is held (R204) for an officer."""
    twice = goods_item_xml(1) + goods_item_xml(1).replace("<SequenceNumeric>1<", "<SequenceNumeric>2<")
    response = clean_app.test_client().post(
        "/api/v1/declarations", data=declaration_xml(lrn="LRN-HOLD-1", goods=twice),
        headers=auth(TRADER_KEY, "application/json"))
    assert response.status_code == 202, response.text
    declaration_id = response.get_json()["declaration_id"]
    client, _token = browser(clean_app, "officer")
    with clean_app.extensions["csw"].sessions() as session:
        case = session.scalar(select(Case).where(Case.declaration_id == declaration_id))
        assert case is not None and case.state == "open"
        assert "R204" in [reason["code"] for reason in case.reasons]
    assert case.id in queue_ids(client.get("/officer/").text)
    assert "R204" in client.get(f"/officer/cases/{case.id}").text


def test_queue_pages_without_counting_everything(clean_app: Flask, accounts: dict[str, int]) -> None:
    with clean_app.extensions["csw"].sessions() as session, session.begin():
        now = datetime.now(timezone.utc)
        for number in range(3):
            case = cases.open_case_for_alert(session, alert_id=900 + number, journey_id=f"TJ26{number:010X}",
                                             declaration_id=None, kind="tamper", occurred_at=now, evidence={},
                                             actor="test")
            assert case.id
    with clean_app.extensions["csw"].sessions() as session:
        first = cases.queue_page(session, cases.QueueFilter(), page=1, per_page=2)
        second = cases.queue_page(session, cases.QueueFilter(), page=2, per_page=2)
    assert len(first.cases) == 2 and first.has_next
    assert len(second.cases) == 1 and not second.has_next
    with clean_app.extensions["csw"].sessions() as session:
        assert cases.queue_counts(session, cap=2)["open"] == 2
        assert cases.queue_counts(session)["open"] == 3


def test_a_transit_alert_opens_one_urgent_case(clean_app: Flask, accounts: dict[str, int]) -> None:
    now = datetime.now(timezone.utc)
    with clean_app.extensions["csw"].sessions() as session, session.begin():
        first = cases.open_case_for_alert(session, alert_id=7, journey_id="TJ260000000ABC", declaration_id=None,
                                          kind="route_deviation", occurred_at=now,
                                          evidence={"distance_m": 812.5, "at": now}, actor="job:elock")
        again = cases.open_case_for_alert(session, alert_id=7, journey_id="TJ260000000ABC", declaration_id=None,
                                          kind="route_deviation", occurred_at=now, evidence={}, actor="job:elock")
        assert again.id == first.id
        case_id = first.id
    client, _token = browser(clean_app, "officer")
    assert queue_ids(client.get("/officer/?alert_kind=route_deviation").text) == [case_id]
    view = client.get(f"/officer/cases/{case_id}")
    assert "route_deviation" in view.text and "TJ260000000ABC" in view.text


# --- claiming -----------------------------------------------------------------------------

def test_a_second_officer_is_told_who_has_the_case(clean_app: Flask, accounts: dict[str, int]) -> None:
    case_id, _ = lodge(clean_app, "LRN-CLAIM-1")
    first, first_token = browser(clean_app, "officer")
    second, second_token = browser(clean_app, "officer2")
    assert first.post(f"/officer/cases/{case_id}/claim", data={"csrf_token": first_token}).status_code == 302
    refused = second.post(f"/officer/cases/{case_id}/claim", data={"csrf_token": second_token}, follow_redirects=True)
    assert refused.status_code == 409
    assert 'data-code="ALREADY_CLAIMED"' in refused.text
    assert "Officer Test (officer)" in refused.text
    assert case_row(clean_app, case_id).assigned_to_id == accounts["officer"]
    not_theirs = second.post(f"/officer/cases/{case_id}/decision",
                             data={"csrf_token": second_token, "decision": "release"}, follow_redirects=True)
    assert not_theirs.status_code == 409 and 'data-code="NOT_YOUR_CASE"' in not_theirs.text


def test_two_officers_racing_for_a_case_one_wins(clean_app: Flask, accounts: dict[str, int]) -> None:
    """Both claim at the same moment, each in its own transaction: exactly one gets the case,
    the other is told who has it."""
    case_id, _ = lodge(clean_app, "LRN-RACE-1")
    sessions = clean_app.extensions["csw"].sessions
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    with sessions() as session:
        users = {user.username: user for user in session.scalars(select(User))}
        session.expunge_all()

    def race(username: str) -> None:
        user = users[username]
        barrier.wait(timeout=30)
        with sessions() as session:
            try:
                cases.claim(session, case_id, user)
                session.commit()
                outcomes[username] = "claimed"
            except cases.AlreadyClaimed as exc:
                session.rollback()
                outcomes[username] = exc.holder

    threads = [threading.Thread(target=race, args=(name,)) for name in ("officer", "officer2")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    winners = [name for name, outcome in outcomes.items() if outcome == "claimed"]
    assert len(winners) == 1 and len(outcomes) == 2
    loser = "officer2" if winners == ["officer"] else "officer"
    assert outcomes[loser] == f"{winners[0].title()} Test ({winners[0]})"
    assert case_row(clean_app, case_id).assigned_to_id == accounts[winners[0]]
    with sessions() as session:
        claims = session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id,
                                                         CaseEvent.kind == "claimed")).all()
    assert len(claims) == 1


def test_supervisor_reassigns_with_a_reason(clean_app: Flask, accounts: dict[str, int]) -> None:
    case_id, _ = lodge(clean_app, "LRN-REASSIGN-1")
    officer, token = browser(clean_app, "officer")
    officer.post(f"/officer/cases/{case_id}/claim", data={"csrf_token": token})
    supervisor, super_token = browser(clean_app, "supervisor")
    missing = supervisor.post(f"/officer/cases/{case_id}/reassign",
                              data={"csrf_token": super_token, "assignee": "officer2", "reason": ""},
                              follow_redirects=True)
    assert missing.status_code == 422 and 'data-field="reason"' in missing.text
    unknown = supervisor.post(f"/officer/cases/{case_id}/reassign",
                              data={"csrf_token": super_token, "assignee": "admin", "reason": "leave"},
                              follow_redirects=True)
    assert unknown.status_code == 422 and 'data-code="UNKNOWN_OFFICER"' in unknown.text
    done = supervisor.post(f"/officer/cases/{case_id}/reassign",
                           data={"csrf_token": super_token, "assignee": "officer2", "reason": "officer on leave"})
    assert done.status_code == 302
    assert case_row(clean_app, case_id).assigned_to_id == accounts["officer2"]
    forbidden = officer.post(f"/officer/cases/{case_id}/reassign",
                             data={"csrf_token": token, "assignee": "officer", "reason": "mine"})
    assert forbidden.status_code == 403


MOVEMENT = "<MovementDateTime>2026-11-19T08:00:00+08:00</MovementDateTime>"


def test_unclaimed_cases_escalate(clean_app: Flask, accounts: dict[str, int]) -> None:
    old, _ = lodge(clean_app, "LRN-ESC-OLD", risk=20,
                   body=declaration_xml(lrn="LRN-ESC-OLD", consignment_extra=MOVEMENT))
    fresh, _ = lodge(clean_app, "LRN-ESC-NEW", risk=20)
    with clean_app.extensions["csw"].sessions() as session, session.begin():
        session.get(Case, old).opened_at = datetime.now(timezone.utc) - timedelta(minutes=45)
    before = case_row(clean_app, old).priority
    run = run_job(clean_app.extensions["csw"].database, "case-escalation", JOBS["case-escalation"])
    assert run is not None and run.outcome == "ok" and run.detail == {"escalated": 1, "case_ids": [old]}
    escalated = case_row(clean_app, old)
    assert escalated.escalation_level == 1 and escalated.priority > before
    assert case_row(clean_app, fresh).escalation_level == 0
    with clean_app.extensions["csw"].sessions() as session, session.begin():
        again = case_escalation(session, datetime.now(timezone.utc).date())
    assert again["escalated"] == 0
    client, _token = browser(clean_app, "officer")
    assert queue_ids(client.get("/officer/").text)[0] == old


def test_a_transit_alert_joins_the_declarations_case(clean_app: Flask, accounts: dict[str, int]) -> None:
    case_id, declaration_id = lodge(clean_app, "LRN-ALERT-1", lane="yellow", risk=30)
    before = case_row(clean_app, case_id)
    occurred = datetime.now(timezone.utc)
    with clean_app.extensions["csw"].sessions() as session, session.begin():
        for _ in range(2):
            joined = cases.open_case_for_alert(session, alert_id=41, journey_id="TJ260000000ABD",
                                               declaration_id=declaration_id, kind="tamper", occurred_at=occurred,
                                               evidence={"seal": "broken"}, actor="transit")
            assert joined.id == case_id
    after = case_row(clean_app, case_id)
    assert [r["code"] for r in after.reasons] == ["yellow", "tamper"]
    assert after.alert_kind == "tamper" and after.priority > before.priority
    with clean_app.extensions["csw"].sessions() as session:
        kinds = session.scalars(select(CaseEvent.kind).where(CaseEvent.case_id == case_id)
                                .order_by(CaseEvent.id)).all()
    assert kinds == ["opened", "alert"]


# --- decisions ----------------------------------------------------------------------------

def test_release_closes_the_case_and_releases_the_declaration(clean_app: Flask, accounts: dict[str, int]) -> None:
    case_id, declaration_id = lodge(clean_app, "LRN-RELEASE-1")
    client, token = browser(clean_app, "officer")
    before = client.post(f"/officer/cases/{case_id}/decision", data={"csrf_token": token, "decision": "release"},
                         follow_redirects=True)
    assert before.status_code == 409 and 'data-code="NOT_YOUR_CASE"' in before.text
    client.post(f"/officer/cases/{case_id}/claim", data={"csrf_token": token})
    response = client.post(f"/officer/cases/{case_id}/decision",
                           data={"csrf_token": token, "decision": "release", "reason": "documents in order"})
    assert response.status_code == 302
    assert case_row(clean_app, case_id).state == "closed"
    status = declaration_status(clean_app, declaration_id)
    assert status["status"] == "released"
    released = [e for e in status["history"] if e["kind"] == "released"]
    assert released and released[0]["actor"] == "officer:officer"
    assert case_id not in queue_ids(client.get("/officer/").text)
    again = client.post(f"/officer/cases/{case_id}/decision", data={"csrf_token": token, "decision": "refuse",
                                                                    "reason": "x"}, follow_redirects=True)
    assert again.status_code == 409 and 'data-code="DECISION_NOT_ALLOWED"' in again.text


def test_a_release_decision_routes_the_release_notice(clean_app: Flask, accounts: dict[str, int]) -> None:
    """The officer's release is the change that routes: the party's subscriber gets a
    ReleaseNotice in the same transaction, and the trader's portal offers it."""
    from app.db.routing_models import OutboxMessage
    from app.routing.subscribers import add_subscriber

    with clean_app.extensions["csw"].sessions() as session, session.begin():
        add_subscriber(session, "trader-systems", "party", "pull", party_identifier=TRADER_BRN, actor="test")
    case_id, declaration_id = lodge(clean_app, "LRN-NOTICE-1", lane="yellow")
    client, token = browser(clean_app, "officer")
    client.post(f"/officer/cases/{case_id}/claim", data={"csrf_token": token})
    with clean_app.extensions["csw"].sessions() as session:
        assert session.scalars(select(OutboxMessage.message_type)).all() == []
    client.post(f"/officer/cases/{case_id}/decision",
                data={"csrf_token": token, "decision": "release", "reason": "invoice checked"})
    with clean_app.extensions["csw"].sessions() as session:
        notices = session.scalars(select(OutboxMessage).where(OutboxMessage.message_type == "release_notice")).all()
        assert [n.subject for n in notices] == [f"declaration:{declaration_id}"]
        assert declaration_id.encode() in notices[0].body and b"ReleaseNotice" in notices[0].body
    trader, _token = browser(clean_app, "trader")
    page = trader.get(f"/trader/declarations/{declaration_id}").text
    assert 'id="release-notice"' in page and "invoice checked" in page
    notice = trader.get(f"/trader/declarations/{declaration_id}/release-notice")
    assert notice.status_code == 200 and b"ReleaseNotice" in notice.data


def test_inspection_with_a_discrepancy_feeds_the_risk_module(clean_app: Flask, accounts: dict[str, int]) -> None:
    case_id, declaration_id = lodge(clean_app, "LRN-INSPECT-1")
    client, token = browser(clean_app, "officer")
    client.post(f"/officer/cases/{case_id}/claim", data={"csrf_token": token})
    early = client.post(f"/officer/cases/{case_id}/inspection",
                        data={"csrf_token": token, "result": "discrepancy", "revenue_recovered": "10"},
                        follow_redirects=True)
    assert early.status_code == 409 and 'data-code="NO_INSPECTION"' in early.text
    ordered = client.post(f"/officer/cases/{case_id}/decision",
                          data={"csrf_token": token, "decision": "inspect", "reason": "seal number differs"})
    assert ordered.status_code == 302
    assert declaration_status(clean_app, declaration_id)["status"] == "under_review"
    bad = client.post(f"/officer/cases/{case_id}/inspection",
                      data={"csrf_token": token, "result": "discrepancy", "revenue_recovered": "-5"},
                      follow_redirects=True)
    assert bad.status_code == 422 and 'data-field="revenue_recovered"' in bad.text
    recorded = client.post(f"/officer/cases/{case_id}/inspection", data={
        "csrf_token": token, "result": "discrepancy", "revenue_recovered": "1234.50",
        "notes": "12 cartons more than declared"})
    assert recorded.status_code == 302
    case = case_row(clean_app, case_id)
    assert (case.state, case.inspection_result, case.revenue_recovered) == ("claimed", "discrepancy",
                                                                             Decimal("1234.50"))
    from app.db.risk_models import InspectionOutcome

    with clean_app.extensions["csw"].sessions() as session:
        outcome = session.scalar(select(InspectionOutcome).where(InspectionOutcome.declaration_id == declaration_id))
        assert outcome is not None
        assert (outcome.result, outcome.revenue_recovered) == ("discrepancy", Decimal("1234.50"))
    view = client.get(f"/officer/cases/{case_id}")
    assert "12 cartons more than declared" in view.text
    refused = client.post(f"/officer/cases/{case_id}/decision",
                          data={"csrf_token": token, "decision": "refuse", "reason": "undeclared goods"})
    assert refused.status_code == 302
    assert declaration_status(clean_app, declaration_id)["status"] == "refused"


def test_reroute_needs_a_reason_and_changes_the_lane(clean_app: Flask, accounts: dict[str, int]) -> None:
    case_id, declaration_id = lodge(clean_app, "LRN-REROUTE-1", lane="yellow")
    client, token = browser(clean_app, "officer")
    client.post(f"/officer/cases/{case_id}/claim", data={"csrf_token": token})
    missing = client.post(f"/officer/cases/{case_id}/decision",
                          data={"csrf_token": token, "decision": "reroute", "lane": "red"}, follow_redirects=True)
    assert missing.status_code == 422 and 'data-code="REASON_REQUIRED"' in missing.text
    same = client.post(f"/officer/cases/{case_id}/decision",
                       data={"csrf_token": token, "decision": "reroute", "lane": "yellow", "reason": "x"},
                       follow_redirects=True)
    assert same.status_code == 422 and 'data-code="LANE_UNCHANGED"' in same.text
    done = client.post(f"/officer/cases/{case_id}/decision",
                       data={"csrf_token": token, "decision": "reroute", "lane": "red",
                             "reason": "intelligence report 41"})
    assert done.status_code == 302
    assert case_row(clean_app, case_id).lane == "red"
    status = declaration_status(clean_app, declaration_id)
    assert status["lane"] == "red"
    assert any(e["kind"] == "lane_changed" and "intelligence report 41" in e["note"] for e in status["history"])


def test_requested_documents_reach_the_trader_and_an_amendment_answers(clean_app: Flask,
                                                                      accounts: dict[str, int]) -> None:
    case_id, declaration_id = lodge(clean_app, "LRN-DOCS-1", lane="yellow")
    client, token = browser(clean_app, "officer")
    client.post(f"/officer/cases/{case_id}/claim", data={"csrf_token": token})
    response = client.post(f"/officer/cases/{case_id}/decision", data={
        "csrf_token": token, "decision": "request_documents", "documents": "commercial invoice",
        "reason": "value looks low"})
    assert response.status_code == 302
    status = declaration_status(clean_app, declaration_id)
    assert status["status"] == "under_review"
    assert any(e["kind"] == "documents_requested" and "commercial invoice" in e["note"] for e in status["history"])
    assert case_row(clean_app, case_id).state == "awaiting_documents"
    amended = clean_app.test_client().post(
        f"/api/v1/declarations/{declaration_id}/amendments",
        data=declaration_xml(lrn="LRN-DOCS-1", function_code="13", value="2400.00"), headers=auth(TRADER_KEY))
    assert amended.status_code in (200, 201, 202), amended.text
    case = case_row(clean_app, case_id)
    assert case.state == "claimed" and case.assigned_to_id == accounts["officer"]
    with clean_app.extensions["csw"].sessions() as session:
        request = session.scalar(select(DocumentRequest).where(DocumentRequest.case_id == case_id))
        assert request is not None and request.answered_at is not None


def test_notes_are_kept_in_the_history(clean_app: Flask, accounts: dict[str, int]) -> None:
    case_id, _ = lodge(clean_app, "LRN-NOTE-1")
    client, token = browser(clean_app, "officer")
    empty = client.post(f"/officer/cases/{case_id}/notes", data={"csrf_token": token, "note": "  "},
                        follow_redirects=True)
    assert empty.status_code == 422
    assert client.post(f"/officer/cases/{case_id}/notes",
                       data={"csrf_token": token, "note": "called the broker <b>twice</b>"}).status_code == 302
    view = client.get(f"/officer/cases/{case_id}")
    assert "called the broker &lt;b&gt;twice&lt;/b&gt;" in view.text
    with clean_app.extensions["csw"].sessions() as session:
        kinds = session.scalars(select(CaseEvent.kind).where(CaseEvent.case_id == case_id)
                                .order_by(CaseEvent.id)).all()
    assert kinds == ["opened", "note"]


def test_case_view_shows_declaration_findings_duty_and_history(clean_app: Flask, accounts: dict[str, int]) -> None:
    case_id, declaration_id = lodge(clean_app, "LRN-VIEW-1", revenue="1500")
    client, _token = browser(clean_app, "officer")
    view = client.get(f"/officer/cases/{case_id}")
    assert view.status_code == 200
    for expected in (declaration_id, "Demo Trading Company Limited", "85171300", "Smartphones, model 1",
                     "HK$1,500.00", "Rule findings", "Duty computed", "AEO status and benefits", "submitted"):
        assert expected in view.text, expected
    assert client.get("/officer/cases/999999").status_code == 404
    licensed, _ = lodge(clean_app, "DTC-IM-2026-000105", body=sample("valid/import-with-licence.xml"))
    assert "IL SC-IL-2026-004517" in client.get(f"/officer/cases/{licensed}").text


# --- dashboard and language ---------------------------------------------------------------

def test_dashboard_shows_hit_rates_and_clearance(clean_app: Flask, accounts: dict[str, int]) -> None:
    inspected, _ = lodge(clean_app, "LRN-DASH-1")
    released, _ = lodge(clean_app, "LRN-DASH-2")
    sampled, sampled_declaration = lodge(clean_app, "LRN-DASH-3")
    with clean_app.extensions["csw"].sessions() as session, session.begin():
        session.get(Case, sampled).selection = "random"  # sent to its lane as a random sample
    client, token = browser(clean_app, "officer")
    for case_id in (inspected, released, sampled):
        client.post(f"/officer/cases/{case_id}/claim", data={"csrf_token": token})
    for case_id, result in ((inspected, "seizure"), (sampled, "no_discrepancy")):
        client.post(f"/officer/cases/{case_id}/decision", data={"csrf_token": token, "decision": "inspect"})
        client.post(f"/officer/cases/{case_id}/inspection",
                    data={"csrf_token": token, "result": result, "revenue_recovered": "0"})
    client.post(f"/officer/cases/{released}/decision", data={"csrf_token": token, "decision": "release"})
    from app.db.risk_models import InspectionOutcome

    with clean_app.extensions["csw"].sessions() as session:
        outcome = session.scalar(select(InspectionOutcome).where(
            InspectionOutcome.declaration_id == sampled_declaration))
        assert outcome is not None and outcome.random_sample is True  # training data keeps the sample apart
    with clean_app.extensions["csw"].sessions() as session, session.begin():  # a month ago: outside the window
        session.add(InspectionOutcome(declaration_id=sampled_declaration, version=1, result="seizure",
                                      revenue_recovered=Decimal("0"), random_sample=True, lane="red", score=50,
                                      actor="officer:officer",
                                      occurred_at=datetime.now(timezone.utc) - timedelta(days=30)))
    supervisor, _ = browser(clean_app, "supervisor")
    page = supervisor.get("/officer/dashboard")
    assert page.status_code == 200
    assert page.text.count("<svg") == 5
    assert re.search(r'class="hit-targeted">100%<', page.text)
    assert re.search(r'class="hit-random">0%<', page.text)
    assert re.search(r'class="clearance-median">\d+ min<', page.text)


def test_language_switches_per_user(clean_app: Flask, accounts: dict[str, int]) -> None:
    client, token = browser(clean_app, "officer")
    assert "Case queue" in client.get("/officer/").text
    response = client.post("/officer/locale", data={"csrf_token": token, "locale": "zh_Hant", "next": "/officer/"})
    assert response.status_code == 302
    assert "案件隊列" in client.get("/officer/").text
    with clean_app.extensions["csw"].sessions() as session:
        assert session.get(User, accounts["officer"]).locale == "zh_Hant"
    other, _ = browser(clean_app, "officer2")
    assert "Case queue" in other.get("/officer/").text
    bad = client.post("/officer/locale", data={"csrf_token": token, "locale": "fr"}, follow_redirects=True)
    assert bad.status_code == 400


def test_times_are_shown_in_hong_kong_time(clean_app: Flask, accounts: dict[str, int]) -> None:
    movement = datetime(2026, 11, 25, 23, 30, tzinfo=timezone.utc)
    case_id, _ = lodge(clean_app, "LRN-HKT-1", movement=movement)
    client, _token = browser(clean_app, "officer")
    assert "2026-11-26 07:30" in client.get(f"/officer/cases/{case_id}").text


def test_a_case_deadline_is_never_before_its_opening(clean_app: Flask, accounts: dict[str, int]) -> None:
    """A movement still ahead is the case's deadline, shown with its year; goods that moved
    before the case opened set none (the declaration follows the movement, rule R305), so no
    deadline is ever earlier than the opening."""
    ahead = datetime.now(timezone.utc) + timedelta(minutes=40)
    case_id, _ = lodge(clean_app, "LRN-MOVE-AHEAD", movement=ahead)
    case = case_row(clean_app, case_id)
    assert case.deadline_at is not None and case.deadline_at > case.opened_at
    client, _token = browser(clean_app, "officer")
    page = client.get(f"/officer/cases/{case_id}").text
    assert re.search(r"Deadline <time class=\"deadline\" datetime=\"[^\"]+\">20\d\d-\d\d-\d\d \d\d:\d\d HKT</time>",
                     page)
    past_id, _ = lodge(clean_app, "LRN-PAST-MOVE", movement=datetime.now(timezone.utc) - timedelta(days=1))
    assert case_row(clean_app, past_id).deadline_at is None


# --- accounts -----------------------------------------------------------------------------

def test_admin_creates_accounts_on_the_page(clean_app: Flask, accounts: dict[str, int]) -> None:
    client, token = browser(clean_app, "admin")
    short = client.post("/officer/users", data={"csrf_token": token, "username": "newbie", "role": "officer",
                                                "password": "short"}, follow_redirects=True)
    assert short.status_code == 422
    assert "Initial password: Enter 10 to 200 characters." in short.text  # the field named by its label
    taken = client.post("/officer/users", data={"csrf_token": token, "username": "officer", "role": "officer",
                                                "password": "long-enough-password"}, follow_redirects=True)
    assert taken.status_code == 422 and "this username is taken" in taken.text
    no_party = client.post("/officer/users", data={"csrf_token": token, "username": "clerk", "role": "trader",
                                                   "party": "99999999", "password": "long-enough-password"},
                                                   follow_redirects=True)
    assert no_party.status_code == 422 and "no company with this number is known" in no_party.text
    made = client.post("/officer/users", data={"csrf_token": token, "username": "newbie", "role": "officer",
                                               "password": "long-enough-password"})
    assert made.status_code == 302 and made.headers["Location"].startswith("/officer/users/")
    trader = client.post("/officer/users", data={"csrf_token": token, "username": "clerk", "role": "trader",
                                                 "party": TRADER_BRN, "locale": "zh_Hant",
                                                 "password": "long-enough-password"})
    assert trader.status_code == 302
    assert "Demo Trading Company Limited (12345678)" in client.get(trader.headers["Location"]).text
    newbie = clean_app.test_client()
    page = newbie.get("/login")
    assert newbie.post("/login", data={"username": "newbie", "password": "long-enough-password",
                                       "csrf_token": csrf_token(page.text)}).status_code == 302


def test_admin_deactivates_an_account_with_a_reason_and_it_is_signed_out(clean_app: Flask,
                                                                          accounts: dict[str, int]) -> None:
    officer, _officer_token = browser(clean_app, "officer")
    assert officer.get("/officer/").status_code == 200
    admin, token = browser(clean_app, "admin")
    account = f"/officer/users/{accounts['officer']}"
    no_reason = admin.post(f"{account}/active", data={"csrf_token": token, "active": "0", "reason": ""})
    assert no_reason.status_code == 302 and no_reason.headers["Location"] == account
    assert "Reason: This is required." in admin.get(account).text
    done = admin.post(f"{account}/active", data={"csrf_token": token, "active": "0", "reason": "left the service"})
    assert done.status_code == 302
    assert "/login" in officer.get("/officer/").headers["Location"], "a deactivated account is signed out"
    again = admin.post(f"{account}/active", data={"csrf_token": token, "active": "0", "reason": "twice"})
    assert "The account is already in that state." in admin.get(again.headers["Location"]).text
    own = admin.post(f"/officer/users/{accounts['admin']}/active",
                     data={"csrf_token": token, "active": "0", "reason": "oops"})
    assert "cannot deactivate their own account" in admin.get(own.headers["Location"]).text
    with clean_app.extensions["csw"].sessions() as session:
        history = session.execute(select(UserEvent.kind, UserEvent.actor, UserEvent.note)
                                  .where(UserEvent.user_id == accounts["officer"]).order_by(UserEvent.id)).all()
    assert [tuple(row) for row in history] == [("deactivated", "officer:admin", "left the service")]
    page = admin.get(account).text
    assert "deactivated" in page and "officer admin" in page and "left the service" in page


def test_admin_changes_a_role_and_resets_a_password(clean_app: Flask, accounts: dict[str, int]) -> None:
    admin, token = browser(clean_app, "admin")
    account = f"/officer/users/{accounts['officer2']}"
    promoted = admin.post(f"{account}/role", data={"csrf_token": token, "role": "supervisor", "reason": "promoted"})
    assert "Role changed to supervisor." in admin.get(promoted.headers["Location"]).text
    admin.post(f"{account}/password", data={"csrf_token": token, "password": "short", "reason": "forgotten"})
    assert "New password: Enter 10 to 200 characters." in admin.get(account).text
    reset = admin.post(f"{account}/password", data={"csrf_token": token, "password": "a-brand-new-password",
                                                    "reason": "forgotten"})
    assert "Password reset" in admin.get(reset.headers["Location"]).text
    fresh = clean_app.test_client()
    signed = fresh.post("/login", data={"username": "officer2", "password": "a-brand-new-password",
                                        "csrf_token": csrf_token(fresh.get("/login").text)})
    assert signed.status_code == 302
    with clean_app.extensions["csw"].sessions() as session:
        kinds = session.scalars(select(UserEvent.kind).where(UserEvent.user_id == accounts["officer2"])
                                .order_by(UserEvent.id)).all()
    assert kinds == ["role_changed", "password_reset"]


def test_cli_changes_accounts_and_shows_their_history(clean_app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CSW_DATABASE_URL", clean_app.extensions["csw"].settings.database_url)
    runner = CliRunner()
    assert runner.invoke(cli, ["users", "create", "--username", "yeung", "--role", "officer", "--password-stdin"],
                         input="a-very-long-password\n").exit_code == 0
    promoted = runner.invoke(cli, ["users", "set-role", "yeung", "--role", "supervisor", "--reason", "promotion"])
    assert promoted.exit_code == 0, promoted.output
    no_reason = runner.invoke(cli, ["users", "deactivate", "yeung"])
    assert no_reason.exit_code == 2 and "--reason" in no_reason.output
    assert runner.invoke(cli, ["users", "deactivate", "yeung", "--reason", "on leave"]).exit_code == 0
    reset = runner.invoke(cli, ["users", "reset-password", "yeung", "--reason", "forgotten", "--password-stdin"],
                          input="another-long-password\n")
    assert reset.exit_code == 0, reset.output
    unknown = runner.invoke(cli, ["users", "reactivate", "nobody", "--reason", "x"])
    assert unknown.exit_code == 2 and "no account nobody" in unknown.output
    history = runner.invoke(cli, ["users", "history", "yeung"]).output.splitlines()
    assert [line.split("\t")[1] for line in history] == ["created", "role_changed", "deactivated", "password_reset"]
    assert runner.invoke(cli, ["users", "create", "--username", "boss", "--role", "admin", "--password-stdin"],
                         input="a-very-long-password\n").exit_code == 0
    last = runner.invoke(cli, ["users", "set-role", "boss", "--role", "officer", "--reason", "reorganisation"])
    assert last.exit_code == 2 and "last active administrator" in last.output
    assert "from=officer to=supervisor" in history[1] and history[2].endswith("on leave")
    assert "another-long-password" not in "\n".join(history)
    assert "yeung\tsupervisor" in runner.invoke(cli, ["users", "list"]).output


def test_cli_creates_users_from_stdin(clean_app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = clean_app.extensions["csw"].settings
    monkeypatch.setenv("CSW_DATABASE_URL", settings.database_url)
    runner = CliRunner()
    result = runner.invoke(cli, ["users", "create", "--username", "chan", "--role", "supervisor",
                                 "--password-stdin"], input="a-very-long-password\n")
    assert result.exit_code == 0, result.output
    assert "created supervisor account chan" in result.output
    again = runner.invoke(cli, ["users", "create", "--username", "chan", "--role", "officer", "--password-stdin"],
                          input="a-very-long-password\n")
    assert again.exit_code == 2 and "taken" in again.output
    weak = runner.invoke(cli, ["users", "create", "--username", "lee", "--role", "officer", "--password-stdin"],
                         input="short\n")
    assert weak.exit_code == 2 and "at least 10 characters" in weak.output
    wrong_role = runner.invoke(cli, ["users", "create", "--username", "ho", "--role", "boss", "--password-stdin"],
                               input="a-very-long-password\n")
    assert wrong_role.exit_code == 2
    listed = runner.invoke(cli, ["users", "list"])
    assert "chan\tsupervisor" in listed.output


def test_case_view_shows_the_elock_journey(clean_app: Flask, accounts: dict[str, int]) -> None:
    from app.db.transit_models import Journey
    from app.transit.service import seed_demo_fleet

    with clean_app.extensions["csw"].sessions() as session, session.begin():
        seed_demo_fleet(session, datetime.now(timezone.utc), clean_app.extensions["csw"].reference.network)
    response = clean_app.test_client().post("/api/v1/declarations", data=sample("valid/transhipment-elock.xml"),
                                            headers=auth(TRADER_KEY, "application/json"))
    assert response.status_code in (201, 202), response.text
    declaration_id = response.get_json()["declaration_id"]
    with clean_app.extensions["csw"].sessions() as session, session.begin():
        session.get(models.Declaration, declaration_id).lane = "red"
        case = cases.open_cases_for_declaration(session, declaration_id, actor="test")
        assert case is not None
        case_id = case.id
        journey_id = session.scalar(select(Journey.id).where(Journey.declaration_id == declaration_id))
    client, _token = browser(clean_app, "officer")
    view = client.get(f"/officer/cases/{case_id}")
    assert journey_id and f"E-lock journey {journey_id}" in view.text
    assert "EL-000123" in view.text and "registered" in view.text


def test_a_cancelled_declaration_leaves_the_queue(clean_app: Flask, accounts: dict[str, int]) -> None:
    case_id, declaration_id = lodge(clean_app, "LRN-CANCEL-1")
    response = clean_app.test_client().post(
        f"/api/v1/declarations/{declaration_id}/cancellation", json={"reason": "order withdrawn by buyer"},
        headers={"Authorization": f"Bearer {TRADER_KEY}", "Accept": "application/json"})
    assert response.status_code == 200
    case = case_row(clean_app, case_id)
    assert (case.state, case.decision) == ("closed", "declaration_cancelled")
    client, _token = browser(clean_app, "officer")
    assert case_id not in queue_ids(client.get("/officer/").text)
    assert "order withdrawn by buyer" in client.get(f"/officer/cases/{case_id}").text


def test_the_traders_answer_and_attachment_reach_the_officer(clean_app: Flask, accounts: dict[str, int]) -> None:
    """Officer asks for documents; the trader sees the request in the portal and answers
    there with an attachment; the case goes back to its officer, who opens the attachment."""
    case_id, declaration_id = lodge(clean_app, "LRN-ANSWER-1", lane="yellow")
    other_case, _ = lodge(clean_app, "LRN-ANSWER-2", lane="yellow")
    client, token = browser(clean_app, "officer")
    client.post(f"/officer/cases/{case_id}/claim", data={"csrf_token": token})
    client.post(f"/officer/cases/{case_id}/decision", data={
        "csrf_token": token, "decision": "request_documents", "documents": "packing list", "reason": "weights"})
    trader, trader_token = browser(clean_app, "trader")
    page = trader.get(f"/trader/declarations/{declaration_id}").text
    assert "packing list" in page and "weights" in page
    request_id = int(re.search(r'id="request-(\d+)"', page).group(1))
    png = b"\x89PNG\r\n\x1a\n" + b"0" * 64
    sent = trader.post(f"/trader/declarations/{declaration_id}/requests/{request_id}/answer",
                       data={"csrf_token": trader_token, "message": "packing list attached",
                             "attachment": (io.BytesIO(png), "packing list.png")},
                       content_type="multipart/form-data")
    assert sent.status_code == 302
    back = case_row(clean_app, case_id)  # the answer alone hands the case back to its officer
    assert (back.state, back.assigned_to_id) == ("claimed", accounts["officer"])
    with clean_app.extensions["csw"].sessions() as session:
        kinds = session.scalars(select(CaseEvent.kind).where(CaseEvent.case_id == case_id)
                                .order_by(CaseEvent.id)).all()
        assert kinds[-1] == "documents_answered"
        answer_id = session.scalar(select(DocumentRequestAnswer.id).where(
            DocumentRequestAnswer.request_id == request_id))
    view = client.get(f"/officer/cases/{case_id}")
    assert "packing list attached" in view.text
    link = f"/officer/cases/{case_id}/answers/{answer_id}/attachment"
    assert link in view.text
    download = client.get(link)
    assert download.status_code == 200 and download.data == png
    assert download.mimetype == "image/png"
    assert download.headers["Content-Disposition"] == (
        "attachment; filename=\"packing_list.png\"; filename*=UTF-8''packing%20list.png")
    assert client.get(f"/officer/cases/{other_case}/answers/{answer_id}/attachment").status_code == 404
