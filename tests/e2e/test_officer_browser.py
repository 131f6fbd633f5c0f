"""The officers' application in a real browser (headless Chromium, JavaScript off): sign in,
open the top case, claim it, record an inspection with a discrepancy, release another case,
and see the supervisor's dashboard. Screenshots of each main page go to tests/e2e/artifacts/."""
from __future__ import annotations

import re

from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import LiveServer, assert_accessible, screenshot, sign_in


def test_officer_inspects_the_top_case_and_releases_another(page: Page, browser: Browser, live_server: LiveServer,
                                                            demo_cases: dict[str, int]) -> None:
    base = live_server.url
    page.goto(f"{base}/officer/")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    screenshot(page, "01-login")
    sign_in(page, base, "officer")
    expect(page.locator("h1")).to_have_text("Case queue")
    rows = page.locator("table.queue tbody tr")
    for lrn in demo_cases:  # other tests on this server may add cases; these three are here
        expect(page.locator(f"tr[data-case-id='{demo_cases[lrn]}']")).to_have_count(1)
    expect(rows.first).to_have_attribute("data-case-id", str(demo_cases["E2E-TOP"]))
    screenshot(page, "02-queue")

    rows.first.locator("a.case-link").click()
    expect(page.locator("h1")).to_contain_text(f"Case #{demo_cases['E2E-TOP']}")
    expect(page.locator("[data-state]")).to_have_attribute("data-state", "open")
    page.click("button[name=claim]")
    expect(page.locator(".flash")).to_contain_text("Case claimed")
    expect(page.locator(".assignee")).to_contain_text("officer")
    other = browser.new_context(java_script_enabled=False).new_page()
    sign_in(other, base, "supervisor")
    other.goto(f"{base}/officer/cases/{demo_cases['E2E-TOP']}")
    expect(other.locator(".assignee")).to_contain_text("Officer E2E (officer)")
    expect(other.locator("button[name=claim]")).to_have_count(0)
    other.context.close()

    page.check("input[name=decision][value=inspect]")
    page.fill("textarea[name=reason]", "seal number differs from the declaration")
    page.click("form.decision button[type=submit]")
    expect(page.locator("[data-state]")).to_have_attribute("data-state", "inspection")
    screenshot(page, "03-case-inspection-due")
    page.check("input[name=result][value=discrepancy]")
    page.fill("input[name=revenue_recovered]", "18250.00")
    page.fill("textarea[name=notes]", "40 cartons of spirits not declared")
    page.click("form.inspection button[type=submit]")
    expect(page.locator(".flash")).to_contain_text("Inspection outcome recorded")
    expect(page.locator(".inspection-result")).to_have_text("discrepancy")
    expect(page.locator(".history")).to_contain_text("40 cartons of spirits not declared")
    screenshot(page, "04-case-after-inspection")
    assert_accessible(page, "04-case-after-inspection")

    page.goto(f"{base}/officer/cases/{demo_cases['E2E-SECOND']}")
    page.click("button[name=claim]")
    page.check("input[name=decision][value=release]")
    page.fill("textarea[name=reason]", "invoice checked")
    page.click("form.decision button[type=submit]")
    expect(page.locator(".flash")).to_contain_text("Decision recorded: release")
    expect(page.locator("table.queue tbody tr[data-case-id='%d']" % demo_cases["E2E-SECOND"])).to_have_count(0)
    screenshot(page, "05-queue-after-release")


def test_supervisor_sees_the_dashboard(page: Page, live_server: LiveServer, demo_cases: dict[str, int]) -> None:
    sign_in(page, live_server.url, "supervisor")
    page.click("text=Dashboard")
    expect(page.locator("h1")).to_have_text("Supervisor dashboard")
    expect(page.locator("svg.chart")).to_have_count(5)
    screenshot(page, "06-dashboard")
    assert_accessible(page, "06-dashboard")
    page.select_option("#locale", "zh_Hant")
    page.click("header form.inline button[type=submit] >> nth=0")
    expect(page.locator("h1")).to_have_text("主管儀表板")
    screenshot(page, "07-dashboard-zh-hant")
    assert_accessible(page, "07-dashboard-zh-hant")
