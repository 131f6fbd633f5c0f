"""Hostile and broken input gets a specific 4xx within a second, the service stays up,
and nothing stored is touched."""
from __future__ import annotations


import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from app.db import models
from tests.conftest import TRADER_KEY, auth
from tests.factories import declaration_xml
from tests.timing import timed

API = "/api/v1/declarations"

XXE_FILE = b"""<?xml version="1.0"?>
<!DOCTYPE Declaration [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<Declaration xmlns="urn:csw:declaration:v1"><FunctionCode>9</FunctionCode>
<FunctionalReferenceID>&xxe;</FunctionalReferenceID></Declaration>"""

XXE_URL = b"""<?xml version="1.0"?>
<!DOCTYPE Declaration [<!ENTITY xxe SYSTEM "http://127.0.0.1:9/secret">]>
<Declaration xmlns="urn:csw:declaration:v1">&xxe;</Declaration>"""

BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{i} "{("&lol%s;" % (i - 1 if i > 1 else "")) * 10}">' for i in range(1, 10))
    + ']><Declaration xmlns="urn:csw:declaration:v1">&lol9;</Declaration>'
).encode()

EXTERNAL_DTD = (b'<?xml version="1.0"?><!DOCTYPE Declaration SYSTEM "http://127.0.0.1:9/x.dtd">'
                b'<Declaration xmlns="urn:csw:declaration:v1"/>')

DEEP = b"<Declaration xmlns='urn:csw:declaration:v1'>" + b"<a>" * 10_000 + b"</a>" * 10_000 + b"</Declaration>"

NON_UTF8 = declaration_xml().replace(b"Smartphones", "Téléphones".encode("latin-1"))


@pytest.mark.parametrize(("name", "body", "status", "code"), [
    ("xxe-file", XXE_FILE, 400, "XML_FORBIDDEN"),
    ("xxe-url", XXE_URL, 400, "XML_FORBIDDEN"),
    ("billion-laughs", BILLION_LAUGHS, 400, "XML_FORBIDDEN"),
    ("external-dtd", EXTERNAL_DTD, 400, "XML_FORBIDDEN"),
    ("deep-nesting", DEEP, 400, "XML_FORBIDDEN"),
    ("non-utf8", NON_UTF8, 400, "ENCODING_INVALID"),
    ("empty", b"", 400, "EMPTY_BODY"),
    ("not-xml", b"hello, customs", 400, "XML_MALFORMED"),
    ("truncated", declaration_xml()[:200], 400, "XML_MALFORMED"),
    ("xinclude", b'<Declaration xmlns="urn:csw:declaration:v1" xmlns:xi="http://www.w3.org/2001/XInclude">'
                 b'<xi:include href="file:///etc/passwd" parse="text"/></Declaration>', 422, "SCHEMA_INVALID"),
])
def test_hostile_documents_are_refused_quickly(client: FlaskClient, clean_app: Flask, name: str, body: bytes,
                                               status: int, code: str) -> None:
    existing = client.post(API, data=declaration_xml(lrn="LRN-KEEP"), headers=auth(accept="application/json"))
    assert existing.status_code == 202
    response, cpu_seconds = timed(lambda: client.post(API, data=body, headers=auth(accept="application/json")))
    assert cpu_seconds < 1.0, name
    assert response.status_code == status, response.get_json()
    answer = response.get_json()
    assert answer["code"] == code
    assert answer["message"]
    assert "root:x:0:0" not in response.get_data(as_text=True)
    assert response.headers["X-Conversation-ID"]
    with clean_app.extensions["csw"].sessions() as session:
        assert session.scalar(select(func.count()).select_from(models.Declaration)) == 1
    assert client.post(API, data=declaration_xml(lrn="LRN-AFTER"), headers=auth()).status_code == 202


def test_oversized_body_is_refused_with_413(client: FlaskClient) -> None:
    body = declaration_xml().replace(b"</Declaration>", b"<!--" + b"x" * (20 * 1024 * 1024) + b"--></Declaration>")
    response, cpu_seconds = timed(lambda: client.post(API, data=body, headers=auth(accept="application/json")))
    assert cpu_seconds < 1.0
    assert response.status_code == 413
    assert response.get_json()["code"] == "BODY_TOO_LARGE"
    assert "5242880" in response.get_json()["message"]


@pytest.mark.parametrize("content_type", ["application/json", "text/plain", "application/x-www-form-urlencoded", ""])
def test_wrong_content_type_is_415(client: FlaskClient, content_type: str) -> None:
    headers = {"Authorization": f"Bearer {TRADER_KEY}", "Accept": "application/json"}
    if content_type:
        headers["Content-Type"] = content_type
    response = client.post(API, data=declaration_xml(), headers=headers)
    assert response.status_code == 415
    assert response.get_json()["code"] == "UNSUPPORTED_MEDIA_TYPE"
    assert "application/xml" in response.get_json()["message"]


def test_xml_with_structured_suffix_type_is_accepted(client: FlaskClient) -> None:
    headers = {**auth(), "Content-Type": "application/vnd.csw.declaration+xml; charset=utf-8"}
    assert client.post(API, data=declaration_xml(), headers=headers).status_code == 202


# --- issue 19: floods answered within the problem cap; an issue date-time is an instant -------

def attribute_flood(count: int, element: bytes = b"GoodsShipment", body: bytes | None = None) -> bytes:
    attributes = b" ".join(b'a%d="x"' % n for n in range(count))
    base = declaration_xml() if body is None else body
    return base.replace(b"<" + element + b">", b"<" + element + b" " + attributes + b">", 1)


def empty_goods_items(count: int) -> bytes:
    base = declaration_xml()
    start = base.index(b"<GovernmentAgencyGoodsItem>")
    end = base.index(b"</GovernmentAgencyGoodsItem>") + len(b"</GovernmentAgencyGoodsItem>")
    return base[:start] + b"<GovernmentAgencyGoodsItem/>" * count + base[end:]


ZONELESS = declaration_xml().replace(b"2026-11-20T09:30:00+08:00", b"2026-11-20T09:30:00")
YEAR_ONE = declaration_xml().replace(b"2026-11-20T09:30:00+08:00", b"0001-01-01T00:00:00-14:00")


@pytest.mark.parametrize(("name", "body", "status", "code", "path", "rule"), [
    ("attribute-flood-5000", attribute_flood(5000), 422, "SCHEMA_INVALID", "/Declaration/GoodsShipment",
     "xsd:attribute"),
    ("attribute-flood-over-the-limit", attribute_flood(25_000), 400, "XML_FORBIDDEN", "/Declaration/GoodsShipment",
     "attribute-limit"),
    ("100k-empty-goods-items", empty_goods_items(100_000), 422, "SCHEMA_INVALID",
     "/Declaration/GoodsShipment/GovernmentAgencyGoodsItem[1]", "xsd:content"),
    ("issue-date-time-without-zone", ZONELESS, 422, "VALUE_OUT_OF_RANGE", "/Declaration/IssueDateTime", "date-zone"),
    ("issue-date-time-in-year-one", YEAR_ONE, 422, "RULES_REJECTED", "/Declaration/IssueDateTime", "R303"),
])
def test_issue_19_documents_get_a_specific_4xx_naming_the_rule(client: FlaskClient, clean_app: Flask, name: str,
                                                               body: bytes, status: int, code: str, path: str,
                                                               rule: str) -> None:
    response, cpu_seconds = timed(lambda: client.post(API, data=body, headers=auth(accept="application/json")))
    assert cpu_seconds < 2.0, name
    assert response.status_code == status, response.get_json()
    answer = response.get_json()
    assert answer["code"] == code and answer["message"]
    assert (path, rule) in {(error.get("path"), error.get("rule")) for error in answer["errors"]}, answer["errors"]
    assert len(answer["errors"]) <= 25
    with clean_app.extensions["csw"].sessions() as session:
        assert session.scalar(select(func.count()).select_from(models.Declaration)) == 0
    assert client.post(API, data=declaration_xml(lrn="LRN-AFTER"), headers=auth()).status_code == 202


def test_an_attribute_flood_on_an_amendment_or_an_xml_cancellation_is_answered_quickly(client: FlaskClient) -> None:
    lodged = client.post(API, data=declaration_xml(lrn="LRN-FLOOD"), headers=auth(accept="application/json"))
    reference = lodged.get_json()["declaration_id"]
    amendment = attribute_flood(5000, body=declaration_xml(lrn="LRN-FLOOD", function_code="13"))
    cancellation = attribute_flood(5000, b"Reason", b'<Cancellation xmlns="urn:csw:cancellation:v1">'
                                                      b"<Reason>duplicate lodgement</Reason></Cancellation>")
    for url, body in ((f"{API}/{reference}/amendments", amendment), (f"{API}/{reference}/cancellation", cancellation)):
        response, cpu_seconds = timed(lambda url=url, body=body: client.post(
            url, data=body, headers=auth(accept="application/json")))
        assert cpu_seconds < 2.0, url
        assert response.status_code == 422, response.get_json()
        answer = response.get_json()
        assert answer["code"] == "SCHEMA_INVALID"
        assert {error["rule"] for error in answer["errors"]} == {"xsd:attribute"}
    status = client.get(f"{API}/{reference}", headers=auth(accept="application/json")).get_json()
    assert status["status"] == "accepted"
