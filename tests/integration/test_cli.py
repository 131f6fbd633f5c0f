"""The csw command: migrations, seed, API clients, offline validation."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from app import create_app
from app.cli import main
from app.config import PROJECT_ROOT, Settings
from app.db import models
from tests.conftest import SAMPLES
from tests.factories import declaration_xml


@pytest.fixture()
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("CSW_DATABASE_URL", url)
    monkeypatch.setenv("CSW_INSTANCE_DIR", str(tmp_path))
    return url


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def test_upgrade_seed_and_a_new_clients_key_works(cli_env: str) -> None:
    assert run("db", "upgrade")[0] == 0
    first = run("seed")
    again = run("seed")
    assert first[0] == again[0] == 0
    assert "csw_demo_trading_0000000000000000" in first[1]
    assert "demo AEO registry: 15 created, 0 updated, 0 unchanged, 0 rejected" in first[1]
    assert "demo AEO registry: 0 created, 0 updated, 15 unchanged, 0 rejected" in again[1]
    lodged = {line.split()[2]: line for line in first[1].splitlines() if line.startswith("demo declaration")}
    assert set(lodged) == {"HLL-DEMO-0001", "HLL-DEMO-0002", "HLL-DEMO-0003"}, lodged
    # the watchlisted importer and the unconfirmed AEO claim wait for an officer; the watches' Tier 1
    # AEO declarant earns its 60 % reduction (docs/demo.md)
    assert "accepted, yellow lane" in lodged["HLL-DEMO-0001"] and "accepted" in lodged["HLL-DEMO-0003"], lodged
    assert "released, green lane" in lodged["HLL-DEMO-0002"], lodged
    assert all(line.endswith("(already lodged)") for line in again[1].splitlines()
               if line.startswith("demo declaration"))
    manifests = [line for line in first[1].splitlines() if line.startswith("demo manifest")]
    assert len(manifests) == 2 and all(re.search(r": HK\d{2}M\w{11} ", line) for line in manifests), manifests
    assert all(line.endswith("(replay)") for line in again[1].splitlines() if line.startswith("demo manifest"))
    road = [line for line in first[1].splitlines() if line.startswith("demo road")]
    assert len(road) == 2 and "crossed" in road[0] and "DTC-IM-2026-ROAD-01 (HK" in road[1], road
    reference = road[0].split()[3]
    assert [line for line in again[1].splitlines() if line.startswith("demo road")] == [
        f"demo road cargo: {reference} (replay)"]
    clients = [line for line in first[1].splitlines() if "API client" in line]
    assert len(clients) == 5 and clients == [line for line in again[1].splitlines() if "API client" in line]
    code, output = run("clients", "create", "--name", "acme-tms", "--party", "12345678")
    assert code == 0
    key = output.strip().splitlines()[-1]
    assert key.startswith("csw_") and " " not in key
    app = create_app(Settings.from_env(database_url=cli_env, log_level="WARNING", api_key_cache_seconds=0))
    line = app.test_client().get(f"/api/v1/cargo-lines/CRN/{reference}", headers={
        "Authorization": "Bearer csw_demo_trading_0000000000000000", "Accept": "application/json"})
    assert line.get_json()["status"] == "written_off", line.text  # the portal shows it written off
    response = app.test_client().post(
        "/api/v1/declarations", data=declaration_xml(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/xml"},
    )
    assert response.status_code == 202
    code, listing = run("clients", "list")
    assert "acme-tms" in listing and key not in listing
    client_id = [line.split("\t")[0] for line in listing.splitlines() if "acme-tms" in line][0]
    assert run("clients", "revoke", client_id)[0] == 0
    response = app.test_client().post(
        "/api/v1/declarations", data=declaration_xml(lrn="LRN-2"),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/xml"},
    )
    assert response.status_code == 401


def test_validate_reports_like_the_api(cli_env: str, tmp_path: Path) -> None:
    good = tmp_path / "good.xml"
    good.write_bytes(declaration_xml())
    bad = tmp_path / "bad.xml"
    bad.write_bytes(declaration_xml(items=2, hs_code="12"))
    code, output = run("validate", str(good))
    assert code == 0 and "good.xml: valid" in output
    code, output = run("validate", str(good), str(bad))
    assert code == 1
    assert "bad.xml: INVALID" in output
    assert "<Code>SCHEMA_INVALID</Code>" in output
    assert "GovernmentAgencyGoodsItem[2]/Commodity/Classification/ID" in output
    code, output = run("validate", "--json", str(bad))
    assert code == 1 and '"rule": "xsd:pattern"' in output


def test_validate_checks_cargo_and_manifests_with_their_rules() -> None:
    """Cargo and manifest samples: the schema, then their rules (a check digit, with its path)."""
    manifests, cargo = PROJECT_ROOT / "samples" / "manifest", PROJECT_ROOT / "samples" / "cargo"
    code, output = run("validate", str(manifests / "sea-arrival.xml"), str(manifests / "air-arrival.xml"),
                       str(cargo / "road-electronics.xml"))
    assert code == 0 and output.count(": valid") == 3, output
    code, output = run("validate", "--json", str(manifests / "invalid-sea-check-digits.xml"))
    assert code == 1 and '"rule": "M101"' in output and '"rule": "M104"' in output
    assert '"path": "/Manifest/TransportDocument[2]/Consignment/TransportEquipment/ID"' in output
    code, output = run("validate", str(manifests / "invalid-air-schema.xml"),
                       str(manifests / "invalid-air-waybill.xml"))
    assert code == 1 and "<Code>SCHEMA_INVALID</Code>" in output and "<Rule>M103</Rule>" in output
def test_validate_reads_v2_and_wco_documents(cli_env: str) -> None:
    """Schema v2 and DEC-DMS files are checked as the API checks them; for a WCO document each
    element it does not read and each national code it maps is listed."""
    v2, dms = SAMPLES / "v2/valid/import-5-items.xml", SAMPLES / "wco/valid/import-dec-dms-2-items.xml"
    code, output = run("validate", str(v2), str(dms))
    assert code == 0, output
    assert "import-5-items.xml: valid (urn:csw:declaration:v2, read as IM)" in output
    assert "type-code /MetaData/Declaration/TypeCode code=IMA mapped=IM" in output
    assert ("outside-profile /MetaData/Declaration/GoodsShipment/GovernmentAgencyGoodsItem[1]/Commodity/DutyTaxFee"
            in output)
    code, output = run("validate", str(SAMPLES / "wco/invalid/missing-net-mass.xml"),
                       str(SAMPLES / "v2/invalid/rule-agent-without-representation.xml"))
    assert code == 1
    assert "missing-net-mass.xml: INVALID" in output and "<Rule>R950</Rule>" in output
    assert "/MetaData/Declaration/GoodsShipment/GovernmentAgencyGoodsItem[2]/Commodity/GoodsMeasure" in output
    assert "rule-agent-without-representation.xml: valid" in output  # schema-valid: R904 refuses it on lodging


def test_declarations_lodge_goes_through_the_api_pipeline(cli_env: str, tmp_path: Path) -> None:
    """``csw declarations lodge`` stores what the API would: reference, status and lane per
    file, a replay for a re-sent file, and the rules' refusal (exit 1) for a broken one."""
    assert run("db", "upgrade")[0] == 0
    assert run("seed")[0] == 0
    good = tmp_path / "good.xml"
    good.write_bytes(declaration_xml(lrn="CLI-LODGE-1"))
    bad = tmp_path / "bad.xml"
    bad.write_bytes(declaration_xml(lrn="CLI-LODGE-2", hs_code="00000000"))
    code, output = run("declarations", "lodge", str(good), "--client", "demo-trading-tms")
    assert code == 0, output
    assert output.startswith("CLI-LODGE-1 (HK") and (": accepted, " in output or ": released, " in output)
    code, again = run("declarations", "lodge", str(good), str(bad), "--client", "demo-trading-tms")
    assert code == 1
    first, second = again.splitlines()
    assert first.endswith("(already lodged)") and first.split(" (")[1][:16] == output.split(" (")[1][:16]
    assert second.startswith("bad.xml refused: RULES_REJECTED")
    code, unknown = run("declarations", "lodge", str(good), "--client", "nobody")
    assert code == 1 and "no live API client named 'nobody'" in unknown
    with create_app(Settings.from_env()).extensions["csw"].sessions() as session:
        stored = session.query(models.Declaration).filter_by(lrn="CLI-LODGE-1").one()
        assert stored.declarant.identifier == "12345678"


def test_revenue_commands_pay_secure_and_report(cli_env: str, tmp_path: Path) -> None:
    """``csw revenue``: the liquor sample's demand is listed, a wrong amount is refused (exit 1),
    the right one recorded with a receipt; a deferment account secures the next declaration's
    duty at once; the report is CSV."""
    import re

    from tests.factories import recent_movement

    assert run("db", "upgrade")[0] == 0
    assert run("seed")[0] == 0
    body = re.sub(rb"<MovementDateTime>[^<]*</MovementDateTime>",
                  f"<MovementDateTime>{recent_movement()}</MovementDateTime>".encode(),
                  (Path(__file__).resolve().parents[2] / "samples/valid/import-liquor.xml").read_bytes())
    liquor = tmp_path / "liquor.xml"
    liquor.write_bytes(body)
    code, output = run("declarations", "lodge", str(liquor), "--client", "demo-trading-tms")
    assert code == 0, output
    reference = output.split(" (")[1][:16]
    code, listing = run("revenue", "demands", "--state", "due")
    assert code == 0 and reference in listing and "HK$    216,000.00" in listing
    result = CliRunner().invoke(main, ["revenue", "pay", reference, "--amount", "216000.01", "--reference", "CHQ-1"])
    assert result.exit_code == 1 and "OVERPAYMENT" in result.output
    code, paid = run("revenue", "pay", reference, "--amount", "216000.00", "--reference", "CHQ-1")
    assert code == 0 and paid.startswith("receipt HK") and "nothing is due any more" in paid
    code, statement = run("revenue", "statement", reference)
    assert code == 0 and "duty paid" in statement and "raised" in statement and "paid HK$216,000.00" in statement
    code, opened = run("revenue", "securities", "open", "--party", "12345678", "--kind", "deferment",
                       "--reference", "DA-12345678", "--limit", "1000000")
    assert code == 0 and opened.startswith("#") and "limit HK$1,000,000.00" in opened
    liquor.write_bytes(body.replace(b"DTC-IM-2026-000103", b"DTC-IM-2026-000104"))
    code, output = run("declarations", "lodge", str(liquor), "--client", "demo-trading-tms")
    assert code == 0 and "already lodged" not in output, output
    code, accounts = run("revenue", "securities", "list", "--party", "12345678")
    assert "DA-12345678" in accounts and "balance HK$216,000.00" in accounts  # secured on lodgement, whatever lane
    code, report = run("revenue", "report")
    assert code == 0 and report.splitlines()[0].startswith("day,declarations,declaration_charge")
