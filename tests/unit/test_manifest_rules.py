"""Manifest rules as data and the check digits they rest on: IMO numbers, air waybills, ISO 6346
containers, manifest references; a broken rules file stops start-up naming the rule; the rules
find what a carrier got wrong, each at its path."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from app.cargo.manifest_rules import evaluate, load_rules
from app.domain.cargo import Address, CargoParty
from app.domain.manifests import (
    Conveyance,
    Equipment,
    Manifest,
    ManifestConsignment,
    TransportDocument,
    is_valid_air_waybill,
    is_valid_container_number,
    is_valid_imo_number,
    is_valid_manifest_reference,
    line_status,
    manifest_decision,
    new_manifest_reference,
)
from app.domain.problems import RulesDataError
from app.reference.codelists import load_code_lists

RULES = Path(__file__).resolve().parents[2] / "rules"
NOW = datetime(2026, 12, 7, 2, 0, tzinfo=timezone.utc)


def test_check_digits() -> None:
    assert is_valid_imo_number("9321483") and not is_valid_imo_number("9321484")
    assert is_valid_air_waybill("160-12345675") and is_valid_air_waybill("16012345675")
    assert not is_valid_air_waybill("160-12345676") and not is_valid_air_waybill("160-1234567")
    assert is_valid_container_number("CSQU3054383") and not is_valid_container_number("CSQU3054384")
    reference = new_manifest_reference(NOW)
    assert reference.startswith("HK26M") and is_valid_manifest_reference(reference)
    assert not is_valid_manifest_reference(reference[:-1] + ("0" if reference[-1] != "0" else "1"))


def test_a_manifest_is_cleared_only_when_no_consignment_is_selected() -> None:
    assert [line_status(lane).value for lane in ("green", "yellow", "red", None)] == [
        "cleared", "selected", "selected", "cleared"]
    assert manifest_decision(["cleared", "cleared"]).value == "cleared"
    assert manifest_decision(["cleared", "selected"]).value == "inspection"


def _party(country: str) -> CargoParty:
    return CargoParty("Someone Ltd", Address("1 Road", "City", country))


def _manifest(**changes: object) -> Manifest:
    consignment = ManifestConsignment(1, _party("CN"), _party("HK"), 10, "CT", None, "Cotton shirts",
                                      Decimal("100"), None, None, (Equipment("CSQU3054383", ("S1",)),))
    manifest = Manifest("9", "M-1", "87654321", "Harbour", "IM", "1", "HKKCG",
                        Conveyance(imo_number="9321483", vessel_name="PIONEER", voyage="01N"), "CNSHA", "HKHKG",
                        NOW + timedelta(days=1), (TransportDocument("BL", "BL1", False, (consignment,)),))
    return replace(manifest, **changes)  # type: ignore[arg-type]


def _found(manifest: Manifest) -> set[tuple[str, str | None]]:
    return {(f.code, f.path) for f in evaluate(load_rules(RULES), manifest, load_code_lists(RULES / "codelists"), NOW)}


def test_the_shipped_rules_load_and_a_good_manifest_passes() -> None:
    rules = load_rules(RULES)
    assert [rule.code for rule in rules.rules] == [f"M{n}" for n in range(101, 113)]
    assert rules.partner_customs["CNYTN"] == "shenzhen"
    assert _found(_manifest()) == set()


@pytest.mark.parametrize(("changes", "found"), [
    ({"conveyance": Conveyance(imo_number="9321484", vessel_name="X", voyage="1")},
     ("M101", "/Manifest/BorderTransportMeans/IMOID")),
    ({"mode": "4"}, ("M101", "/Manifest/BorderTransportMeans")),
    ({"control_point": "HKHKG"}, ("M105", "/Manifest/ControlPointID")),
    ({"unloading_location": "SGSIN"}, ("M106", "/Manifest/UnloadingLocationID")),
    ({"scheduled_at": NOW + timedelta(days=40)}, ("M107", "/Manifest/ScheduledDateTime")),
])
def test_each_rule_names_its_path(changes: dict[str, object], found: tuple[str, str]) -> None:
    assert found in _found(_manifest(**changes))


def test_documents_and_containers_are_checked_where_they_are() -> None:
    good = _manifest()
    document = good.documents[0]
    bad_box = replace(document.consignments[0], equipment=(Equipment("CSQU3054383", ()),
                                                           Equipment("CSQU3054384", ())))
    twice = (document, replace(document, consignments=(bad_box,)))
    assert _found(replace(good, documents=twice)) == {
        ("M108", "/Manifest/TransportDocument[2]/ID"),
        ("M104", "/Manifest/TransportDocument[2]/Consignment/TransportEquipment[2]/ID")}
    awb = replace(good, mode="4", control_point="HKHKG", conveyance=Conveyance(flight_number="CX1"),
                  documents=(replace(document, kind="AWB", number="160-12345676"),))
    assert _found(awb) == {("M103", "/Manifest/TransportDocument/ID")}


def test_a_broken_rule_stops_start_up_naming_it(tmp_path: Path) -> None:
    (tmp_path / "manifest").mkdir()
    (tmp_path / "manifest" / "rules.toml").write_text(
        '[[rule]]\ncode = "C101"\ncheck = "container_number"\nseverity = "reject"\n'
        'title = { en = "t", zh = "t" }\nmessage = { en = "m", zh = "m" }\n', encoding="utf-8")
    with pytest.raises(RulesDataError, match="code must look like M101"):
        load_rules(tmp_path)
