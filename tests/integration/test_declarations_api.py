"""The intake API end to end through the Flask test client, on every database backend."""
from __future__ import annotations

import json

from flask import Flask
from flask.testing import FlaskClient
from lxml import etree
from sqlalchemy import func, select

from app.db import models
from app.domain.declaration import DeclarationStatus
from app.domain.reference import is_valid_declaration_reference
from app.declarations import service as service
from tests.conftest import OTHER_KEY, TRADER_KEY, auth
from tests.factories import declaration_xml

NS = {"r": "urn:csw:response:v1"}
API = "/api/v1/declarations"


def submit(client: FlaskClient, body: bytes, key: str = TRADER_KEY, accept: str = "application/json"):  # type: ignore[no-untyped-def]
    return client.post(API, data=body, headers=auth(key, accept))


def count(app: Flask, model: type) -> int:
    with app.extensions["csw"].sessions() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_valid_declaration_is_acknowledged_with_a_checked_reference(client: FlaskClient, response_schema) -> None:  # type: ignore[no-untyped-def]
    response = client.post(API, data=declaration_xml(items=5), headers=auth())
    assert response.status_code == 202
    assert response.mimetype == "application/xml"
    document = etree.fromstring(response.data)
    response_schema.assertValid(document)
    reference = document.findtext("r:DeclarationID", namespaces=NS)
    assert is_valid_declaration_reference(reference)
    assert document.findtext("r:Status", namespaces=NS) == "accepted"
    assert document.findtext("r:ConversationID", namespaces=NS) == response.headers["X-Conversation-ID"]
    assert response.headers["Location"].endswith(f"{API}/{reference}")


def test_stored_verbatim_with_hash_items_and_an_event(client: FlaskClient, clean_app: Flask) -> None:
    body = declaration_xml(lrn="LRN-STORE-1", items=3)
    reference = submit(client, body).get_json()["declaration_id"]
    with clean_app.extensions["csw"].sessions() as session:
        row = session.get(models.Declaration, reference)
        assert row is not None and row.goods_item_count == 3
        assert [item.sequence for item in row.goods_items] == [1, 2, 3]
        assert [e.kind for e in row.events] == ["submitted"]
        assert row.events[0].actor.startswith("client:")
        document = session.scalar(select(models.DeclarationDocument).where(
            models.DeclarationDocument.declaration_id == reference))
        assert document.body == body
    download = client.get(f"{API}/{reference}/documents/1", headers=auth())
    assert download.data == body
    import hashlib
    assert download.headers["Digest"] == f"sha-256={hashlib.sha256(body).hexdigest()}"


def test_json_when_asked(client: FlaskClient) -> None:
    response = submit(client, declaration_xml())
    assert response.mimetype == "application/json"
    assert response.get_json()["status"] == "accepted"


def test_identical_resubmission_returns_the_original_result(client: FlaskClient, clean_app: Flask) -> None:
    body = declaration_xml(lrn="LRN-IDEM-1")
    first = submit(client, body).get_json()
    again = submit(client, body)
    assert again.status_code == 202
    assert again.get_json()["declaration_id"] == first["declaration_id"]
    assert again.get_json()["replay"] is True
    assert count(clean_app, models.Declaration) == 1
    assert count(clean_app, models.DeclarationEvent) == 1


def test_same_lrn_different_document_is_a_conflict_naming_the_original(client: FlaskClient, response_schema) -> None:  # type: ignore[no-untyped-def]
    first = submit(client, declaration_xml(lrn="LRN-DUP-1")).get_json()
    conflict = client.post(API, data=declaration_xml(lrn="LRN-DUP-1", items=2), headers=auth())
    assert conflict.status_code == 409
    document = etree.fromstring(conflict.data)
    response_schema.assertValid(document)
    assert document.findtext("r:Code", namespaces=NS) == "DUPLICATE_LRN"
    assert document.findtext("r:ExistingDeclarationID", namespaces=NS) == first["declaration_id"]


def test_same_lrn_from_another_declarant_is_independent(client: FlaskClient) -> None:
    assert submit(client, declaration_xml(lrn="LRN-SHARED")).status_code == 202
    other = submit(client, declaration_xml(lrn="LRN-SHARED", declarant="87654321"), key=OTHER_KEY)
    assert other.status_code == 202


def test_declarant_must_be_the_clients_party(client: FlaskClient) -> None:
    response = submit(client, declaration_xml(declarant="87654321"))
    assert response.status_code == 422
    body = response.get_json()
    assert body["code"] == "DECLARANT_MISMATCH"
    assert body["errors"][0]["path"] == "/Declaration/Declarant/ID"


def test_schema_errors_come_as_one_envelope_with_paths_and_lines(client: FlaskClient, response_schema) -> None:  # type: ignore[no-untyped-def]
    body = declaration_xml(items=2, hs_code="1234")
    response = client.post(API, data=body, headers=auth())
    assert response.status_code == 422
    document = etree.fromstring(response.data)
    response_schema.assertValid(document)
    assert document.findtext("r:Code", namespaces=NS) == "SCHEMA_INVALID"
    errors = document.findall("r:Errors/r:Error", namespaces=NS)
    assert len(errors) == 2
    assert errors[1].findtext("r:Path", namespaces=NS).endswith(
        "GovernmentAgencyGoodsItem[2]/Commodity/Classification/ID")
    assert int(errors[0].findtext("r:Line", namespaces=NS)) > 1
    as_json = submit(client, body).get_json()
    assert as_json["errors"][0]["rule"] == "xsd:pattern"


def test_unknown_namespace_lists_supported_versions(client: FlaskClient) -> None:
    response = submit(client, declaration_xml(namespace="urn:csw:declaration:v9"))
    assert response.status_code == 422
    body = response.get_json()
    assert body["code"] == "UNKNOWN_SCHEMA"
    assert body["supported_namespaces"] == ["urn:csw:declaration:v1", "urn:csw:declaration:v2"]


def test_amendment_document_is_refused_at_the_submission_endpoint(client: FlaskClient) -> None:
    response = submit(client, declaration_xml(function_code="13"))
    assert response.status_code == 422
    assert response.get_json()["code"] == "WRONG_FUNCTION_CODE"


def test_lookup_shows_status_and_history(client: FlaskClient, response_schema) -> None:  # type: ignore[no-untyped-def]
    reference = submit(client, declaration_xml()).get_json()["declaration_id"]
    response = client.get(f"{API}/{reference}", headers=auth())
    assert response.status_code == 200
    document = etree.fromstring(response.data)
    response_schema.assertValid(document)
    assert document.findtext("r:Status", namespaces=NS) == "accepted"
    events = document.findall("r:History/r:Event", namespaces=NS)
    assert [e.findtext("r:Kind", namespaces=NS) for e in events] == ["submitted"]


def test_other_partys_declaration_looks_exactly_like_a_missing_one(client: FlaskClient) -> None:
    reference = submit(client, declaration_xml()).get_json()["declaration_id"]
    foreign = client.get(f"{API}/{reference}", headers=auth(OTHER_KEY, "application/json"))
    from app.domain.reference import new_declaration_reference
    from datetime import datetime, timezone
    missing_ref = new_declaration_reference(datetime.now(timezone.utc))
    missing = client.get(f"{API}/{missing_ref}", headers=auth(OTHER_KEY, "application/json"))
    assert foreign.status_code == missing.status_code == 404
    strip = lambda r: {k: v for k, v in r.get_json().items() if k != "conversation_id"}  # noqa: E731
    assert strip(foreign)["code"] == strip(missing)["code"] == "NOT_FOUND"
    assert strip(foreign)["message"].replace(reference, "X") == strip(missing)["message"].replace(missing_ref, "X")
    amendment = declaration_xml(items=2, declarant="87654321", function_code="13")
    attempt = client.post(f"{API}/{reference}/amendments", data=amendment, headers=auth(OTHER_KEY, "application/json"))
    assert attempt.status_code == 404
    attempt = client.post(f"{API}/{reference}/cancellation", data=json.dumps({"reason": "not mine"}),
                          headers={**auth(OTHER_KEY, "application/json"), "Content-Type": "application/json"})
    assert attempt.status_code == 404
    assert client.get(f"{API}/{reference}/documents/1", headers=auth(OTHER_KEY)).status_code == 404
    untouched = client.get(f"{API}/{reference}", headers=auth(accept="application/json")).get_json()
    assert (untouched["status"], untouched["version"]) == ("accepted", 1)


def test_mistyped_reference_is_caught_by_the_check_character(client: FlaskClient) -> None:
    reference = submit(client, declaration_xml()).get_json()["declaration_id"]
    typo = reference[:-1] + ("0" if reference[-1] != "0" else "1")
    response = client.get(f"{API}/{typo}", headers=auth(accept="application/json"))
    assert response.status_code == 400
    assert response.get_json()["code"] == "INVALID_REFERENCE"


def test_list_shows_only_own_declarations_paged_and_filtered(client: FlaskClient) -> None:
    for n in range(3):
        submit(client, declaration_xml(lrn=f"LRN-LIST-{n}"))
    submit(client, declaration_xml(lrn="LRN-OTHER", declarant="87654321"), key=OTHER_KEY)
    listing = client.get(f"{API}?per_page=2", headers=auth(accept="application/json")).get_json()
    assert listing["total"] == 3
    assert len(listing["declarations"]) == 2
    assert {d["lrn"] for d in listing["declarations"]} <= {"LRN-LIST-0", "LRN-LIST-1", "LRN-LIST-2"}
    page2 = client.get(f"{API}?per_page=2&page=2", headers=auth(accept="application/json")).get_json()
    assert len(page2["declarations"]) == 1
    assert client.get(f"{API}?status=cancelled", headers=auth(accept="application/json")).get_json()["total"] == 0
    future = client.get(f"{API}?since=2999-01-01T00:00:00Z", headers=auth(accept="application/json")).get_json()
    assert future["total"] == 0
    past = client.get(f"{API}?since=2000-01-01T00:00:00%2B08:00", headers=auth(accept="application/json")).get_json()
    assert past["total"] == 3


def test_list_rejects_bad_parameters_clearly(client: FlaskClient) -> None:
    for query, field in (("status=lost", "status"), ("since=yesterday", "since"), ("page=0", "page"),
                         ("per_page=5000", "per_page"), ("since=2026-01-01T00:00:00", "since")):
        response = client.get(f"{API}?{query}", headers=auth(accept="application/json"))
        assert response.status_code == 400, query
        assert response.get_json()["errors"][0]["path"] == field


def test_xml_list_validates(client: FlaskClient, response_schema) -> None:  # type: ignore[no-untyped-def]
    submit(client, declaration_xml())
    response_schema.assertValid(etree.fromstring(client.get(API, headers=auth()).data))


def test_amendment_replaces_content_and_keeps_every_version(client: FlaskClient, clean_app: Flask) -> None:
    reference = submit(client, declaration_xml(lrn="LRN-AM-1", items=2)).get_json()["declaration_id"]
    amendment = declaration_xml(lrn="LRN-AM-1", items=4, function_code="13")
    response = client.post(f"{API}/{reference}/amendments", data=amendment, headers=auth(accept="application/json"))
    assert response.status_code == 202
    assert response.get_json()["version"] == 2
    status = client.get(f"{API}/{reference}", headers=auth(accept="application/json")).get_json()
    assert status["goods_item_count"] == 4
    assert [e["kind"] for e in status["history"]] == ["submitted", "amended"]
    assert client.get(f"{API}/{reference}/documents/2", headers=auth()).data == amendment
    assert client.get(f"{API}/{reference}/documents/1", headers=auth()).data == declaration_xml(lrn="LRN-AM-1", items=2)
    again = client.post(f"{API}/{reference}/amendments", data=amendment, headers=auth(accept="application/json"))
    assert again.get_json()["version"] == 2 and again.get_json()["replay"] is True
    assert count(clean_app, models.GoodsItem) == 4


def test_amendment_must_keep_the_lrn_and_be_function_13(client: FlaskClient) -> None:
    reference = submit(client, declaration_xml(lrn="LRN-AM-2")).get_json()["declaration_id"]
    wrong_lrn = client.post(f"{API}/{reference}/amendments", data=declaration_xml(lrn="LRN-AM-X", function_code="13"),
                            headers=auth(accept="application/json"))
    assert wrong_lrn.status_code == 422 and wrong_lrn.get_json()["code"] == "LRN_MISMATCH"
    original = client.post(f"{API}/{reference}/amendments", data=declaration_xml(lrn="LRN-AM-2", items=2),
                           headers=auth(accept="application/json"))
    assert original.status_code == 422 and original.get_json()["code"] == "WRONG_FUNCTION_CODE"


def test_released_declaration_cannot_be_amended_or_cancelled(client: FlaskClient, clean_app: Flask) -> None:
    reference = submit(client, declaration_xml(lrn="LRN-REL-1")).get_json()["declaration_id"]
    with clean_app.extensions["csw"].sessions() as session, session.begin():
        row = session.get(models.Declaration, reference)
        service.change_status(session, row, DeclarationStatus.RELEASED, "released",
                              service.Caller(actor="officer:test"), None)
    amendment = client.post(f"{API}/{reference}/amendments",
                            data=declaration_xml(lrn="LRN-REL-1", items=2, function_code="13"),
                            headers=auth(accept="application/json"))
    assert amendment.status_code == 409
    assert amendment.get_json()["code"] == "AMENDMENT_NOT_ALLOWED"
    assert "released" in amendment.get_json()["message"]
    cancellation = client.post(f"{API}/{reference}/cancellation", json={"reason": "goods not shipped"},
                               headers={"Authorization": f"Bearer {TRADER_KEY}", "Accept": "application/json"})
    assert cancellation.status_code == 409
    status = client.get(f"{API}/{reference}", headers=auth(accept="application/json")).get_json()
    assert status["status"] == "released" and status["version"] == 1


def test_cancellation_with_reason_as_json_or_xml(client: FlaskClient) -> None:
    headers = {"Authorization": f"Bearer {TRADER_KEY}", "Accept": "application/json"}
    first = submit(client, declaration_xml(lrn="LRN-CAN-1")).get_json()["declaration_id"]
    response = client.post(f"{API}/{first}/cancellation", json={"reason": "order withdrawn by buyer"}, headers=headers)
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "cancelled"
    assert body["history"][-1] == {**body["history"][-1], "kind": "cancelled", "note": "order withdrawn by buyer"}
    second = submit(client, declaration_xml(lrn="LRN-CAN-2")).get_json()["declaration_id"]
    xml = b'<Cancellation xmlns="urn:csw:cancellation:v1"><Reason>duplicate lodgement</Reason></Cancellation>'
    cancelled = client.post(f"{API}/{second}/cancellation", data=xml, headers=auth(accept="application/json"))
    assert cancelled.status_code == 200
    again = client.post(f"{API}/{second}/cancellation", data=xml, headers=auth(accept="application/json"))
    assert again.status_code == 409 and again.get_json()["code"] == "CANCELLATION_NOT_ALLOWED"


def test_cancellation_needs_a_reason(client: FlaskClient) -> None:
    reference = submit(client, declaration_xml()).get_json()["declaration_id"]
    headers = {"Authorization": f"Bearer {TRADER_KEY}", "Accept": "application/json"}
    for payload in ({}, {"reason": ""}, {"reason": 42}, []):
        response = client.post(f"{API}/{reference}/cancellation", json=payload, headers=headers)
        assert response.status_code == 422, payload
        assert response.get_json()["code"] == "REASON_REQUIRED"
    broken = client.post(f"{API}/{reference}/cancellation", data=b"{not json",
                         headers={**headers, "Content-Type": "application/json"})
    assert broken.status_code == 400
    empty_xml = client.post(f"{API}/{reference}/cancellation",
                            data=b'<Cancellation xmlns="urn:csw:cancellation:v1"><Reason></Reason></Cancellation>',
                            headers=auth(accept="application/json"))
    assert empty_xml.status_code == 422
    status = client.get(f"{API}/{reference}", headers=auth(accept="application/json")).get_json()
    assert status["status"] == "accepted"


def test_authentication_is_required_and_every_answer_has_a_conversation_id(client: FlaskClient,
                                                                           clean_app: Flask) -> None:
    for headers in ({"Content-Type": "application/xml"},
                    {"Content-Type": "application/xml", "Authorization": "Bearer wrong"},
                    {"Content-Type": "application/xml", "Authorization": f"Basic {TRADER_KEY}"}):
        response = client.post(API, data=declaration_xml(), headers=headers)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert response.headers["X-Conversation-ID"]
    assert client.get(API).status_code == 401
    assert count(clean_app, models.Declaration) == 0


def test_revoked_key_stops_working_once_the_key_cache_expires(client: FlaskClient, clean_app: Flask) -> None:
    from app.users.clients import hash_key, revoke_client
    assert submit(client, declaration_xml(lrn="LRN-BEFORE-REVOKE")).status_code == 202
    with clean_app.extensions["csw"].sessions() as session, session.begin():
        client_id = session.scalar(select(models.ApiClient.id).where(models.ApiClient.key_hash == hash_key(TRADER_KEY)))
        revoke_client(session, client_id)
    clean_app.extensions["csw"].api_keys.clear()
    assert submit(client, declaration_xml()).status_code == 401


def test_unknown_api_route_and_method_answer_in_the_envelope(client: FlaskClient) -> None:
    missing = client.get("/api/v1/nothing-here", headers={"Accept": "application/json"})
    assert missing.status_code == 404 and missing.get_json()["code"] == "NOT_FOUND"
    wrong_method = client.delete(API, headers={"Accept": "application/json"})
    assert wrong_method.status_code == 405 and wrong_method.get_json()["code"] == "METHOD_NOT_ALLOWED"
