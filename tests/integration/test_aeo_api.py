"""The AEO registry on every database backend: the service use cases (import, status
changes, look-up, standings, expiry) and the ``/api/v1/aeo`` endpoints."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from lxml import etree
from sqlalchemy import event, func, select

from app import create_app
from app.aeo import service
from app.reference.mra import load_mra_partners
from app.aeo.registry import RegistryError, readmission_bar_ends
from app.config import Settings
from app.db import models
from app.domain.time import HONG_KONG
from app.users.clients import create_client, ensure_party
from tests.conftest import OTHER_KEY, TRADER_KEY

NS = {"r": "urn:csw:response:v1"}
API = "/api/v1/aeo/operators"
ADMIN_KEY = "csw_test_admin_key_00000000000000"
PARTNER_KEY = "csw_test_partner_key_000000000000"
MRA = load_mra_partners()
DAY = date(2026, 11, 22)  # the service tests' "today"
ACTOR = "test:officer"


# ------------------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def aeo_app(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """An app on the test database that looks every key up (no key cache)."""
    settings = Settings.from_env(database_url=database_url, instance_dir=tmp_path_factory.mktemp("aeo"),
                                 secret_key="test", log_level="WARNING", api_key_cache_seconds=0)
    app = create_app(settings)
    yield app
    app.extensions["csw"].engine.dispose()


@pytest.fixture()
def sessions(clean_app: Flask):  # type: ignore[no-untyped-def]
    return clean_app.extensions["csw"].sessions


@pytest.fixture()
def api(clean_app: Flask, aeo_app: Flask, sessions) -> FlaskClient:  # type: ignore[no-untyped-def]
    with sessions() as session, session.begin():
        customs = ensure_party(session, "00000001", "Customs and Excise Department")
        create_client(session, "aeo-admin", customs, key=ADMIN_KEY, role="admin")
        create_client(session, "partner-customs", customs, key=PARTNER_KEY, role="partner")
    return aeo_app.test_client()


def row(operator_id: str, status: str = "active", tier: str = "2", valid_from: str = "2025-04-01",
        valid_until: str = "2028-03-31", name: str | None = None, revoked_on: str = "") -> dict[str, str]:
    return {"operator_id": operator_id, "name": name or f"Operator {operator_id} Limited", "tier": tier,
            "status": status, "valid_from": valid_from, "valid_until": valid_until, "revoked_on": revoked_on}


def do_import(sessions, rows: list[dict[str, str]], today: date = DAY) -> service.ImportReport:  # type: ignore[no-untyped-def]
    with sessions() as session, session.begin():
        return service.import_operators(session, rows, ACTOR, today, MRA, source="test.csv")


def count(sessions, model: type) -> int:  # type: ignore[no-untyped-def]
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def history(sessions, operator_id: str) -> list[models.AeoStatusEvent]:  # type: ignore[no-untyped-def]
    with sessions() as session:
        operator = service.lookup(session, operator_id)
        assert operator is not None
        return list(operator.history)


def hk_today() -> date:
    return datetime.now(HONG_KONG).date()


# -------------------------------------------------------------------------------- import


SAMPLE = [
    row("12345678", name="Demo Trading Company Limited"),
    row("87654321", tier="1", valid_from="2024-07-15", valid_until="2027-07-14", name="Harbour Logistics Limited"),
    row("22334455", status="suspended", valid_until="2027-09-30"),
    row("55667788", status="revoked", valid_until="2026-04-30", revoked_on="2025-06-30"),
    row("44556677", status="expired", valid_from="2022-09-01", valid_until="2025-08-31"),
    row("CN4403960123", tier="1", valid_from="2024-03-01", valid_until="2027-02-28"),
]


def test_import_creates_operators_with_an_event_each(sessions) -> None:  # type: ignore[no-untyped-def]
    report = do_import(sessions, SAMPLE)
    assert report.created == [r["operator_id"] for r in SAMPLE]
    assert (report.updated, report.unchanged, report.rejected) == ([], [], [])
    with sessions() as session:
        demo = service.lookup(session, "12345678")
        assert (demo.country, demo.tier, demo.status, demo.valid_until) == ("HK", 2, "active", date(2028, 3, 31))
        assert service.lookup(session, "CN4403960123").country == "CN"
        assert service.lookup(session, "55667788").revoked_on == date(2025, 6, 30)
    events = history(sessions, "12345678")
    assert len(events) == 1
    assert (events[0].status_from, events[0].status_to, events[0].actor) == (None, "active", ACTOR)
    assert events[0].reason.startswith("imported from test.csv line 2: registered (active, tier 2")


def test_importing_the_same_rows_twice_creates_nothing_and_writes_no_event(sessions) -> None:  # type: ignore[no-untyped-def]
    do_import(sessions, SAMPLE)
    events, operators = count(sessions, models.AeoStatusEvent), count(sessions, models.AeoOperator)
    with sessions() as session:
        stamp = service.lookup(session, "12345678").updated_at
    again = do_import(sessions, SAMPLE)
    assert again.created == [] and again.updated == [] and again.rejected == []
    assert sorted(again.unchanged) == sorted(r["operator_id"] for r in SAMPLE)
    assert count(sessions, models.AeoStatusEvent) == events
    assert count(sessions, models.AeoOperator) == operators
    with sessions() as session:
        assert service.lookup(session, "12345678").updated_at == stamp


def test_a_changed_row_updates_the_operator_with_one_event_naming_the_changes(sessions) -> None:  # type: ignore[no-untyped-def]
    do_import(sessions, SAMPLE)
    report = do_import(sessions, [row("87654321", tier="2", valid_from="2024-07-15", valid_until="2027-07-14",
                                      name="Harbour Logistics Limited")])
    assert report.updated == ["87654321"]
    last = history(sessions, "87654321")[-1]
    assert (last.status_from, last.status_to) == ("active", "active")
    assert "line 2" in last.reason and "tier 1 -> 2" in last.reason


@pytest.mark.parametrize(("bad", "words"), [
    (row("12345678", tier="3"), "tier must be 1 or 2"),
    (row("12345678", valid_until="2028-02-30"), "valid_until must be a date"),
    (row("12345678", valid_from="2029-01-01"), "valid_until is before valid_from"),
    (row("12345678", status="dormant"), "status must be one of"),
    (row("1234567"), "not an AEO id"),
    (row("HK12345678"), "8-digit BR number"),
    (row("US123456789"), "US is not an MRA partner"),
    (row("JP12345"), "not in the id format of Japan Customs AEO Programme"),
    (row("12345678", valid_until="2026-11-21"), "import it as expired"),
    (row("12345678", status="expired"), "status expired but valid until"),
    (row("12345678", name=" "), "name must be 1 to 140 characters"),
    ({"operator_id": "12345678", "name": "No Dates Limited", "tier": "1", "status": "active"},
     "missing columns: valid_from, valid_until"),
])
def test_each_bad_row_is_rejected_with_its_line_and_reason(sessions, bad: dict[str, str], words: str) -> None:  # type: ignore[no-untyped-def]
    report = do_import(sessions, [row("87654321"), bad])
    assert report.created == ["87654321"]
    assert len(report.rejected) == 1
    rejected = report.rejected[0]
    assert rejected.line == 3 and words in rejected.reason, rejected.reason
    assert count(sessions, models.AeoOperator) == 1


def test_a_duplicate_id_in_one_file_is_rejected_at_its_second_line(sessions) -> None:  # type: ignore[no-untyped-def]
    report = do_import(sessions, [row("12345678"), row("12345678", tier="1")])
    assert report.created == ["12345678"]
    assert [(r.line, r.reason) for r in report.rejected] == [(3, "12345678 is already on line 2")]


def test_a_revoked_operator_cannot_be_imported_as_active_within_its_bar(sessions) -> None:  # type: ignore[no-untyped-def]
    do_import(sessions, SAMPLE)
    events = count(sessions, models.AeoStatusEvent)
    report = do_import(sessions, [row("55667788", valid_from="2026-11-01", valid_until="2029-10-31")],
                       today=date(2027, 6, 29))
    assert report.updated == [] and len(report.rejected) == 1
    assert "revoked on 2025-06-30" in report.rejected[0].reason
    assert "until 2027-06-30" in report.rejected[0].reason
    assert count(sessions, models.AeoStatusEvent) == events
    # on the day the bar ends, the same row re-admits it
    report = do_import(sessions, [row("55667788", valid_from="2027-06-30", valid_until="2030-06-29")],
                       today=date(2027, 6, 30))
    assert report.updated == ["55667788"]
    assert history(sessions, "55667788")[-1].status_from == "revoked"


def test_a_row_that_revokes_an_operator_starts_the_bar_on_the_import_day(sessions) -> None:  # type: ignore[no-untyped-def]
    do_import(sessions, SAMPLE)
    report = do_import(sessions, [row("12345678", status="revoked", name="Demo Trading Company Limited")])
    assert report.updated == ["12345678"]
    with sessions() as session:
        assert service.lookup(session, "12345678").revoked_on == DAY
    last = history(sessions, "12345678")[-1]
    assert (last.status_from, last.status_to) == ("active", "revoked")
    assert "status active -> revoked" in last.reason and f"revoked_on - -> {DAY.isoformat()}" in last.reason
    assert do_import(sessions, [row("12345678", status="revoked", name="Demo Trading Company Limited")]).unchanged


def test_a_new_row_active_with_a_recent_revocation_is_rejected(sessions) -> None:  # type: ignore[no-untyped-def]
    report = do_import(sessions, [row("12345678", revoked_on="2026-01-15")])
    assert report.created == []
    assert "barred from re-admission" in report.rejected[0].reason and "2028-01-15" in report.rejected[0].reason


def test_read_csv_rows_keeps_line_numbers_and_checks_the_header(sessions, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    text = ("operator_id,name,tier,status,valid_from,valid_until\n"
            "12345678,Demo Trading Company Limited,2,active,2025-04-01,2028-03-31\n\n"
            "87654321,Harbour Logistics Limited,4,active,2024-07-15,2027-07-14\n")
    rows = service.read_csv_rows(text.splitlines(keepends=True))
    report = do_import(sessions, rows)
    assert report.created == ["12345678"] and report.rejected[0].line == 4
    with pytest.raises(RegistryError) as caught:
        service.read_csv_rows(["operator_id,name,tier\n"])
    assert caught.value.code == "INVALID_FILE" and "status, valid_from, valid_until" in caught.value.message


# ------------------------------------------------------------------------- status change


def test_each_action_changes_the_status_and_records_reason_actor_and_time(sessions) -> None:  # type: ignore[no-untyped-def]
    do_import(sessions, SAMPLE)
    steps = [
        ("12345678", "suspend", "active", "suspended"),
        ("12345678", "reinstate", "suspended", "active"),
        ("12345678", "withdraw", "active", "withdrawn"),
        ("12345678", "renew", "withdrawn", "active"),
        ("87654321", "revoke", "active", "revoked"),
        ("44556677", "renew", "expired", "active"),
    ]
    for operator_id, action, before, after in steps:
        with sessions() as session, session.begin():
            operator = service.change_status(session, operator_id, action, f"{action} for the record", ACTOR, DAY)
            assert operator.status == after
        last = history(sessions, operator_id)[-1]
        assert (last.status_from, last.status_to, last.actor) == (before, after, ACTOR)
        assert last.reason.startswith(f"{action}: {action} for the record")
        assert last.occurred_at is not None
    with sessions() as session:
        revoked = service.lookup(session, "87654321")
        assert revoked.revoked_on == DAY
        renewed = service.lookup(session, "12345678")
        assert (renewed.valid_from, renewed.valid_until) == (DAY, date(2029, 11, 21))
    assert [e.status_to for e in history(sessions, "12345678")] == [
        "active", "suspended", "active", "withdrawn", "active"]


@pytest.mark.parametrize(("operator_id", "action", "reason", "code"), [
    ("12345678", "reinstate", "not suspended", "TRANSITION_NOT_ALLOWED"),
    ("12345678", "renew", "too early", "RENEWAL_NOT_DUE"),
    ("55667788", "renew", "reapplied", "READMISSION_BARRED"),
    ("12345678", "expire", "not an officer action", "UNKNOWN_ACTION"),
    ("12345678", "suspend", "  ", "REASON_REQUIRED"),
    ("99999999", "suspend", "who is this", "NOT_FOUND"),
])
def test_a_refused_change_writes_nothing(sessions, operator_id: str, action: str, reason: str,  # type: ignore[no-untyped-def]
                                         code: str) -> None:
    do_import(sessions, SAMPLE)
    events = count(sessions, models.AeoStatusEvent)
    with sessions() as session, session.begin(), pytest.raises(RegistryError) as caught:
        service.change_status(session, operator_id, action, reason, ACTOR, DAY)
    assert caught.value.code == code
    assert count(sessions, models.AeoStatusEvent) == events


def test_lookup_returns_none_for_an_unknown_operator(sessions) -> None:  # type: ignore[no-untyped-def]
    with sessions() as session:
        assert service.lookup(session, "99999999") is None


# ----------------------------------------------------------------------------- standings


def test_standings_for_many_ids_take_one_query(sessions, clean_app: Flask) -> None:  # type: ignore[no-untyped-def]
    do_import(sessions, SAMPLE + [
        row("ZA12345678", tier="1", valid_from="2024-01-01", valid_until="2026-12-31"),
        row("31415926", valid_from="2024-01-02", valid_until="2027-01-01"),
    ])
    engine = clean_app.extensions["csw"].engine
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    ids = ["12345678", "87654321", "22334455", "55667788", "44556677", "CN4403960123", "ZA12345678",
           "31415926", "99999999", "US123456789"]
    event.listen(engine, "before_cursor_execute", record)
    try:
        with sessions() as session:
            standings = service.standings_for(session, ids, DAY, MRA)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert len(statements) == 1
    assert set(standings) == set(ids) - {"99999999", "US123456789"}  # not in the registry: left out

    demo = standings["12345678"]
    assert (demo.recognised, demo.reason, demo.tier, demo.status, demo.renewal_due) == (True, "", 2, "active", False)
    assert demo.name == "Demo Trading Company Limited" and demo.valid_until == date(2028, 3, 31)
    assert standings["CN4403960123"].recognised and standings["CN4403960123"].renewal_due
    assert standings["31415926"].renewal_due and standings["31415926"].recognised
    assert standings["22334455"].reason == "the AEO registration is suspended"
    assert standings["55667788"].reason == "the AEO registration was revoked on 2025-06-30"
    assert "valid until 2025-08-31" in standings["44556677"].reason
    assert not any(standings[i].recognised for i in ("22334455", "55667788", "44556677"))


def test_a_partner_aeo_is_recognised_only_while_its_mra_is_in_force(sessions) -> None:  # type: ignore[no-untyped-def]
    do_import(sessions, [row("ZA12345678", tier="1", valid_from="2024-01-01", valid_until="2026-12-31")],
              today=date(2024, 11, 1))
    with sessions() as session:
        before = service.standings_for(session, ["ZA12345678"], date(2024, 12, 2), MRA)["ZA12345678"]
        after = service.standings_for(session, ["ZA12345678"], date(2024, 12, 3), MRA)["ZA12345678"]
        past = service.standings_for(session, ["ZA12345678"], date(2027, 1, 1), MRA)["ZA12345678"]
    assert not before.recognised and "in force only from 2024-12-03" in before.reason
    assert after.recognised
    assert not past.recognised and "valid until 2026-12-31" in past.reason


def test_standings_for_no_ids_is_empty(sessions) -> None:  # type: ignore[no-untyped-def]
    with sessions() as session:
        assert service.standings_for(session, ["", "  "], DAY, MRA) == {}


# -------------------------------------------------------------------------------- expiry


def test_expire_registrations_marks_expired_and_lists_renewals_due(sessions) -> None:  # type: ignore[no-untyped-def]
    do_import(sessions, SAMPLE + [
        row("31415926", valid_from="2024-01-02", valid_until="2027-01-01"),
        row("27182818", status="suspended", valid_from="2023-12-01", valid_until="2026-11-30"),
    ])
    day = date(2027, 1, 2)
    with sessions() as session, session.begin():
        report = service.expire_registrations(session, day, "job:aeo-expiry")
    assert report.expired == ["27182818", "31415926"]
    # CN: due from 2026-08-28; 87654321: due from 2027-01-14, so not yet
    assert report.renewals_due == ["CN4403960123"]
    last = history(sessions, "31415926")[-1]
    assert (last.status_from, last.status_to, last.actor) == ("active", "expired", "job:aeo-expiry")
    assert last.reason == "expire: the validity ended on 2027-01-01"
    assert history(sessions, "27182818")[-1].status_from == "suspended"
    events = count(sessions, models.AeoStatusEvent)
    with sessions() as session, session.begin():
        again = service.expire_registrations(session, day, "job:aeo-expiry")
    assert again.expired == [] and again.renewals_due == ["CN4403960123"]
    assert count(sessions, models.AeoStatusEvent) == events
    with sessions() as session, session.begin():
        later = service.expire_registrations(session, date(2027, 1, 14), "job:aeo-expiry")
    assert later.renewals_due == ["CN4403960123", "87654321"]


# ----------------------------------------------------------------------------------- API


def seed_api(sessions) -> None:  # type: ignore[no-untyped-def]
    """Operators relative to the real date (the API uses today in Hong Kong)."""
    today = hk_today()
    do_import(sessions, [
        row("12345678", valid_from=(today - timedelta(days=400)).isoformat(),
            valid_until=(today + timedelta(days=700)).isoformat(), name="Demo Trading Company Limited"),
        row("87654321", tier="1", valid_from=(today - timedelta(days=900)).isoformat(),
            valid_until=(today + timedelta(days=30)).isoformat(), name="Harbour Logistics Limited"),
        row("CN4403960123", tier="1", valid_from=(today - timedelta(days=100)).isoformat(),
            valid_until=(today + timedelta(days=900)).isoformat()),
    ], today=today)


def auth(key: str, accept: str = "application/xml") -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", "Accept": accept}


def post_status(api: FlaskClient, operator_id: str, body: object, key: str = ADMIN_KEY,  # type: ignore[no-untyped-def]
                accept: str = "application/json"):
    return api.post(f"{API}/{operator_id}/status", json=body, headers=auth(key, accept))


def test_any_client_reads_status_tier_validity_recognition_and_renewal(api: FlaskClient, sessions) -> None:  # type: ignore[no-untyped-def]
    seed_api(sessions)
    response = api.get(f"{API}/12345678", headers=auth(TRADER_KEY))
    assert response.status_code == 200 and response.mimetype == "application/xml"
    document = etree.fromstring(response.data)
    assert etree.QName(document).localname == "AeoOperator"
    text = {name: document.findtext(f"r:{name}", namespaces=NS) for name in (
        "OperatorID", "Country", "Name", "Tier", "Status", "ValidFrom", "ValidUntil", "Recognised",
        "RenewalDue", "ConversationID")}
    assert text["OperatorID"] == "12345678" and text["Country"] == "HK"
    assert (text["Tier"], text["Status"], text["Recognised"], text["RenewalDue"]) == ("2", "active", "true", "false")
    assert text["ValidUntil"] == (hk_today() + timedelta(days=700)).isoformat()
    assert text["ConversationID"] == response.headers["X-Conversation-ID"]
    assert document.find("r:History", namespaces=NS) is None  # history is for admins

    due = api.get(f"{API}/87654321", headers=auth(OTHER_KEY, "application/json")).get_json()
    assert due["renewal_due"] is True and due["tier"] == 1 and "history" not in due

    partner = api.get(f"{API}/CN4403960123", headers=auth(PARTNER_KEY, "application/json")).get_json()
    assert partner["recognised"] is True and partner["country"] == "CN"
    assert partner["mra_programme"].startswith("China Customs") and "history" not in partner


def test_admin_reads_the_history_with_reasons_and_actors(api: FlaskClient, sessions) -> None:  # type: ignore[no-untyped-def]
    seed_api(sessions)
    response = api.get(f"{API}/12345678", headers=auth(ADMIN_KEY))
    document = etree.fromstring(response.data)
    events = document.findall("r:History/r:Event", namespaces=NS)
    assert len(events) == 1
    assert events[0].findtext("r:StatusTo", namespaces=NS) == "active"
    assert events[0].findtext("r:Actor", namespaces=NS) == ACTOR
    assert events[0].findtext("r:Reason", namespaces=NS).startswith("imported from test.csv")
    assert events[0].find("r:StatusFrom", namespaces=NS) is None
    assert events[0].findtext("r:OccurredDateTime", namespaces=NS).endswith("Z")


def test_unknown_operator_is_404_and_no_key_is_401(api: FlaskClient, sessions) -> None:  # type: ignore[no-untyped-def]
    response = api.get(f"{API}/99999999", headers=auth(TRADER_KEY, "application/json"))
    assert response.status_code == 404 and response.get_json()["code"] == "NOT_FOUND"
    assert api.get(f"{API}/12345678").status_code == 401


@pytest.mark.parametrize("key", [TRADER_KEY, PARTNER_KEY])
def test_only_an_admin_may_change_a_status(api: FlaskClient, sessions, key: str) -> None:  # type: ignore[no-untyped-def]
    seed_api(sessions)
    events = count(sessions, models.AeoStatusEvent)
    response = post_status(api, "12345678", {"action": "suspend", "reason": "late records"}, key=key)
    assert response.status_code == 403 and response.get_json()["code"] == "FORBIDDEN"
    assert count(sessions, models.AeoStatusEvent) == events
    with sessions() as session:
        assert service.lookup(session, "12345678").status == "active"


def test_admin_suspends_and_the_operator_is_no_longer_recognised(api: FlaskClient, sessions) -> None:  # type: ignore[no-untyped-def]
    seed_api(sessions)
    response = post_status(api, "12345678", {"action": "suspend", "reason": "records not kept"},
                           accept="application/xml")
    assert response.status_code == 200
    document = etree.fromstring(response.data)
    assert document.findtext("r:Status", namespaces=NS) == "suspended"
    assert document.findtext("r:Recognised", namespaces=NS) == "false"
    assert document.findtext("r:Reason", namespaces=NS) == "the AEO registration is suspended"
    last = document.findall("r:History/r:Event", namespaces=NS)[-1]
    assert last.findtext("r:StatusFrom", namespaces=NS) == "active"
    assert last.findtext("r:Reason", namespaces=NS) == "suspend: records not kept"
    assert last.findtext("r:Actor", namespaces=NS).endswith(":aeo-admin")

    seen_by_trader = api.get(f"{API}/12345678", headers=auth(TRADER_KEY, "application/json")).get_json()
    assert seen_by_trader["status"] == "suspended" and seen_by_trader["recognised"] is False

    back = post_status(api, "12345678", {"action": "reinstate", "reason": "records now in order"}).get_json()
    assert back["status"] == "active" and back["recognised"] is True
    assert [e["status_to"] for e in back["history"]] == ["active", "suspended", "active"]


def test_revoke_then_renew_is_refused_with_the_date_the_bar_ends(api: FlaskClient, sessions) -> None:  # type: ignore[no-untyped-def]
    seed_api(sessions)
    assert post_status(api, "87654321", {"action": "revoke", "reason": "smuggling conviction"}).status_code == 200
    response = post_status(api, "87654321", {"action": "renew", "reason": "reapplied"})
    assert response.status_code == 409
    body = response.get_json()
    assert body["code"] == "AEO_READMISSION_BARRED" and body["errors"][0]["rule"] == "READMISSION_BARRED"
    assert f"until {readmission_bar_ends(hk_today()).isoformat()}" in body["message"]


@pytest.mark.parametrize(("operator_id", "body", "status", "code"), [
    ("12345678", {"action": "reinstate", "reason": "not suspended"}, 409, "AEO_TRANSITION_NOT_ALLOWED"),
    ("12345678", {"action": "explode", "reason": "no such action"}, 400, "INVALID_PARAMETER"),
    ("12345678", {"action": 7, "reason": "not text"}, 400, "INVALID_PARAMETER"),
    ("12345678", {"action": "suspend"}, 422, "REASON_REQUIRED"),
    ("12345678", {"action": "suspend", "reason": "no"}, 422, "REASON_REQUIRED"),
    ("12345678", ["suspend"], 400, "INVALID_PARAMETER"),
    ("99999999", {"action": "suspend", "reason": "who is this"}, 404, "NOT_FOUND"),
])
def test_bad_status_changes_are_refused(api: FlaskClient, sessions, operator_id: str, body: object,  # type: ignore[no-untyped-def]
                                        status: int, code: str) -> None:
    seed_api(sessions)
    events = count(sessions, models.AeoStatusEvent)
    response = post_status(api, operator_id, body)
    assert (response.status_code, response.get_json()["code"]) == (status, code)
    assert count(sessions, models.AeoStatusEvent) == events


def test_a_status_change_must_be_json(api: FlaskClient, sessions) -> None:  # type: ignore[no-untyped-def]
    seed_api(sessions)
    response = api.post(f"{API}/12345678/status", data=b"<StatusChange/>",
                        headers={**auth(ADMIN_KEY, "application/json"), "Content-Type": "application/xml"})
    assert response.status_code == 415 and response.get_json()["code"] == "UNSUPPORTED_MEDIA_TYPE"


def test_every_xml_answer_follows_the_response_schema(api: FlaskClient, sessions, response_schema) -> None:  # type: ignore[no-untyped-def]
    seed_api(sessions)
    post_status(api, "12345678", {"action": "suspend", "reason": "records not kept"})
    for key in (TRADER_KEY, PARTNER_KEY, ADMIN_KEY):
        for operator_id in ("12345678", "87654321", "CN4403960123"):
            response = api.get(f"{API}/{operator_id}", headers=auth(key))
            assert response.status_code == 200
            response_schema.assertValid(etree.fromstring(response.data))
    changed = post_status(api, "12345678", {"action": "reinstate", "reason": "records restored"},
                          accept="application/xml")
    response_schema.assertValid(etree.fromstring(changed.data))
    refused = post_status(api, "12345678", {"action": "reinstate", "reason": "again"}, accept="application/xml")
    assert refused.status_code == 409
    response_schema.assertValid(etree.fromstring(refused.data))
