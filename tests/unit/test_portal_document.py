"""The portal's pure parts: form data -> declaration v1 document (canonical, schema-valid,
same content as the samples), problem paths -> form fields, and the code-list search."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from lxml import etree

from app.config import PROJECT_ROOT
from app.domain.declaration import PartyRole
from app.domain.problems import Rejection
from app.intake.service import Intake
from app.portal import codelists
from app.portal.document import (ITEM_DEFAULTS, build_declaration, documents, field_for_path, form_data_from_xml,
                                 seal_ids)

SAMPLES = sorted((PROJECT_ROOT / "samples" / "valid").glob("*.xml"))
INTAKE = Intake(PROJECT_ROOT / "schemas")


def form(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "type_code": "IM", "lrn": "FORM-1", "issued_at": "2026-11-20T09:30", "transport_mode": "3",
        "control_point": "HKLMC", "importer": {}, "exporter": {}, "carrier": {}, "equipment": [],
        "items": [{**ITEM_DEFAULTS, "description": "Smartphones", "hs_code": "85171300", "origin_country": "CN",
                   "quantity": "10", "net_mass": "2.5", "gross_mass": "3", "value": "1200.00"}],
    }
    data.update(overrides)
    return data


def test_a_filled_form_builds_a_schema_valid_declaration_in_hong_kong_time() -> None:
    received = INTAKE.receive_declaration(build_declaration(form(), "12345678", "Demo Trading Company Limited"))
    declaration = received.declaration
    assert declaration.lrn == "FORM-1" and declaration.declarant.identifier == "12345678"
    assert declaration.issued_at.isoformat() == "2026-11-20T09:30:00+08:00"
    assert [item.hs_code for item in declaration.goods_items] == ["85171300"]
    assert not [p for p in declaration.parties if p.role is PartyRole.IMPORTER]  # empty party left out


def test_rows_left_blank_are_not_declared_and_items_are_renumbered() -> None:
    items = form()["items"]
    data = form(items=[dict(ITEM_DEFAULTS), *items, dict(ITEM_DEFAULTS), *items],  # type: ignore[misc]
                equipment=[{}, {"container_id": "CSQU3054383", "seals": "S1, S2;S3", "elock_id": ""}])
    declaration = INTAKE.receive_declaration(build_declaration(data, "12345678", "Demo")).declaration
    assert [item.sequence for item in declaration.goods_items] == [1, 2]
    assert [(e.sequence, e.seal_ids) for e in declaration.equipment] == [(1, ("S1", "S2", "S3"))]


def test_a_required_value_left_empty_is_reported_at_its_own_field() -> None:
    item = {**form()["items"][0], "gross_mass": ""}  # type: ignore[index]
    with pytest.raises(Rejection) as refused:
        INTAKE.receive_declaration(build_declaration(form(items=[item], lrn=""), "12345678", "Demo"))
    fields = {field_for_path(p.path) for p in refused.value.problems}
    assert {"lrn", "items-0-gross_mass"} <= fields


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_every_sample_survives_the_form(path: Path) -> None:
    """What an amendment starts from: a stored document -> form -> document carries the same
    content (the form has no Totals, and the declarant comes from the party record)."""
    original = INTAKE.receive_declaration(path.read_bytes())
    declarant = original.declaration.declarant
    rebuilt = build_declaration(form_data_from_xml(path.read_bytes()), declarant.identifier, declarant.name,
                                original.declaration.function_code.value)
    parties = tuple(replace(p, address_line=None, city=None, country=None) if p.role is PartyRole.DECLARANT else p
                    for p in original.declaration.parties)
    assert INTAKE.receive_declaration(rebuilt).declaration == replace(original.declaration, totals=None,
                                                                      parties=parties)
    assert build_declaration(form_data_from_xml(rebuilt), declarant.identifier, declarant.name,
                             original.declaration.function_code.value) == rebuilt


def test_the_document_is_canonical_utf8_with_the_v1_namespace() -> None:
    body = build_declaration(form(), "12345678", "Demo")
    assert body.startswith(b"<?xml version='1.0' encoding='UTF-8'?>\n<Declaration xmlns=\"urn:csw:declaration:v1\">")
    assert etree.fromstring(body).findtext("{urn:csw:declaration:v1}FunctionCode") == "9"
    assert build_declaration(form(), "12345678", "Demo") == body


@pytest.mark.parametrize(("path", "field"), [
    ("/Declaration/FunctionalReferenceID", "lrn"),
    ("/Declaration/IssueDateTime", "issued_at"),
    ("/Declaration/Declarant/ID", "declarant"),
    ("/Declaration/Declarant/AEOCertificateID", "declarant_aeo_id"),
    ("/Declaration/Exporter/Address/CountryCode", "exporter-country"),
    ("/Declaration/Importer", "importer-name"),
    ("/Declaration/GoodsShipment/Consignment/ControlPointID", "control_point"),
    ("/Declaration/GoodsShipment/Consignment/TransportEquipment/ID", "equipment-0-container_id"),
    ("/Declaration/GoodsShipment/Consignment/TransportEquipment[2]/Seal[3]/ID", "equipment-1-seals"),
    ("/Declaration/GoodsShipment/GovernmentAgencyGoodsItem[2]/Commodity/Classification/ID", "items-1-hs_code"),
    ("/Declaration/GoodsShipment/GovernmentAgencyGoodsItem[1]/GoodsMeasure/GrossMassMeasure", "items-0-gross_mass"),
    ("/Declaration/GoodsShipment/GovernmentAgencyGoodsItem[3]/GoodsMeasure/NetMassMeasure/@unitCode",
     "items-2-net_mass_unit"),
    ("/Declaration/GoodsShipment/GovernmentAgencyGoodsItem[1]/CustomsValueAmount/@currencyID", "items-0-currency"),
    ("/Declaration/GoodsShipment/GovernmentAgencyGoodsItem[4]/AdditionalDocument[2]/ID", "items-3-documents"),
    ("/Declaration/GoodsShipment/GovernmentAgencyGoodsItem[1]", "items-0"),
    ("/Declaration/Totals/GoodsItemQuantity", "items"),
    ("/Declaration", None),
    ("reason", None),
    (None, None),
])
def test_problem_paths_map_to_form_fields(path: str | None, field: str | None) -> None:
    assert field_for_path(path) == field


def test_seals_and_documents_are_written_as_free_text() -> None:
    assert seal_ids(" A1, B2;C3  D4 ") == ["A1", "B2", "C3", "D4"]
    assert documents("DC DC-2026-000123\n\n IL  SC-IL-2026-000001") == [("DC", "DC-2026-000123"),
                                                                         ("IL", "SC-IL-2026-000001")]


def test_hs_codes_are_found_by_code_or_by_words_in_either_language() -> None:
    lists = codelists.load(PROJECT_ROOT / "rules")
    assert [c.code for c in lists.search_hs("0102")] == ["01022900"]
    assert "01022900" in [c.code for c in lists.search_hs("CATTLE live")]
    assert "01022900" in [c.code for c in lists.search_hs("活牛")]
    assert lists.search_hs("   ") == []
    assert {"HK", "CN"} <= {c.code for c in lists.countries}
    assert {"HKD", "USD"} <= {c.code for c in lists.currencies}
    assert "HKLMC" in {c.code for c in lists.control_points}


def test_text_xml_cannot_carry_is_found_by_field() -> None:
    from app.portal.document import fields_with_invalid_characters

    data = form(lrn="ok\x00", importer={"name": "tab\tand newline\n are fine"})
    data["items"][0]["description"] = "bell\x07"  # type: ignore[index]
    assert fields_with_invalid_characters(data) == ["lrn", "items-0-description"]
