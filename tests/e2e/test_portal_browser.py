"""The traders' portal in a real browser (headless Chromium, JavaScript off): lodge a 3-item
import through the form and see it accepted with its lane, fix and resubmit a declaration
refused by a rule, upload an XML sample, cancel a declaration. Screenshots of each step go
to tests/e2e/artifacts/portal-*.png."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from app.config import PROJECT_ROOT
from app.db import models
from app.users.clients import ensure_party
from app.users.service import create_user, find_user
from tests.e2e.conftest import LiveServer, assert_accessible, screenshot
from tests.factories import recent_movement

USERNAME = "portal-trader"
PASSWORD = "portal-e2e-pass"


@pytest.fixture(scope="module")
def trader(live_server: LiveServer) -> str:
    """A trader account of the demo party 12345678 on the live server."""
    with live_server.app.extensions["csw"].sessions() as session, session.begin():
        party = ensure_party(session, "12345678", "Demo Trading Company Limited")
        if find_user(session, USERNAME) is None:
            create_user(session, USERNAME, "trader", PASSWORD, display_name="Portal E2E", party_id=party.id)
    return live_server.url


def sign_in(page: Page, base: str) -> None:
    page.goto(f"{base}/trader/")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.fill("#username", USERNAME)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit].primary")
    expect(page.locator("h1")).to_contain_text("Declarations of Demo Trading Company Limited")


def fill_movement(page: Page) -> None:
    """The goods moved a day ago (a trade declaration is lodged after the movement)."""
    page.fill("#movement_at", recent_movement()[:16])


def fill_item(page: Page, index: int, description: str, hs_code: str, value: str) -> None:
    prefix = f"#items-{index}-"
    page.fill(prefix + "description", description)
    page.fill(prefix + "hs_code", hs_code)
    page.fill(prefix + "origin_country", "CN")
    page.fill(prefix + "quantity", "100")
    page.select_option(prefix + "quantity_unit", "H87")
    page.fill(prefix + "net_mass", "20")
    page.fill(prefix + "gross_mass", "24.5")
    page.fill(prefix + "value", value)
    page.fill(prefix + "currency", "HKD")


def status_of(page: Page) -> str:
    return page.locator("#status").inner_text().strip()


def test_lodge_a_three_item_import_and_see_its_lane(page: Page, trader: str) -> None:
    sign_in(page, trader)
    screenshot(page, "portal-01-declarations")
    page.click("text=New import")
    page.fill("#lrn", "E2E-FORM-0001")
    fill_movement(page)
    page.select_option("#control_point", "HKLMC")
    fill_item(page, 0, "Smartphones, 128 GB", "85171300", "120000.00")
    page.click("#add-item")
    fill_item(page, 1, "Laptop computers", "84713000", "80000.00")
    page.click("#add-item")
    fill_item(page, 2, "Wrist-watches, quartz", "91021100", "15000.00")
    expect(page.locator("fieldset.item")).to_have_count(3)
    screenshot(page, "portal-02-form-three-items")
    assert_accessible(page, "portal-02-form-three-items")
    page.click("#submit-declaration")
    expect(page.locator(".flash")).to_contain_text("accepted")
    assert status_of(page) == "accepted"
    expect(page.locator("#lane .lane")).to_have_text(re.compile(r"^(green|yellow|red)$"))
    expect(page.locator("dl.summary")).to_contain_text("E2E-FORM-0001")
    screenshot(page, "portal-03-accepted-with-lane")


def test_fix_and_resubmit_a_declaration_refused_by_a_rule(page: Page, trader: str) -> None:
    sign_in(page, trader)
    page.goto(f"{trader}/trader/declarations/new?type=IM")
    page.fill("#lrn", "E2E-FIX-0001")
    fill_movement(page)
    fill_item(page, 0, "Mystery goods", "99999999", "500.00")
    page.click("#submit-declaration")
    summary = page.locator("#error-summary")
    expect(summary).to_contain_text("HS code 99999999 is not in the Hong Kong tariff list")
    expect(page.locator("#items-0-hs_code")).to_have_attribute("aria-invalid", "true")
    screenshot(page, "portal-04-refused-by-rule")
    summary.locator("a[href='#items-0-hs_code']").click()
    page.fill("#items-0-hs_code", "85171300")
    page.click("#submit-declaration")
    expect(page.locator(".flash")).to_contain_text("accepted")
    assert status_of(page) == "accepted"
    screenshot(page, "portal-05-fixed-and-accepted")


def test_upload_an_xml_sample(page: Page, trader: str) -> None:
    sign_in(page, trader)
    page.click("header nav >> text=Upload XML")
    page.set_input_files("#document", str(PROJECT_ROOT / "samples/invalid/bad-hs-code.xml"))
    page.click("#upload-submit")
    expect(page.locator("#error-summary [data-code]")).to_have_attribute("data-code", "SCHEMA_INVALID")
    expect(page.locator("table.problems")).to_contain_text("Goods item 2 · HS code")  # the field, by its label
    expect(page.locator("table.problems")).to_contain_text("Enter 8 digits, for example 84713000.")
    # the XML path stays available, folded in the technical details
    expect(page.locator("table.problems code.path")).to_contain_text(
        "GovernmentAgencyGoodsItem[2]/Commodity/Classification/ID")
    screenshot(page, "portal-06-upload-report")
    assert_accessible(page, "portal-06-upload-report")
    page.set_input_files("#document", str(PROJECT_ROOT / "samples/valid/import-liquor.xml"))
    page.click("#upload-submit")
    expect(page.locator(".flash")).to_contain_text("accepted from import-liquor.xml")
    assert status_of(page) == "accepted"
    screenshot(page, "portal-07-uploaded")


def test_cancel_a_declaration(page: Page, trader: str, live_server: LiveServer) -> None:
    sign_in(page, trader)
    page.goto(f"{trader}/trader/declarations/new?type=IM")
    page.fill("#lrn", "E2E-CANCEL-0001")
    fill_movement(page)
    fill_item(page, 0, "Smartphones, 64 GB", "85171300", "9000.00")
    page.click("#submit-declaration")
    expect(page.locator(".flash")).to_contain_text("accepted")
    reference = page.url.rsplit("/", 1)[1]
    page.fill("#reason", "shipment called off by the buyer")
    screenshot(page, "portal-08-before-cancel")
    page.click("#cancel-declaration")
    expect(page.locator(".flash")).to_contain_text("cancelled")
    assert status_of(page) == "cancelled"
    expect(page.locator("#cancel-blocked")).to_contain_text("can no longer be cancelled")
    expect(page.locator(".timeline")).to_contain_text("shipment called off by the buyer")
    screenshot(page, "portal-09-cancelled")
    with live_server.app.extensions["csw"].sessions() as session:
        row = session.get(models.Declaration, reference)
        assert row is not None and row.status == "cancelled"
