"""Declarations in schema v2 (the Hong Kong profile of the WCO Data Model) and WCO DEC-DMS
documents, posted to the one declarations endpoint as a logistics system would."""
from __future__ import annotations

import pytest

from flask import Flask
from flask.testing import FlaskClient
from lxml import etree
from sqlalchemy import update

from app.db.case_models import User
from app.db.models import Declaration
from tests.conftest import PROJECT_ROOT, auth, sample
from tests.integration.test_officer_app import browser, lodge

API = "/api/v1/declarations"
V2 = "v2/valid/import-5-items.xml"
DMS = "wco/valid/import-dec-dms-2-items.xml"
R2 = {"r": "urn:csw:response:v2"}


def _response_v2() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(PROJECT_ROOT / "schemas/response/v2/response.xsd")))


def test_a_v2_declaration_is_accepted_and_answered_in_response_v2(client: FlaskClient) -> None:
    response = client.post(API, data=sample(V2), headers=auth())
    assert response.status_code == 202, response.data
    document = etree.fromstring(response.data)
    assert etree.QName(document).namespace == "urn:csw:response:v2"
    assert _response_v2().validate(etree.ElementTree(document)), _response_v2().error_log
    status = client.get(response.headers["Location"], headers=auth())
    answer = etree.fromstring(status.data)
    assert _response_v2().validate(etree.ElementTree(answer)), _response_v2().error_log
    particulars = answer.find("r:Particulars", R2)
    assert particulars is not None
    assert particulars.findtext("r:DeliveryTerms", namespaces=R2) == "CIF"
    assert particulars.findtext("r:ExchangeRate", namespaces=R2) == "7.8"
    assert particulars.findtext("r:RepresentationStatus", namespaces=R2) == "2"
    assert particulars.findtext("r:PreviousDocuments/r:PreviousDocument/r:TypeCode", namespaces=R2) == "BL"
    assert [e.text for e in particulars.iterfind("r:RoutingCountries/r:CountryCode", R2)] == ["CN", "HK"]
    assert particulars.findtext("r:GoodsItems/r:GoodsItem/r:MarksNumbers", namespaces=R2) == "DTC/2611/01 1-20"


def test_a_v1_declaration_is_still_answered_in_response_v1(client: FlaskClient) -> None:
    response = client.post(API, data=sample("valid/import-5-items.xml"), headers=auth())
    assert response.status_code == 202
    assert etree.QName(etree.fromstring(response.data)).namespace == "urn:csw:response:v1"
    status = client.get(response.headers["Location"], headers=auth(accept="application/json"))
    assert "particulars" not in status.get_json()


def test_a_dec_dms_document_is_accepted_with_findings_naming_wco_paths(client: FlaskClient) -> None:
    response = client.post(API, data=sample(DMS), headers=auth(accept="application/json"))
    assert response.status_code == 202, response.get_json()
    findings = response.get_json()["findings"]
    by_rule = {(f["code"], f["path"]) for f in findings}
    assert ("R953", "/MetaData/Declaration/TypeCode") in by_rule
    assert ("R952", "/MetaData/Declaration/GoodsShipment/GovernmentAgencyGoodsItem[1]/Commodity/Classification[1]/ID"
            ) in by_rule
    assert ("R951", "/MetaData/Declaration/GoodsShipment/GovernmentAgencyGoodsItem[1]/Commodity/DutyTaxFee") in by_rule
    assert all(f["path"] is None or f["path"].startswith("/MetaData/") for f in findings), findings
    assert all(f["message_zh"] for f in findings)
    status = client.get(f"{API}/{response.get_json()['declaration_id']}", headers=auth(accept="application/json"))
    particulars = status.get_json()["particulars"]
    assert particulars["profile"] == "dec-dms"
    assert particulars["national_type_code"] == "IMA"
    assert particulars["invoice_currency"] == "GBP"
    document = client.get(f"{API}/{response.get_json()['declaration_id']}/documents/1", headers=auth())
    assert document.data == sample(DMS)


def test_a_dec_dms_document_missing_what_hong_kong_needs_is_refused_by_wco_path(client: FlaskClient) -> None:
    body = sample(DMS).replace(b'<NetNetWeightMeasure unitCode="KGM">450</NetNetWeightMeasure>', b"")
    response = client.post(API, data=body, headers=auth(accept="application/json"))
    assert response.status_code == 422
    answer = response.get_json()
    assert answer["code"] == "RULES_REJECTED"
    assert [e["rule"] for e in answer["errors"]] == ["R950"]
    assert answer["errors"][0]["path"].startswith(
        "/MetaData/Declaration/GoodsShipment/GovernmentAgencyGoodsItem[2]/Commodity/GoodsMeasure")


def test_a_dec_dms_amendment_and_cancellation_change_the_declaration(client: FlaskClient) -> None:
    lodged = client.post(API, data=sample(DMS), headers=auth(accept="application/json")).get_json()
    reference = lodged["declaration_id"]
    if lodged["status"] != "accepted":
        return  # released at once on the green lane: nothing left to amend or cancel
    amended = sample(DMS).replace(b"<FunctionCode>9</FunctionCode>",
                                  b"<FunctionCode>13</FunctionCode>", 1).replace(
        b"<FunctionalReferenceID>DTC-DMS-2026-0301</FunctionalReferenceID>",
        b"<FunctionalReferenceID>DTC-DMS-2026-0301</FunctionalReferenceID><ID>" + reference.encode() + b"</ID>")
    response = client.post(API, data=amended, headers=auth(accept="application/json"))
    assert response.status_code == 202, response.get_json()
    assert response.get_json()["version"] == 2
    cancellation = (b'<md:MetaData xmlns:md="urn:wco:datamodel:WCO:DocumentMetaData-DMS:2" '
                    b'xmlns="urn:wco:datamodel:WCO:DEC-DMS:2"><Declaration><FunctionCode>13</FunctionCode>'
                    b"<FunctionalReferenceID>DTC-DMS-2026-0301</FunctionalReferenceID><ID>" + reference.encode()
                    + b"</ID><TypeCode>INV</TypeCode><AdditionalInformation><StatementDescription>Goods returned "
                    b"to the seller</StatementDescription></AdditionalInformation></Declaration></md:MetaData>")
    response = client.post(API, data=cancellation, headers=auth(accept="application/json"))
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "cancelled"


def test_officers_see_the_new_elements_in_english_and_chinese(clean_app: Flask, accounts: dict[str, int]) -> None:
    _, declaration_id = lodge(clean_app, "DTC-IM-2026-V2-0101", body=sample(V2))
    client, _ = browser(clean_app, "officer")
    page = client.get(f"/officer/declarations/{declaration_id}").text
    for text in ("Delivery terms", "CIF", "Invoice amount", "288,900.00 USD", "1 USD = 7.8 HKD",
                 "direct representation", "Harbour Customs Brokers Limited", "consignor", "Bright Star Logistics",
                 "Previous document", "BL CSLYTNHKG2611081", "Marks and numbers", "DTC/2611/01 1-20",
                 "Customs procedure", "40 ← 00", "CN → HK", "Means of transport", "CSCL Star"):
        assert text in page, text
    with clean_app.extensions["csw"].sessions() as session, session.begin():
        session.execute(update(User).where(User.username == "officer").values(locale="zh_Hant"))
    client, _ = browser(clean_app, "officer")
    page = client.get(f"/officer/declarations/{declaration_id}").text
    for text in ("交貨條件", "發票金額", "直接代理", "發貨人", "先前文件", "嘜頭及編號", "海關程序", "途經國家"):
        assert text in page, text


def test_every_refusal_of_a_wco_document_names_the_path_in_the_document(client: FlaskClient) -> None:
    someone_else = sample(DMS).replace(b"<Declarant>\n      <ID>12345678</ID>", b"<Declarant>\n      <ID>99887766</ID>")
    answer = client.post(API, data=someone_else, headers=auth(accept="application/json")).get_json()
    assert answer["code"] == "DECLARANT_MISMATCH"
    assert answer["errors"][0]["path"] == "/MetaData/Declaration/Declarant/ID"
    amendment = sample(DMS).replace(b"<FunctionCode>9</FunctionCode>", b"<FunctionCode>13</FunctionCode>", 1)
    answer = client.post(API, data=amendment, headers=auth(accept="application/json")).get_json()
    assert answer["code"] == "RULES_REJECTED"
    assert answer["errors"][0]["path"] == "/MetaData/Declaration/ID"
    assert answer["errors"][0]["rule"] == "R950"


def test_a_v2_amendment_naming_its_declaration_in_id_is_taken_at_the_declarations_endpoint(
        client: FlaskClient, clean_app: Flask) -> None:
    """Schema v2's ID names the declaration a FunctionCode 13 amends: posted like a new one, it amends."""
    reference = client.post(API, data=sample(V2), headers=auth(accept="application/json")).get_json()["declaration_id"]
    with clean_app.extensions["csw"].sessions() as session, session.begin():
        session.execute(update(Declaration).where(Declaration.id == reference).values(status="accepted"))
    amendment = sample(V2).replace(b"<FunctionCode>9</FunctionCode>", b"<FunctionCode>13</FunctionCode>", 1).replace(
        b"<FunctionalReferenceID>DTC-IM-2026-V2-0101</FunctionalReferenceID>",
        b"<FunctionalReferenceID>DTC-IM-2026-V2-0101</FunctionalReferenceID><ID>" + reference.encode() + b"</ID>")
    response = client.post(API, data=amendment, headers=auth(accept="application/json"))
    assert response.status_code == 202, response.get_json()
    assert (response.get_json()["declaration_id"], response.get_json()["version"]) == (reference, 2)
    without_id = sample(V2).replace(b"<FunctionCode>9</FunctionCode>", b"<FunctionCode>13</FunctionCode>", 1)
    refused = client.post(API, data=without_id, headers=auth(accept="application/json"))
    assert refused.status_code == 422 and refused.get_json()["code"] == "WRONG_FUNCTION_CODE"


@pytest.mark.parametrize("padding", [400, 10_000], ids=["read-by-the-group", "long-so-read-on-its-own"])
def test_a_wco_document_whose_namespace_comes_late_is_still_read_as_one(client: FlaskClient, padding: int) -> None:
    """The API sends a document that looks like v1 by its first bytes to be read by its group's
    leader (or, past 64 KiB, by its own post); one that proves to be a WCO document is handed
    back and lodged as one, its amendment an amendment and its refusals named by their paths in
    the document."""
    def late(body: bytes) -> bytes:
        declaration, rest = body.split(b"?>", 1)
        return declaration + b"?>\n<!--" + b" padding" * padding + b" -->" + rest

    someone_else = sample(DMS).replace(b"<Declarant>\n      <ID>12345678</ID>", b"<Declarant>\n      <ID>99887766</ID>")
    answer = client.post(API, data=late(someone_else), headers=auth(accept="application/json")).get_json()
    assert answer["code"] == "DECLARANT_MISMATCH"
    assert answer["errors"][0]["path"] == "/MetaData/Declaration/Declarant/ID"
    amendment = sample(DMS).replace(b"<FunctionCode>9</FunctionCode>", b"<FunctionCode>13</FunctionCode>", 1)
    answer = client.post(API, data=late(amendment), headers=auth(accept="application/json")).get_json()
    assert answer["code"] == "RULES_REJECTED"
    assert answer["errors"][0]["path"] == "/MetaData/Declaration/ID"
    lodged = client.post(API, data=late(sample(DMS)), headers=auth(accept="application/json"))
    assert lodged.status_code == 202, lodged.get_json()
    status = client.get(lodged.headers["Location"], headers=auth(accept="application/json")).get_json()
    assert status["particulars"]["profile"] == "dec-dms"
