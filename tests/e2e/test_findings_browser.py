"""Issue 24's findings that other browser tests do not reach (headless Chromium, JavaScript off):
the e-lock track drawn over its corridor with the deviation marked and a legend (11); the
officer's case page in Chinese with the risk module's and the analysts' reasons, history lines
and no internal codes (5, 9); a deadline after the opening (10); administrators changing and
retiring a routing subscriber and changing a role (13). Screenshots: tests/e2e/artifacts/findings-*.png."""
from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone

import pytest
from playwright.sync_api import Page, expect

from sqlalchemy import select

from app.cases import service as cases
from app.config import PROJECT_ROOT
from app.db.case_models import Case
from app.domain.transit import ReadingKind
from app.transit import telemetry
from app.transit.network import network_for
from app.transit.replay import along, clean_run, offset
from app.transit.service import seed_demo_fleet
from app.transit.telemetry import GatewayEvent
from app.users.clients import create_client, ensure_party
from app.users.service import create_user, find_user
from tests.e2e.conftest import LiveServer, assert_accessible, screenshot

PASSWORD = "findings-e2e-pass"
GATEWAY_KEY = "csw_e2e_gateway_key_0000000000000"
TRADER_KEY = "csw_e2e_findings_trader_key_00000"


def _json(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", "Content-Type": "application/json", "Accept": "application/json"}


@pytest.fixture(scope="module")
def deviated_case(live_server: LiveServer) -> int:
    """A transhipment under e-lock whose truck left the corridor half way: red, with its case."""
    app = live_server.app
    sessions = app.extensions["csw"].sessions
    with sessions() as session, session.begin():
        party = ensure_party(session, "12345678", "Demo Trading Company Limited")
        if find_user(session, "findings-officer") is None:
            create_user(session, "findings-officer", "officer", PASSWORD, display_name="Findings Officer")
            create_user(session, "findings-admin", "admin", PASSWORD, display_name="Findings Admin")
            create_client(session, "findings-trader", party, key=TRADER_KEY)
            create_client(session, "findings-gateway", party, key=GATEWAY_KEY, role="gateway")
        seed_demo_fleet(session, datetime.now(timezone.utc), app.extensions["csw"].reference.network)
    client = app.test_client()
    body = (PROJECT_ROOT / "samples" / "valid" / "transhipment-elock.xml").read_bytes().replace(
        b"DTC-TS-2026-000301", b"E2E-TRACK-0001")
    lodged = client.post("/api/v1/declarations", data=body, headers={**_json(TRADER_KEY),
                                                                      "Content-Type": "application/xml"})
    assert lodged.status_code == 202, lodged.text
    declaration_id = lodged.get_json()["declaration_id"]
    route = network_for(PROJECT_ROOT / "rules").routes["HKG-LMC-SZX"]
    events = clean_run(route, "EL-000123", datetime.now(timezone.utc).replace(microsecond=0) + timedelta(minutes=1),
                       "GW-e2e-detour")
    middle = len(events) // 2
    lon, lat = offset(along(route, 0.5), 6000, 0)  # 6 km east of the corridor
    events[middle] = GatewayEvent(events[middle].event_id, "EL-000123", ReadingKind.POSITION, events[middle].at,
                                  lat, lon)
    posted = client.post("/api/v1/elock/events", data=telemetry.to_json(events[:middle + 2]),
                         headers=_json(GATEWAY_KEY))
    assert posted.status_code == 200, posted.text
    assert [a["kind"] for a in json.loads(posted.data)["alerts"]] == ["route_deviation"]
    with sessions() as session, session.begin():  # the alert opened the case (or, failing that, open it)
        case_id = session.scalar(select(Case.id).where(Case.declaration_id == declaration_id))
        if case_id is None:
            opened = cases.open_cases_for_declaration(session, declaration_id, actor="e2e")
            assert opened is not None
            case_id = opened.id
    return int(case_id)


def log_in(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit].primary")


def test_the_elock_track_is_drawn_over_its_corridor_with_the_deviation_marked(
        page: Page, live_server: LiveServer, deviated_case: int) -> None:
    """Findings 11 and 9: corridor, route, track, the point where it left the route, a legend;
    no internal names (route_deviation, officer:...) on the page."""
    base = live_server.url
    log_in(page, base, "findings-officer")
    page.goto(f"{base}/officer/cases/{deviated_case}")
    track = page.locator("svg.track")
    expect(track).to_be_visible()
    expect(track.locator("circle.deviation")).to_have_count(1)
    legend = track.inner_html()
    for words in ("approved corridor", "approved route", "reported track", "left the route here"):
        assert words in legend, words
    text = page.locator("main").inner_text()
    assert "route_deviation" not in text and "officer:" not in text and "system:" not in text
    assert not re.search(r"\bR\d{3}\b", re.sub(r"Technical details.*", "", text)), "rule numbers folded away"
    screenshot(page, "findings-01-track")
    assert_accessible(page, "findings-01-track")


def test_the_case_page_reads_in_chinese_with_its_risk_reasons(page: Page, live_server: LiveServer,
                                                              deviated_case: int) -> None:
    """Findings 5, 9 and 10: risk reasons (the model's, the rules', the analysts' data), alerts
    and history in Chinese; the deadline after the opening."""
    base = live_server.url
    log_in(page, base, "findings-officer")
    page.goto(f"{base}/officer/cases/{deviated_case}")
    page.select_option("#locale", "zh_Hant")
    page.click("header form.inline button[type=submit] >> nth=0")
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hant")
    reasons = page.locator("ul.risk-reasons li")
    expect(reasons.first).to_be_visible()
    texts = reasons.all_inner_texts()
    english = [t for t in texts  # identifiers (HS, a model version) are not words
               if re.search(r"[A-Za-z]{4,}", re.sub(r"\b(HS|AEO|HKG|LMC|SZX)\b|\brm-[0-9a-f]+\b", "", t))]
    assert english == [], english
    alerts = page.locator("ul.alerts li").all_inner_texts()  # the e-lock alert, said in Chinese
    assert alerts and not [a for a in alerts if re.search(r"[A-Za-z]{4,}", a)], alerts
    main = page.locator("main").inner_text()
    assert "route_deviation" not in main
    opened = page.locator("time.opened").get_attribute("datetime")
    deadline = page.locator("time.deadline")
    if deadline.count():  # a case's deadline is never before its opening
        assert datetime.fromisoformat(deadline.get_attribute("datetime") or "") > datetime.fromisoformat(opened or "")
    screenshot(page, "findings-02-case-zh")
    assert_accessible(page, "findings-02-case-zh")


def test_administrators_change_and_retire_a_subscriber_and_change_a_role(page: Page, live_server: LiveServer,
                                                                         deviated_case: int) -> None:
    """Finding 13: routing subscribers added, changed and retired in the web UI, each change on
    the subscriber's history with who and when; a role changed with a reason."""
    base = live_server.url
    log_in(page, base, "findings-admin")
    page.goto(f"{base}/admin/routing/subscribers")
    page.fill("#name", "findings-kiosk")
    page.select_option("#role", "control_point")
    page.fill("#code", "HKLMC")
    page.fill("#url", "https://kiosk.example/a")
    page.click("#add-subscriber + form button.primary")
    expect(page.locator("#new-secret")).to_be_visible()
    page.click("a >> text=findings-kiosk")
    page.fill("#url", "ftp://wrong")
    page.click("#change-subscriber button.primary")  # refused: post/redirect/get, what was typed kept
    expect(page.locator("#change-errors")).to_contain_text("Address: a web hook needs")
    expect(page.locator("#url")).to_have_value("ftp://wrong")
    page.fill("#url", "https://kiosk.example/b")
    page.fill("#note", "new kiosk software")
    page.click("#change-subscriber button.primary")
    expect(page.locator(".flash")).to_contain_text("Subscriber findings-kiosk changed.")
    page.fill("#retire-subscriber input[name=note]", "kiosk closed")
    page.click("#retire-subscriber button")
    expect(page.locator("#subscriber-state")).to_have_attribute("data-state", "retired")
    history = page.locator(".history")
    expect(history).to_contain_text("kiosk closed")
    expect(history).to_contain_text("new kiosk software")
    expect(history).to_contain_text("officer findings-admin")
    expect(history).to_contain_text(re.compile(r"20\d\d-\d\d-\d\d \d\d:\d\d"))
    screenshot(page, "findings-03-subscriber")
    assert_accessible(page, "findings-03-subscriber")
    page.goto(f"{base}/officer/users")
    page.click("a >> text=findings-officer")
    page.select_option("#role-new", "supervisor")
    page.fill("#role-reason", "acting supervisor")
    page.click("text=Change role of findings-officer")
    expect(page.locator("#role")).to_contain_text("supervisor")
    expect(page.locator(".history")).to_contain_text("acting supervisor")


def test_the_walkthrough_amends_and_cancels_a_held_declaration_in_the_portal(page: Page,
                                                                            live_server: LiveServer) -> None:
    """Finding 15: the demo walkthrough in order, in the browser: a sample released (or lodged)
    first does not stop the amend/cancel steps, which use the held liquor declaration (rule R501
    holds it for an officer): uploaded, amended by uploading the amendment, then cancelled."""
    base = live_server.url
    with live_server.app.extensions["csw"].sessions() as session, session.begin():
        party = ensure_party(session, "12345678", "Demo Trading Company Limited")
        if find_user(session, "findings-trader") is None:
            create_user(session, "findings-trader", "trader", PASSWORD, party_id=party.id)
    log_in(page, base, "findings-trader")
    for sample in ("valid/import-5-items.xml", "walkthrough/held-liquor.xml"):
        page.goto(f"{base}/trader/upload")
        page.set_input_files("#document", str(PROJECT_ROOT / "samples" / sample))
        page.click("form.narrow button[type=submit]")
        expect(page.locator(".flash")).to_contain_text("accepted from")
    reference = page.url.rsplit("/", 1)[1]
    page.goto(f"{base}/trader/upload")
    page.set_input_files("#document", str(PROJECT_ROOT / "samples" / "walkthrough" / "held-liquor-amendment.xml"))
    page.fill("#amends", reference)
    page.click("form.narrow button[type=submit]")
    expect(page.locator(".flash")).to_contain_text(reference)
    page.goto(f"{base}/trader/declarations/{reference}")
    page.fill("#reason", "order withdrawn")
    page.click("#cancel-declaration")
    expect(page.locator(".flash")).to_contain_text(f"Declaration {reference} cancelled.")
    screenshot(page, "findings-04-walkthrough-cancelled")
