"""Issue 24 in a real browser (headless Chromium, JavaScript off), as a new trader and a new
officer would meet it, in English and Traditional Chinese: one search for any declaration,
errors in plain words in one round, pages without raw codes, the goods on the trader's page,
keys that cannot be created twice, answers whose errors sit where the trader is, Back after
submitting, 390 px phones, the landing and sign-in pages, the administrators' accounts page,
the tariff search. Every page visited passes axe-core with no serious violation; screenshots
go to tests/e2e/artifacts/people-*.png."""
from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest
from playwright.sync_api import Browser, Page, expect

from app.db.case_models import Case, DocumentRequest
from app.users.clients import ensure_party
from app.users.service import create_user, find_user
from tests.factories import recent_movement
from tests.e2e.conftest import LiveServer, assert_accessible, page_width, screenshot, sign_in

PASSWORD = "people-e2e-pass"
HKT_STAMP = re.compile(r"20\d\d-\d\d-\d\d \d\d:\d\d (HKT|香港時間)")


@pytest.fixture(scope="module")
def people(live_server: LiveServer) -> str:
    """A Chinese-speaking trader and an English one of party 12345678, and an administrator."""
    with live_server.app.extensions["csw"].sessions() as session, session.begin():
        party = ensure_party(session, "12345678", "Demo Trading Company Limited")
        for username, role, locale in (("zh-trader", "trader", "zh_Hant"), ("en-trader", "trader", "en"),
                                       ("people-admin", "admin", "en")):
            if find_user(session, username) is None:
                create_user(session, username, role, PASSWORD, locale=locale,
                            party_id=party.id if role == "trader" else None)
    return live_server.url


def log_in(page: Page, base: str, username: str, password: str = PASSWORD) -> None:
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit].primary")


def fill_item(page: Page, index: int, hs_code: str, origin: str = "CN", quantity: str = "10") -> None:
    prefix = f"#items-{index}-"
    page.fill(prefix + "description", "Laptop computers")
    page.fill(prefix + "hs_code", hs_code)
    page.fill(prefix + "origin_country", origin)
    page.fill(prefix + "quantity", quantity)
    page.fill(prefix + "net_mass", "20")
    page.fill(prefix + "gross_mass", "24")
    page.fill(prefix + "value", "8000")
    page.fill(prefix + "currency", "hkd")


def test_a_chinese_trader_fixes_everything_in_one_round_and_sees_the_goods(page: Page, people: str) -> None:
    base = people
    log_in(page, base, "zh-trader")
    expect(page.locator("h1")).to_contain_text("的報關單")
    assert_accessible(page, "people-01-trader-declarations-zh")
    page.goto(f"{base}/trader/declarations/new?type=IM")
    page.fill("#movement_at", recent_movement()[:16])  # the goods moved yesterday (rule R304)
    fill_item(page, 0, "8471300", origin="cn", quantity="0")
    page.click("#add-item")  # post/redirect/get: the form comes back as the trader's draft
    expect(page.locator("fieldset.item")).to_have_count(2)
    fill_item(page, 1, "99999999", origin="china")
    page.click("#submit-declaration")
    summary = page.locator("#error-summary")
    expect(summary).to_contain_text("本地參考編號（LRN）：必須填寫。")  # required
    expect(summary).to_contain_text("「8471300」")  # format, the value quoted back
    expect(summary).to_contain_text("8 位數字")  # and what is accepted
    expect(summary).to_contain_text("太小")  # quantity 0
    expect(summary).to_contain_text("99999999")  # the business rule on the other item, same round
    expect(page.locator("#items-0-origin_country")).to_have_value("CN")  # sent as shown
    expect(page.locator("#items-1-origin_country")).to_have_value("CN")  # "china" meant CN
    expect(page.locator("#items-0-hs_code")).to_have_attribute("aria-invalid", "true")
    text = summary.inner_text()
    assert "xsd:" not in text and "Decimal" not in text and "doesn't match" not in text
    screenshot(page, "people-02-one-round-of-errors-zh")
    assert_accessible(page, "people-02-one-round-of-errors-zh")
    page.fill("#lrn", "E2E-ZH-0001")
    page.fill("#items-0-hs_code", "84713000")
    page.fill("#items-0-quantity", "10")
    page.fill("#items-1-hs_code", "85171300")
    page.click("#submit-declaration")
    expect(page.locator(".flash")).to_contain_text("已接納")
    declared = page.locator("#declared")
    expect(declared).to_contain_text("Laptop computers")  # what was declared, without downloading XML
    expect(declared.locator("tr.goods-item")).to_have_count(2)
    expect(declared).to_contain_text("84713000")
    expect(declared).to_contain_text("中國 (CN)")
    expect(page.locator("main")).to_contain_text(HKT_STAMP)
    screenshot(page, "people-03-declaration-shows-the-goods-zh")
    assert_accessible(page, "people-03-declaration-zh")
    page.go_back()  # to the draft the problems were kept in: gone once lodged, and said so
    expect(page.locator("p.error")).to_contain_text("此草稿已不存在")


def test_phones_390_px_wide_need_no_sideways_scrolling(browser: Browser, people: str,
                                                       demo_cases: dict[str, int]) -> None:
    context = browser.new_context(java_script_enabled=False, viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        log_in(page, people, "officer", "officer-e2e-pass")
        expect(page.locator("table.queue")).to_be_visible()
        assert page_width(page) <= 390
        screenshot(page, "people-04-queue-390px")
        page.goto(f"{people}/officer/cases/{demo_cases['E2E-THIRD']}")
        assert page_width(page) <= 390
        screenshot(page, "people-05-case-390px")
    finally:
        context.close()


def test_an_officer_finds_any_declaration_and_keeps_the_filter(page: Page, live_server: LiveServer,
                                                                demo_cases: dict[str, int]) -> None:
    base = live_server.url
    sign_in(page, base, "officer")
    page.click("header nav >> text=Search")
    page.fill("#q", "e2e-third")  # an LRN, typed in lower case
    page.click("form.search button[type=submit]")
    rows = page.locator("table.results tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("E2E-THIRD")
    expect(rows.first).to_contain_text(HKT_STAMP)
    screenshot(page, "people-06-search")
    assert_accessible(page, "people-06-search")
    page.fill("#q", "demo trading")  # part of a party's name
    page.select_option("#s-case", "none")
    page.click("form.search button[type=submit]")
    # that one has a case (the results may be empty: a form lodged by road without its CRN is held, with a case)
    expect(page.locator("#main")).not_to_contain_text("E2E-THIRD")
    page.goto(f"{base}/officer/")
    page.select_option("#f-control-point", "HKLMC")  # a pick-list: no case-sensitive free text
    page.click("form.filters button[type=submit]")
    expect(page.locator(f"tr[data-case-id='{demo_cases['E2E-THIRD']}']")).to_have_count(1)
    page.fill("#save-name", "Lok Ma Chau")
    page.click("form.save-search button[type=submit]")
    expect(page.locator(".flash")).to_contain_text("Filter “Lok Ma Chau” saved.")
    page.goto(f"{base}/officer/")
    page.click("ul.saved-list >> text=Lok Ma Chau")
    expect(page).to_have_url(re.compile(r"control_point=HKLMC"))
    page.select_option("#f-state", "closed")
    page.click("form.filters button[type=submit]")
    expect(page.locator("h1")).to_have_text("Closed cases")
    assert_accessible(page, "people-07-closed-cases")
    page.goto(f"{base}/officer/cases/{demo_cases['E2E-THIRD']}")
    expect(page.locator(".history")).not_to_contain_text("officer:")  # who acted, not internal names
    assert_accessible(page, "people-08-case")


def test_a_trader_answers_where_the_request_is_and_keeps_one_key_per_name(page: Page, people: str,
                                                                          live_server: LiveServer) -> None:
    base = people
    log_in(page, base, "en-trader")
    page.goto(f"{base}/trader/declarations/new?type=IM")
    page.fill("#lrn", "E2E-ANSWER-0001")
    page.fill("#movement_at", recent_movement()[:16])
    fill_item(page, 0, "84713000")
    page.click("#submit-declaration")
    reference = page.url.rsplit("/", 1)[1]
    now = datetime.now(timezone.utc)
    with live_server.app.extensions["csw"].sessions() as session, session.begin():
        case = Case(declaration_id=reference, state="awaiting_documents", source="declaration", priority=1,
                    reasons=[], opened_at=now, updated_at=now)
        session.add(case)
        session.flush()
        request = DocumentRequest(case_id=case.id, declaration_id=reference, documents="commercial invoice",
                                  message="send the invoice", requested_by="officer:officer", requested_at=now)
        session.add(request)
        session.flush()
        request_id = request.id
    page.goto(f"{base}/trader/declarations/{reference}")
    page.click(f"#request-{request_id} button[type=submit]")  # no message written
    expect(page).to_have_url(re.compile(rf"#request-{request_id}$"))
    errors = page.locator(f"#request-{request_id}-errors")
    expect(errors).to_contain_text("Write a message of 1 to 2,000 characters.")  # beside the form, not 1,000 px up
    expect(errors).to_be_in_viewport()
    screenshot(page, "people-09-answer-error-in-place")
    assert_accessible(page, "people-09-declaration-with-request")

    page.goto(f"{base}/trader/keys")
    page.fill("#name", "warehouse-tms")
    page.click("form.narrow button[type=submit]")
    key = page.locator("#new-key").inner_text()
    assert key.startswith("csw_")
    page.reload()  # post/redirect/get: a reload neither shows the key again nor creates another
    expect(page.locator("#new-key")).to_have_count(0)
    expect(page.locator("table.keys td", has_text=re.compile("^warehouse-tms$"))).to_have_count(1)
    page.fill("#name", "Warehouse-TMS")
    page.click("form.narrow button[type=submit]")
    expect(page.locator(".field-error")).to_contain_text("A live key already has this name")
    expect(page.locator("button.revoke", has_text="warehouse-tms")).to_contain_text(key[:12])
    screenshot(page, "people-10-keys")
    assert_accessible(page, "people-10-keys")

    page.goto(f"{base}/trader/codes/hs?q=laptop")
    expect(page.locator("table.hs-results tbody tr").first).to_have_attribute("data-code", "84713000")
    page.goto(f"{base}/trader/codes/hs?q=wine")
    expect(page.locator("table.hs-results")).not_to_contain_text("swine")
    page.goto(f"{base}/trader/codes/hs?q=紅酒")
    expect(page.locator("table.hs-results tbody tr").first).to_have_attribute("data-code", "22042100")
    assert_accessible(page, "people-11-tariff-search")


def test_landing_sign_in_and_accounts(page: Page, browser: Browser, people: str) -> None:
    base = people
    styled = browser.new_context(java_script_enabled=True)
    try:
        landing = styled.new_page()
        blocked: list[str] = []
        landing.on("console", lambda message: blocked.append(message.text)
                   if "Content Security Policy" in message.text else None)
        landing.goto(f"{base}/")
        assert landing.evaluate("getComputedStyle(document.querySelector('.landing')).maxWidth") != "none"
        assert blocked == []  # styled by the site's stylesheet, nothing refused by its own CSP
    finally:
        styled.close()
    page.goto(f"{base}/")
    screenshot(page, "people-12-landing")
    assert_accessible(page, "people-12-landing")
    page.click("text=Traders' portal")
    expect(page.locator("h1")).to_have_text("Sign in to the traders' portal")
    expect(page.locator("header .brand")).not_to_contain_text("Officers")
    assert_accessible(page, "people-13-sign-in-traders")

    log_in(page, base, "people-admin")
    page.goto(f"{base}/officer/users")
    page.fill("#username", "new-clerk")
    page.fill("#display_name", "New Clerk")
    page.select_option("#role", "trader")
    page.fill("#party", "12345678")
    page.fill("#password", "short")
    page.click("form.stacked button[type=submit]")
    expect(page.locator("span.error")).to_contain_text("Initial password: Enter 10 to 200 characters.")
    page.fill("#password", "a-long-enough-password")
    page.click("form.stacked button[type=submit]")
    expect(page.locator(".flash")).to_contain_text("Account new-clerk created.")
    expect(page.locator("dl.facts")).to_contain_text("Demo Trading Company Limited (12345678)")
    page.fill("#new-password", "another-long-password")
    page.fill("#password-reason", "forgotten")
    page.click("text=Reset the password of new-clerk")
    expect(page.locator(".flash")).to_contain_text("Password reset")
    expect(page.locator(".history")).to_contain_text("password reset")
    screenshot(page, "people-14-account")
    assert_accessible(page, "people-14-account")
    page.goto(f"{base}/officer/users")
    assert_accessible(page, "people-15-accounts")
    page.goto(f"{base}/admin/routing/subscribers")
    assert_accessible(page, "people-16-subscribers")



def test_a_refused_form_survives_back_and_reload_without_posting_again(page: Page, people: str) -> None:
    """Finding 12 (post/redirect/get): the lodging form refused, then reload, Back and Forward:
    no "Confirm Form Resubmission", nothing posted again, the problems and what was typed kept."""
    base = people
    log_in(page, base, "en-trader")
    page.goto(f"{base}/trader/declarations/new?type=IM")
    fill_item(page, 0, "8471300")
    posts: list[str] = []
    page.on("request", lambda request: posts.append(request.url) if request.method == "POST" else None)
    page.click("#submit-declaration")
    summary = page.locator("#error-summary")
    expect(summary).to_contain_text("Local reference (LRN)")
    expect(page).to_have_url(re.compile(r"/trader/drafts/\d+"))
    assert len(posts) == 1
    page.reload()  # a GET of the draft: the problems were kept with it
    expect(summary).to_contain_text("Local reference (LRN)")
    expect(page.locator("#items-0-hs_code")).to_have_value("8471300")
    page.go_back()
    expect(page).to_have_url(re.compile(r"/trader/declarations/new"))
    page.go_forward()
    expect(summary).to_contain_text("Local reference (LRN)")
    page.goto(f"{base}/trader/upload")
    page.click("form.narrow button[type=submit]")  # no file chosen
    expect(page.locator("#error-summary")).to_contain_text("Choose the declaration XML file")
    page.reload()
    expect(page).to_have_url(re.compile(r"/trader/upload"))
    assert len(posts) == 2, f"reload, Back and Forward posted again: {posts}"
    screenshot(page, "people-17-refused-upload-after-reload")


def test_every_page_fits_a_390_px_phone(browser: Browser, people: str, live_server: LiveServer,
                                        demo_cases: dict[str, int]) -> None:
    """Finding 12: every page of the portal, the officers' application and the administrators'
    pages at 390 px wide: nothing wider than the screen (document.documentElement.scrollWidth)."""
    from app.domain.problems import Rejection
    from app.routing.subscribers import add_subscriber, find_subscriber

    with live_server.app.extensions["csw"].sessions() as session, session.begin():
        try:
            subscriber_id = find_subscriber(session, "phone-kiosk").id
        except Rejection:
            subscriber_id = add_subscriber(session, "phone-kiosk", "control_point", "webhook",
                                           "https://a-very-long-host-name-for-a-kiosk.example/hooks/release-notices",
                                           "HKLMC", actor="e2e").id
        admin = find_user(session, "people-admin")
        assert admin is not None
        admin_id = admin.id
        reference = session.get(Case, demo_cases["E2E-TOP"]).declaration_id  # type: ignore[union-attr]
    pages = {
        None: ["/", "/login", "/login?next=/trader/"],
        ("officer", "officer-e2e-pass"): [
            "/officer/", "/officer/?state=closed", f"/officer/cases/{demo_cases['E2E-TOP']}",
            f"/officer/cases/{demo_cases['E2E-THIRD']}", "/officer/search?q=e2e", f"/officer/declarations/{reference}",
            "/officer/duty"],
        ("supervisor", "supervisor-e2e-pass"): ["/officer/dashboard", "/officer/reports/revenue"],
        ("people-admin", PASSWORD): ["/officer/users", f"/officer/users/{admin_id}", "/admin/routing/subscribers",
                                     f"/admin/routing/subscribers/{subscriber_id}"],
        ("en-trader", PASSWORD): ["/trader/", "/trader/declarations/new?type=IM", "/trader/declarations/new?type=TS",
                                  "/trader/upload", "/trader/keys", "/trader/codes/hs?q=wine", "/trader/cargo",
                                  f"/trader/declarations/{reference}", f"/trader/declarations/{reference}/amend"],
        ("zh-trader", PASSWORD): ["/trader/", "/trader/declarations/new?type=IM", f"/trader/declarations/{reference}"],
    }
    wide: list[str] = []
    for who, paths in pages.items():
        context = browser.new_context(java_script_enabled=True, viewport={"width": 390, "height": 844})
        page = context.new_page()
        try:
            if who is not None:
                log_in(page, people, *who)
            for path in paths:
                page.goto(f"{people}{path}")
                page.evaluate("document.querySelectorAll('details#trade').forEach(d => { d.open = true; })")
                width = int(page.evaluate("document.documentElement.scrollWidth"))
                if width > 390:
                    wide.append(f"{path} as {who[0] if who else 'anyone'}: {width} px")
                    screenshot(page, "people-390-" + re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-"))
        finally:
            context.close()
    assert wide == [], "pages wider than a 390 px phone:\n" + "\n".join(wide)
