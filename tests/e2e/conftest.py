"""End-to-end fixtures: Debian's Chromium (installed when missing), a live CSW server on a
free port with a migrated SQLite database, demo accounts and cases, and headless pages.

The browser runs with JavaScript disabled: the officers' core flows must work without it."""
from __future__ import annotations

import os
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, sync_playwright
from werkzeug.serving import BaseWSGIServer, make_server

from app import create_app
from app.cases import service as cases
from app.config import Settings
from app.db import migrate, models
from app.users.clients import create_client, ensure_party
from app.users.service import create_user
from tests.factories import declaration_xml

CHROMIUM = Path(os.environ.get("CSW_E2E_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
TRADER_KEY = "csw_e2e_trader_key_00000000000000"
PASSWORDS = {"officer": "officer-e2e-pass", "supervisor": "supervisor-e2e-pass"}


# A Traditional Chinese font, so the zh_Hant screenshots show characters rather than boxes.
CJK_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")


def _install_chromium() -> None:
    """Debian's chromium and a small CJK font package, when the machine lacks them (needs
    root and a package mirror)."""
    missing = [package for package, path in (("chromium", CHROMIUM), ("fonts-wqy-microhei", CJK_FONT))
               if not path.exists()]
    if not missing:
        return
    prefix = [] if os.geteuid() == 0 else ["sudo", "-n"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update"], ["apt-get", "install", "-y", "--no-install-recommends", *missing]):
        result = subprocess.run(prefix + command, capture_output=True, text=True, env=env, timeout=900, check=False)
        if result.returncode != 0:
            pytest.fail(f"could not install {', '.join(missing)} ({' '.join(command)}): {result.stderr[-500:]}")
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} missing after installing Debian's chromium package")


@dataclass(frozen=True)
class LiveServer:
    url: str
    app: Flask


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    directory = tmp_path_factory.mktemp("e2e")
    url = f"sqlite:///{directory / 'csw.db'}"
    migrate.upgrade(url)
    app = create_app(Settings.from_env(database_url=url, instance_dir=directory, secret_key="e2e",
                                       log_level="WARNING", api_rate_limit="100000 per second",
                                       login_rate_limit="100000 per second", release_green=False))
    server: BaseWSGIServer = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield LiveServer(f"http://127.0.0.1:{server.server_port}", app)
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def demo_cases(live_server: LiveServer) -> dict[str, int]:
    """Two officers' accounts and three cases: the riskiest (red, risk 95) on top."""
    app = live_server.app
    sessions = app.extensions["csw"].sessions
    with sessions() as session, session.begin():
        party = ensure_party(session, "12345678", "Demo Trading Company Limited")
        create_client(session, "e2e-trader", party, key=TRADER_KEY)
        for username, password in PASSWORDS.items():
            create_user(session, username, username, password, display_name=f"{username.title()} E2E")
    client = app.test_client()
    opened: dict[str, int] = {}
    for lrn, lane, risk, revenue in (("E2E-TOP", "red", 95, "250000"), ("E2E-SECOND", "yellow", 60, "5000"),
                                     ("E2E-THIRD", "yellow", 20, "0")):
        response = client.post("/api/v1/declarations", data=declaration_xml(lrn=lrn),
                               headers={"Authorization": f"Bearer {TRADER_KEY}",
                                        "Content-Type": "application/xml", "Accept": "application/json"})
        assert response.status_code in (201, 202), response.text
        declaration_id = response.get_json()["declaration_id"]
        with sessions() as session, session.begin():
            row = session.get(models.Declaration, declaration_id)
            assert row is not None
            row.lane, row.risk_score, row.revenue_at_stake = lane, risk, Decimal(revenue)
            case = cases.open_cases_for_declaration(session, declaration_id, actor="e2e")
            assert case is not None
            opened[lrn] = case.id
    return opened


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    _install_chromium()
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"])
        yield chromium
        chromium.close()


@pytest.fixture()
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser context without JavaScript (progressive enhancement: forms and links only)."""
    context = browser.new_context(java_script_enabled=False, locale="en-GB", viewport={"width": 1400, "height": 1000})
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    yield tab
    context.close()


def screenshot(page: Page, name: str) -> Path:
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


SERIOUS = ("serious", "critical")


def assert_accessible(page: Page, name: str) -> None:
    """axe-core (axe-playwright-python) on the page as shown, zero serious or critical
    violations. The tests browse with JavaScript off; axe needs it, so the page's HTML is
    checked in a twin context with JavaScript on (same cookies, same URL, same styles)."""
    from axe_playwright_python.sync_playwright import Axe  # noqa: PLC0415 - only the browser tests need it

    html = page.content()
    browser = page.context.browser
    assert browser is not None
    twin = browser.new_context(java_script_enabled=True, bypass_csp=True, storage_state=page.context.storage_state(),
                               viewport=page.viewport_size)
    try:
        checked = twin.new_page()
        checked.goto(page.url.split("#", 1)[0])
        checked.set_content(html, wait_until="load")
        results = Axe().run(checked)
        serious = [f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes'][:3]]}"
                   for v in results.response["violations"] if v.get("impact") in SERIOUS]
        (ARTIFACTS / f"{name}.axe.txt").write_text("\n".join(
            f"{v['id']} {v['impact']} {len(v['nodes'])}" for v in results.response["violations"]) or "no violations\n")
        assert serious == [], f"{name}: " + "; ".join(serious)
    finally:
        twin.close()


def page_width(page: Page) -> int:
    """The page's laid-out width in CSS pixels (measured in a JavaScript-enabled twin)."""
    browser = page.context.browser
    assert browser is not None
    twin = browser.new_context(java_script_enabled=True, storage_state=page.context.storage_state(),
                               viewport=page.viewport_size)
    try:
        measured = twin.new_page()
        measured.goto(page.url)
        return int(measured.evaluate("document.documentElement.scrollWidth"))
    finally:
        twin.close()


def sign_in(page: Page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/officer/")
    page.fill("#username", username)
    page.fill("#password", PASSWORDS[username])
    page.click("button[type=submit].primary")


__all__ = ["ARTIFACTS", "LiveServer", "assert_accessible", "page_width", "screenshot", "sign_in"]
