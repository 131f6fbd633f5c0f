"""The portal's pure parts: form data -> declaration v2 document (canonical, schema-valid,
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
    """What an amendment starts from: a stored v1 document -> form -> v2 document carries the
    same content (the form has no Totals, the declarant comes from the party record, and it
    carries every previous document without its line and mass)."""
    original = INTAKE.receive_declaration(path.read_bytes())
    declarant = original.declaration.declarant
    rebuilt = build_declaration(form_data_from_xml(path.read_bytes()), declarant.identifier, declarant.name,
                                original.declaration.function_code.value)
    parties = tuple(replace(p, address_line=None, city=None, country=None) if p.role is PartyRole.DECLARANT else p
                    for p in original.declaration.parties)
    previous = tuple(replace(d, line=None, gross_mass=None) for d in original.declaration.previous_documents)
    declaration = INTAKE.receive_declaration(rebuilt).declaration
    assert declaration.particulars is not None and declaration.particulars.profile == "v2"
    assert replace(declaration, particulars=None) == replace(original.declaration, totals=None, parties=parties,
                                                             previous_documents=previous)
    assert build_declaration(form_data_from_xml(rebuilt), declarant.identifier, declarant.name,
                             original.declaration.function_code.value) == rebuilt


def test_the_document_is_canonical_utf8_with_the_v2_namespace() -> None:
    body = build_declaration(form(), "12345678", "Demo")
    assert body.startswith(b"<?xml version='1.0' encoding='UTF-8'?>\n<Declaration xmlns=\"urn:csw:declaration:v2\">")
    assert etree.fromstring(body).findtext("{urn:csw:declaration:v2}FunctionCode") == "9"
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
    ("/Declaration/BorderTransportMeans/ModeCode", "transport_mode"),
    ("/Declaration/BorderTransportMeans/ID", "conveyance_id"),
    ("/Declaration/Consignment/Carrier/Address/CountryCode", "carrier-country"),
    ("/Declaration/GoodsShipment/Importer/ID", "importer-identifier"),
    ("/Declaration/GoodsShipment/UCR/ID", "ucr"),
    ("/Declaration/GoodsShipment/Consignment/GoodsLocation/ID", "control_point"),
    ("/Declaration/GoodsShipment/Consignment/UnloadingLocation/ID", "destination_location"),
    ("/Declaration/GoodsShipment/GovernmentAgencyGoodsItem[2]/Commodity/GoodsMeasure/NetNetWeightMeasure",
     "items-1-net_mass"),
    ("/Declaration/GoodsShipment/GovernmentAgencyGoodsItem/Commodity/GoodsMeasure/TariffQuantity/@unitCode",
     "items-0-quantity_unit"),
    ("/Declaration/Agent/ID", "agent_id"),
    ("/Declaration/Agent/FunctionCode", "representation"),
    ("/Declaration/InvoiceAmount", "invoice_amount"),
    ("/Declaration/InvoiceAmount/@currencyID", "invoice_currency"),
    ("/Declaration/CurrencyExchange/RateNumeric", "exchange_rate"),
    ("/Declaration/GoodsShipment/TradeTerms/ConditionCode", "delivery_terms"),
    ("/Declaration/GoodsShipment/TradeTerms/LocationName", "delivery_place"),
    ("/Declaration/GoodsShipment/PreviousDocument", "previous-0-previous_id"),
    ("/Declaration/GoodsShipment/PreviousDocument[1]/TypeCode", "previous-0-previous_type"),
    ("/Declaration/GoodsShipment/PreviousDocument/QuantityQuantity", "previous-0-previous_packages"),
    ("/Declaration/GoodsShipment/PreviousDocument[3]/ID", "previous-2-previous_id"),
    ("/Declaration/GoodsShipment/Consignment/PreviousDocument[1]/ID", "previous-0-previous_id"),
    ("/Declaration/GoodsShipment/Consignment/PreviousDocument[2]/QuantityQuantity", "previous-1-previous_packages"),
    ("/Declaration", None),
    ("reason", None),
    (None, None),
])
def test_problem_paths_map_to_form_fields(path: str | None, field: str | None) -> None:
    assert field_for_path(path) == field


V2_SECTIONS = {"agent_name": "Harbour Customs Brokers Limited", "agent_id": "23456789", "representation": "2",
               "delivery_terms": "CIF", "delivery_place": "HKHKG", "invoice_amount": "1200.00",
               "invoice_currency": "USD", "exchange_rate": "7.8",
               "previous": [{"previous_type": "CRN", "previous_id": "CRN-2026-000123", "previous_packages": "20"},
                            {"previous_type": "BL", "previous_id": "CSLYTNHKG2611081", "previous_packages": ""}]}


def test_the_optional_sections_are_declared_in_v2_and_read_back() -> None:
    body = build_declaration(form(**V2_SECTIONS), "12345678", "Demo")
    declaration = INTAKE.receive_declaration(body).declaration
    particulars = declaration.particulars
    assert particulars is not None and particulars.representation_status is not None
    assert particulars.representation_status.value == "2"
    assert (particulars.delivery_terms, particulars.delivery_place) == ("CIF", "HKHKG")
    assert (str(particulars.invoice_amount), particulars.invoice_currency, str(particulars.exchange_rate)) == \
        ("1200.00", "USD", "7.8")
    assert [(p.identifier, p.name) for p in declaration.parties if p.role is PartyRole.AGENT] == \
        [("23456789", "Harbour Customs Brokers Limited")]
    assert [(d.type_code, d.identifier, d.package_count) for d in declaration.previous_documents] == \
        [("CRN", "CRN-2026-000123", 20), ("BL", "CSLYTNHKG2611081", None)]
    again = form_data_from_xml(body)
    assert {key: again[key] for key in V2_SECTIONS} == V2_SECTIONS
    assert build_declaration(again, "12345678", "Demo") == body


def test_a_place_that_is_not_a_locode_is_declared_by_its_name() -> None:
    body = build_declaration(form(delivery_terms="FOB", delivery_place="Yantian"), "12345678", "Demo")
    particulars = INTAKE.receive_declaration(body).declaration.particulars
    assert particulars is not None and particulars.delivery_place == "Yantian"
    assert b"<LocationName>Yantian</LocationName>" in body


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
