"""The telemetry samples in samples/elock, posted where they belong and through the CLI."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from app.cli import main
from tests.conftest import SAMPLES, sample
from tests.integration.test_transit_journeys import GATEWAY_KEY, journey_of, lodge


@pytest.mark.parametrize(("name", "mimetype", "state", "alerts"), [
    ("elock/clean-run-hkg-lmc-szx.xml", "application/xml", "released", []),
    ("elock/clean-run-hkg-lmc-szx.json", "application/json", "released", []),
    ("elock/detour-hkg-lmc-szx.json", "application/json", "exception", ["route_deviation"]),
])
def test_each_sample_batch_drives_the_ts_sample_journey(transit: FlaskClient, name: str, mimetype: str,
                                                        state: str, alerts: list[str]) -> None:
    declaration_id = lodge(transit).get_json()["declaration_id"]
    response = transit.post("/api/v1/elock/events", data=sample(name), headers={
        "Authorization": f"Bearer {GATEWAY_KEY}", "Content-Type": mimetype, "Accept": "application/json"})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["rejected"] == 0
    journey = journey_of(transit, declaration_id)
    assert journey["state"] == state and [a["kind"] for a in journey["alerts"]] == alerts


def test_cli_registers_checks_routes_and_ingests(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CSW_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("CSW_INSTANCE_DIR", str(tmp_path))

    def run(*args: str) -> tuple[int, str]:
        """Exit code and what the terminal shows (stdout and stderr)."""
        result = CliRunner().invoke(main, list(args), catch_exceptions=False)
        return result.exit_code, result.output

    assert run("db", "upgrade")[0] == 0
    code, output = run("transit", "routes")
    assert code == 0 and "HKG-LMC-SZX\tHKHKG -> HKLMC -> CNSZX" in output
    assert run("transit", "register-company", "--br", "40617295", "--name", "Cross Boundary Express",
               "--mode", "air-land")[0] == 0
    code, output = run("transit", "register-vehicle", "--mark", "XO1234", "--company", "40617295")
    assert code == 1 and "[vehicle-mark]" in output
    assert run("transit", "register-vehicle", "--mark", "XY1234", "--company", "40617295")[0] == 0
    code, output = run("transit", "register-elock", "EL-000123", "--supplier", "Nobody Ltd")
    assert code == 1 and "[accredited-supplier]" in output
    assert run("transit", "register-elock", "EL-000123", "--supplier", "HKSTP E-Lock Ltd")[0] == 0
    code, output = run("transit", "ingest", str(SAMPLES / "elock" / "clean-run-hkg-lmc-szx.xml"))
    assert code == 0 and "0 accepted, 0 duplicate, 26 rejected" in output and "no_journey" in output
    assert run("transit", "elock-status", "EL-000123", "faulty")[0] == 0
    code, output = run("transit", "journeys")
    assert code == 0 and output.strip().endswith("0 journeys")


def test_a_broken_route_file_stops_the_check_with_file_and_line(tmp_path: Path, clean_app: Flask) -> None:
    folder = tmp_path / "transit"
    folder.mkdir()
    source = SAMPLES.parent / "rules" / "transit"
    (folder / "points.toml").write_text((source / "points.toml").read_text())
    (folder / "routes.toml").write_text((source / "routes.toml").read_text().replace(
        'destination = "CNSZX"', 'destination = "CNXXX"', 1))
    result = CliRunner().invoke(main, ["transit", "routes", "--dir", str(folder)])
    assert result.exit_code == 1
    assert f"{folder / 'routes.toml'}:" in result.output and "CNXXX" in result.output


def test_the_case_of_a_detour_draws_the_track_over_the_corridor(transit: FlaskClient, clean_app: Flask) -> None:
    """The officer sees where the truck left the approved corridor: the track over the corridor,
    every position outside it, the point the deviation began, and a legend."""
    from sqlalchemy import select  # noqa: PLC0415 - local to this test

    from app.db.case_models import Case  # noqa: PLC0415
    from app.users.service import create_user  # noqa: PLC0415
    from tests.integration.test_officer_app import csrf_token  # noqa: PLC0415

    declaration_id = lodge(transit).get_json()["declaration_id"]
    transit.post("/api/v1/elock/events", data=sample("elock/detour-hkg-lmc-szx.json"), headers={
        "Authorization": f"Bearer {GATEWAY_KEY}", "Content-Type": "application/json", "Accept": "application/json"})
    with clean_app.extensions["csw"].sessions() as session, session.begin():
        case_id = session.scalar(select(Case.id).where(Case.declaration_id == declaration_id))
        create_user(session, "track-officer", "officer", "track-officer-pass")
    browser = clean_app.test_client()
    browser.post("/login", data={"username": "track-officer", "password": "track-officer-pass",
                                 "csrf_token": csrf_token(browser.get("/login").text)})
    page = browser.get(f"/officer/cases/{case_id}").text
    svg = page.split('<svg xmlns="http://www.w3.org/2000/svg" class="chart track"')[1].split("</svg>")[0]
    assert 'class="corridor"' in svg and 'class="route"' in svg and 'class="track"' in svg
    assert svg.count('class="outside"') >= 1 and svg.count('class="deviation"') == 1
    assert ">left the route here</text>" in svg and 'class="legend"' in svg
    assert ">HKLMC</text>" in svg  # the route's clearance points, named
    visible = re.sub(r'<details class="technical">.*?</details>|data-[a-z]+="[^"]*"', "", page, flags=re.DOTALL)
    assert "left the approved route" in visible and "route_deviation" not in visible
