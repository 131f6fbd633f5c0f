"""Business rules and charges through the API: refusals, findings kept for officers,
duty in the status, rules as data."""
from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from lxml import etree
from sqlalchemy import func, select

from app import create_app
from app.cli import main
from app.config import PROJECT_ROOT, Settings
from app.db import models
from app.rules.engine import RulePackError
from tests.conftest import auth
from tests.factories import declaration_xml, goods_item_xml

API = "/api/v1/declarations"
NS = {"r": "urn:csw:response:v1"}

WHISKY_BOTTLE = """
    <GovernmentAgencyGoodsItem>
      <SequenceNumeric>1</SequenceNumeric>
      <Commodity>
        <Description>Single malt whisky, 70 cl</Description>
        <Classification><ID>22083000</ID></Classification>
        <DutiableDetails>
          <AlcoholStrengthPercent>40</AlcoholStrengthPercent>
          <VolumeMeasure unitCode="LTR">{litres}</VolumeMeasure>
        </DutiableDetails>
      </Commodity>
      <Origin><CountryCode>GB</CountryCode></Origin>
      <GoodsMeasure>
        <TariffQuantity unitCode="C62">1</TariffQuantity>
        <NetMassMeasure unitCode="KGM">1.2</NetMassMeasure>
        <GrossMassMeasure unitCode="KGM">1.6</GrossMassMeasure>
      </GoodsMeasure>
      <CustomsValueAmount currencyID="HKD">{value}</CustomsValueAmount>
      <AdditionalDocument><TypeCode>DC</TypeCode><ID>DC-2026-000777</ID></AdditionalDocument>
    </GovernmentAgencyGoodsItem>"""


def post(client: FlaskClient, body: bytes, accept: str = "application/json"):  # type: ignore[no-untyped-def]
    return client.post(API, data=body, headers=auth(accept=accept))


def test_rule_breach_refuses_with_every_finding_and_stores_nothing(client: FlaskClient, clean_app: Flask,  # type: ignore[no-untyped-def]
                                                                   response_schema) -> None:
    body = declaration_xml(items=2).replace(b"<ID>85171300</ID>", b"<ID>99999999</ID>", 1)
    body = body.replace(b'<GrossMassMeasure unitCode="KGM">3</GrossMassMeasure>',
                        b'<GrossMassMeasure unitCode="KGM">1</GrossMassMeasure>', 1)
    response = post(client, body)
    assert response.status_code == 422
    answer = response.get_json()
    assert answer["code"] == "RULES_REJECTED"
    assert answer["rules_version"]
    by_rule = {error["rule"]: error for error in answer["errors"]}
    assert by_rule["R101"]["path"] == (
        "/Declaration/GoodsShipment/GovernmentAgencyGoodsItem[1]/Commodity/Classification/ID")
    assert "99999999" in by_rule["R101"]["message"] and "99999999" in by_rule["R101"]["message_zh"]
    assert by_rule["R203"]["severity"] == "reject"
    assert by_rule["R602"]["severity"] == "warn"
    xml = post(client, body, accept="application/xml")
    response_schema.assertValid(etree.fromstring(xml.data))
    with clean_app.extensions["csw"].sessions() as session:
        assert session.scalar(select(func.count()).select_from(models.Declaration)) == 0


def test_hold_and_warn_findings_are_accepted_kept_and_shown(client: FlaskClient, clean_app: Flask,  # type: ignore[no-untyped-def]
                                                            response_schema) -> None:
    duplicated = goods_item_xml(1) + goods_item_xml(2).replace("model 2", "model 1")
    body = declaration_xml(lrn="LRN-HOLD-1", goods=duplicated)
    ack = post(client, body)
    assert ack.status_code == 202
    codes = {(f["code"], f["severity"]) for f in ack.get_json()["findings"]}
    assert ("R204", "hold") in codes and ("R602", "warn") in codes
    reference = ack.get_json()["declaration_id"]
    status = client.get(f"{API}/{reference}", headers=auth(accept="application/json")).get_json()
    held = next(f for f in status["findings"] if f["code"] == "R204")
    assert held["path"] == "/Declaration/GoodsShipment/GovernmentAgencyGoodsItem[2]"
    assert "repeats goods item 1" in held["message"]
    rules = client.get("/api/v1/rules", headers={"Accept": "application/json"}).get_json()
    assert status["rules_version"] == rules["rules_version"]
    response_schema.assertValid(etree.fromstring(client.get(f"{API}/{reference}", headers=auth()).data))
    response_schema.assertValid(etree.fromstring(post(client, body, accept="application/xml").data))


@pytest.mark.parametrize(("litres", "value", "duty"), [("0.7", "306.00", "210.60"), ("1.5", "2250.00", "495.00")])
def test_liquor_duty_matches_the_published_examples(client: FlaskClient, litres: str, value: str, duty: str) -> None:
    body = declaration_xml(lrn=f"LRN-LIQ-{litres}", goods=WHISKY_BOTTLE.format(litres=litres, value=value))
    ack = post(client, body)
    assert ack.status_code == 202, ack.get_json()
    status = client.get(f"{API}/{ack.get_json()['declaration_id']}", headers=auth(accept="application/json")).get_json()
    charges = status["charges"]
    assert charges["duty_total"] == duty
    line = next(line for line in charges["lines"] if line["kind"] == "duty")
    assert (line["goods_item_sequence"], line["commodity"], line["amount"]) == (1, "liquor", duty)
    assert Decimal(charges["total"]) == Decimal(charges["duty_total"]) + Decimal(charges["declaration_charge"])


def test_declaration_charge_of_the_worked_example(client: FlaskClient) -> None:
    ack = post(client, declaration_xml(lrn="LRN-CHG-1", value="100000.00"))
    status = client.get(f"{API}/{ack.get_json()['declaration_id']}", headers=auth(accept="application/json")).get_json()
    assert status["charges"]["declaration_charge"] == "7.00"


def test_amendment_is_reassessed(client: FlaskClient) -> None:
    duplicated = goods_item_xml(1) + goods_item_xml(2).replace("model 2", "model 1")
    reference = post(client, declaration_xml(lrn="LRN-RE-1", goods=duplicated)).get_json()["declaration_id"]
    fixed = declaration_xml(lrn="LRN-RE-1", items=2, function_code="13")
    response = client.post(f"{API}/{reference}/amendments", data=fixed, headers=auth(accept="application/json"))
    assert response.status_code == 202
    status = client.get(f"{API}/{reference}", headers=auth(accept="application/json")).get_json()
    assert "R204" not in {f["code"] for f in status["findings"]}
    broken = declaration_xml(lrn="LRN-RE-1", items=2, function_code="13").replace(b"<ID>85171300</ID>",
                                                                                  b"<ID>99999999</ID>")
    refused = client.post(f"{API}/{reference}/amendments", data=broken, headers=auth(accept="application/json"))
    assert refused.status_code == 422 and refused.get_json()["code"] == "RULES_REJECTED"
    assert client.get(f"{API}/{reference}", headers=auth(accept="application/json")).get_json()["version"] == 2


def test_rules_are_listed_publicly(client: FlaskClient, response_schema) -> None:  # type: ignore[no-untyped-def]
    listing = client.get("/api/v1/rules", headers={"Accept": "application/json"}).get_json()
    codes = [rule["code"] for rule in listing["rules"]]
    assert {"R101", "R201", "R401", "R601"} <= set(codes)
    r201 = next(rule for rule in listing["rules"] if rule["code"] == "R201")
    assert r201["severity"] == "reject" and r201["title_zh"] and r201["effective_from"] == "2024-01-01"
    response_schema.assertValid(etree.fromstring(client.get("/api/v1/rules").data))


def _rules_copy(tmp_path: Path) -> Path:
    target = tmp_path / "rules"
    shutil.copytree(PROJECT_ROOT / "rules", target)
    return target


def test_changing_a_severity_in_rules_changes_the_outcome_after_restart(
        clean_app: Flask, database_url: str, tmp_path: Path) -> None:
    rules_dir = _rules_copy(tmp_path)
    pack = rules_dir / "packs" / "core.toml"
    text = pack.read_text(encoding="utf-8")
    start = text.index('code = "R204"')
    pack.write_text(text[:start] + text[start:].replace('severity = "hold"', 'severity = "reject"', 1),
                    encoding="utf-8")
    restarted = create_app(Settings.from_env(database_url=database_url, rules_dir=rules_dir,
                                             instance_dir=tmp_path, log_level="WARNING"))
    duplicated = goods_item_xml(1) + goods_item_xml(2).replace("model 2", "model 1")
    response = post(restarted.test_client(), declaration_xml(lrn="LRN-DATA-1", goods=duplicated))
    assert response.status_code == 422
    assert "R204" in {error["rule"] for error in response.get_json()["errors"]}


def test_a_broken_pack_stops_start_up_naming_file_and_line(database_url: str, tmp_path: Path) -> None:
    rules_dir = _rules_copy(tmp_path)
    pack = rules_dir / "packs" / "core.toml"
    lines = pack.read_text(encoding="utf-8").splitlines()
    number = next(n for n, line in enumerate(lines, 1) if line.strip() == 'code = "R203"')
    text = pack.read_text(encoding="utf-8")
    pack.write_text(text.replace('check = "gross_not_below_net"', 'check = "no_such_check"'), encoding="utf-8")
    with pytest.raises(RulePackError) as caught:
        create_app(Settings.from_env(database_url=database_url, rules_dir=rules_dir, instance_dir=tmp_path))
    assert str(caught.value).startswith(f"{pack}:{number}: rule R203: unknown check 'no_such_check'")


def test_cli_lists_and_checks_rules() -> None:
    runner = CliRunner()
    listing = runner.invoke(main, ["rules", "list"])
    assert listing.exit_code == 0 and "R201" in listing.output and "貨櫃編號校驗碼錯誤" in listing.output
    good = runner.invoke(main, ["rules", "check", str(PROJECT_ROOT / "samples/valid/import-liquor.xml")])
    assert good.exit_code == 0 and "accepted" in good.output and "duty" in good.output
    bad = runner.invoke(main, ["rules", "check", str(PROJECT_ROOT / "samples/invalid/rule-container-check-digit.xml")])
    assert bad.exit_code == 1 and "R201 reject" in bad.output


def test_cli_reports_a_broken_rules_folder_in_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rules_dir = _rules_copy(tmp_path)
    units = rules_dir / "codelists" / "units.csv"
    units.write_text(units.read_text(encoding="utf-8") + "kg!,bad,壞,mass\n", encoding="utf-8")
    monkeypatch.setenv("CSW_RULES_DIR", str(rules_dir))
    for command in (["rules", "list"], ["serve", "--port", "1"]):
        result = CliRunner().invoke(main, command)
        assert result.exit_code == 1
        line = len(units.read_text(encoding="utf-8").splitlines())
        assert f"{units}:{line}:" in result.output and "Traceback" not in result.output


def test_an_unlisted_national_item_of_an_hs_2022_subheading_is_accepted_with_a_warning(  # type: ignore[no-untyped-def]
        client: FlaskClient, response_schema) -> None:
    """Issue 20 item 4: 85171399 (subheading 851713 exists, the national item is not listed) is
    accepted with warning R111 in both languages; 85171599 (no subheading 851715) is refused by
    R101 naming the item's path."""
    accepted = post(client, declaration_xml(lrn="LRN-HS6-1", hs_code="85171399"))
    assert accepted.status_code == 202, accepted.get_json()
    warning = next(f for f in accepted.get_json()["findings"] if f["code"] == "R111")
    assert warning["severity"] == "warn" and "851713" in warning["message"] and "851713" in warning["message_zh"]
    status = client.get(f"{API}/{accepted.get_json()['declaration_id']}", headers=auth(accept="application/json"))
    assert "R111" in {f["code"] for f in status.get_json()["findings"]}
    refused = post(client, declaration_xml(lrn="LRN-HS6-2", hs_code="85171599"))
    assert refused.status_code == 422 and refused.get_json()["code"] == "RULES_REJECTED"
    error = next(e for e in refused.get_json()["errors"] if e["rule"] == "R101")
    assert error["path"] == "/Declaration/GoodsShipment/GovernmentAgencyGoodsItem/Commodity/Classification/ID"
    assert "R111" not in {e["rule"] for e in refused.get_json()["errors"]}
    response_schema.assertValid(etree.fromstring(post(client, declaration_xml(lrn="LRN-HS6-3", hs_code="85171399"),
                                                      accept="application/xml").data))
