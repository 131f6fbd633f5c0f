"""The trader's form lodges declaration schema v2 (issue 20): the optional sections for the
agent and its representation status, the delivery terms, the invoice and the previous
documents (one row each) are declared in v2 and their errors come back on their own fields, in English and
Chinese; a declaration lodged in v1 by a trader's system is amended from the form in v2."""
from __future__ import annotations

import re
from typing import Any

from flask import Flask
from lxml import etree

from app.portal.document import form_data_from_xml
from tests.conftest import TRADER_KEY, auth, sample
from tests.integration.test_portal_plain_errors import summary_of
from tests.integration.test_portal_web import form_fields, post_form, reference_of, signed_in, stored, token

V2 = "urn:csw:declaration:v2"
SECTIONS = {"agent_name": "Harbour Customs Brokers Limited", "agent_id": "23456789", "representation": "2",
            "delivery_terms": "cif", "delivery_place": "HKHKG", "invoice_amount": "3600.00",
            "invoice_currency": "hkd", "exchange_rate": "", "previous-0-previous_type": "CRN",
            "previous-0-previous_id": "CRN-2026-000123", "previous-0-previous_packages": "20"}


def _document(app: Flask, reference: str) -> etree._Element:
    client = signed_in(app, "trader")
    return etree.fromstring(client.get(f"/trader/declarations/{reference}/documents/1").data)


def test_the_form_lodges_a_v2_declaration_with_its_optional_sections(traders: Flask) -> None:
    client = signed_in(traders, "trader")
    page = client.get("/trader/declarations/new").get_data(as_text=True)
    assert 'id="trade"' in page and "Representation status" in page and "Add a previous document" in page
    reference = reference_of(post_form(client, form_fields(lrn="V2-FORM-1", **SECTIONS)))
    row = stored(traders, reference)
    assert row.schema_namespace == V2
    root = _document(traders, reference)
    ns = {"d": V2}
    assert root.findtext("d:Agent/d:ID", namespaces=ns) == "23456789"
    assert root.findtext("d:Agent/d:FunctionCode", namespaces=ns) == "2"
    assert root.findtext("d:GoodsShipment/d:TradeTerms/d:ConditionCode", namespaces=ns) == "CIF"
    assert root.findtext("d:GoodsShipment/d:TradeTerms/d:LocationID", namespaces=ns) == "HKHKG"
    assert root.find("d:InvoiceAmount", namespaces=ns).get("currencyID") == "HKD"
    assert root.findtext("d:GoodsShipment/d:PreviousDocument/d:TypeCode", namespaces=ns) == "CRN"
    # the declaration page and the amendment form show what was declared
    amend = client.get(f"/trader/declarations/{reference}/amend").get_data(as_text=True)
    assert 'value="CRN-2026-000123"' in amend and 'value="Harbour Customs Brokers Limited"' in amend


def test_a_form_without_the_optional_sections_is_v2_too(traders: Flask) -> None:
    client = signed_in(traders, "trader")
    reference = reference_of(post_form(client, form_fields(lrn="V2-FORM-2")))
    assert stored(traders, reference).schema_namespace == V2
    assert _document(traders, reference).find("{urn:csw:declaration:v2}Agent") is None


BAD = {"agent_id": "123", "delivery_terms": "C1F", "invoice_amount": "12.345", "invoice_currency": "US1",
       "exchange_rate": "abc", "previous-0-previous_packages": "0"}


def test_errors_in_the_optional_sections_are_on_their_fields(traders: Flask) -> None:
    client = signed_in(traders, "trader")
    page = post_form(client, form_fields(lrn="V2-BAD-1", items=1, **BAD)).get_data(as_text=True)
    summary = summary_of(page)
    for label in ("Agent's ID (BR number or AEO id)", "Delivery terms (Incoterms)", "Invoice amount",
                  "Invoice currency", "Exchange rate to HKD", "Previous document 1 · Packages it covers"):
        assert any(line.startswith(f"{label}:") for line in summary), (label, summary)
    for field in BAD:
        assert re.search(rf'id="{field}"[^>]*aria-invalid="true"|aria-invalid="true"[^>]*id="{field}"', page), field
    assert '<details class="section" id="trade" open>' in page


def test_an_agent_without_representation_is_refused_at_its_status(traders: Flask) -> None:
    client = signed_in(traders, "trader")
    data = form_fields(lrn="V2-BAD-2", items=1, agent_name="Harbour Customs Brokers Limited", agent_id="23456789",
                       representation="1")
    summary = summary_of(post_form(client, data).get_data(as_text=True))
    assert any(line.startswith("Representation status:") for line in summary), summary


def test_errors_in_the_optional_sections_are_in_chinese_on_the_chinese_page(traders: Flask) -> None:
    client = signed_in(traders, "trader")
    client.post("/officer/locale", data={"locale": "zh_Hant", "next": "/trader/", "csrf_token": token(client)})
    summary = summary_of(post_form(client, form_fields(lrn="V2-BAD-3", items=1, **BAD)).get_data(as_text=True))
    labels = ("代理人識別號碼", "交貨條款（國際貿易術語）", "發票金額", "發票貨幣", "兌港元匯率",
              "先前文件 1 · 所涵蓋的包裝件數")
    for label in labels:
        assert any(line.startswith(label) for line in summary), (label, summary)
    for line in summary:  # what was typed (「abc」) and codes in the examples are not English words
        assert not re.search(r"[a-z]{3,}", re.sub(r"「[^」]*」", "", line)), line


def _flat(data: dict[str, Any]) -> dict[str, str]:
    """The form's nested data as the browser posts it (``items-0-hs_code``)."""
    flat: dict[str, str] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            flat.update({f"{key}-{name}": str(text) for name, text in value.items()})
        elif isinstance(value, list):
            for index, row in enumerate(value):
                flat.update({f"{key}-{index}-{name}": str(text) for name, text in row.items()})
        else:
            flat[key] = str(value)
    return flat


def test_a_v1_declaration_lodged_by_api_is_amended_from_the_form_in_v2(traders: Flask) -> None:
    body = sample("valid/import-5-items.xml")
    posted = traders.test_client().post("/api/v1/declarations", data=body, headers=auth(TRADER_KEY))
    assert posted.status_code == 202, posted.get_data(as_text=True)
    reference = re.search(rb"<DeclarationID>([^<]+)</DeclarationID>", posted.data).group(1).decode()
    assert stored(traders, reference).schema_namespace == "urn:csw:declaration:v1"
    client = signed_in(traders, "trader")
    page = client.get(f"/trader/declarations/{reference}/amend").get_data(as_text=True)
    data = form_data_from_xml(body)
    assert f'value="{data["lrn"]}"' in page
    data["items"][0]["quantity"] = "201"
    data["previous"] = [{"previous_type": "CRN", "previous_id": "CRN-2026-000777"}]
    path = f"/trader/declarations/{reference}/amend"
    assert reference_of(post_form(client, _flat(data), path=path)) == reference
    row = stored(traders, reference)
    assert (row.version, row.schema_namespace) == (2, V2)
    root = etree.fromstring(client.get(f"/trader/declarations/{reference}/documents/2").data)
    assert root.findtext("{urn:csw:declaration:v2}FunctionCode") == "13"


def test_a_declaration_names_several_previous_documents_and_an_amendment_keeps_them(traders: Flask) -> None:
    """One row per cargo document (e.g. two trucks' road cargo references); an error in the
    second row is on the second row's field; amending from the form keeps every document."""
    client = signed_in(traders, "trader")
    page = post_form(client, form_fields(lrn="V2-PREV-0"), action="add_previous").get_data(as_text=True)
    assert 'id="previous-1-previous_id"' in page and 'value="remove_previous:1"' in page
    two = {"previous-0-previous_type": "CRN", "previous-0-previous_id": "CRN-2026-000123",
           "previous-1-previous_type": "CRN", "previous-1-previous_id": "CRN-2026-000124",
           "previous-1-previous_packages": "0"}
    refused = post_form(client, form_fields(lrn="V2-PREV-1", **two)).get_data(as_text=True)
    assert any(line.startswith("Previous document 2 · Packages it covers:") for line in summary_of(refused))
    assert re.search(r'id="previous-1-previous_packages"[^>]*aria-invalid="true"|'
                     r'aria-invalid="true"[^>]*id="previous-1-previous_packages"', refused)
    reference = reference_of(post_form(client, form_fields(lrn="V2-PREV-1", **{**two,
                                                           "previous-1-previous_packages": "8"})))
    ns = {"d": V2}
    named = [(d.findtext("d:TypeCode", namespaces=ns), d.findtext("d:ID", namespaces=ns),
              d.findtext("d:QuantityQuantity", namespaces=ns))
             for d in _document(traders, reference).findall("d:GoodsShipment/d:PreviousDocument", ns)]
    assert named == [("CRN", "CRN-2026-000123", None), ("CRN", "CRN-2026-000124", "8")]
    path = f"/trader/declarations/{reference}/amend"
    amend = client.get(path).get_data(as_text=True)
    assert 'value="CRN-2026-000123"' in amend and 'value="CRN-2026-000124"' in amend
    data = form_data_from_xml(client.get(f"/trader/declarations/{reference}/documents/1").data)
    data["items"][0]["quantity"] = "201"
    assert reference_of(post_form(client, _flat(data), path=path)) == reference
    amended = etree.fromstring(client.get(f"/trader/declarations/{reference}/documents/2").data)
    assert [d.findtext("d:ID", namespaces=ns) for d in amended.findall("d:GoodsShipment/d:PreviousDocument", ns)] \
        == ["CRN-2026-000123", "CRN-2026-000124"]
