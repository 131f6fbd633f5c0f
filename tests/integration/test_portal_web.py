"""The traders' portal through the Flask test client, on SQLite and PostgreSQL: lodging by
form and by upload, the one intake pipeline, tracking, amend/cancel, document-request
answers, API keys, drafts, and isolation between parties."""
from __future__ import annotations

import io
import re
from datetime import datetime, timezone
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.db import models
from app.db.case_models import Case, DocumentRequest
from app.db.portal_models import DeclarationDraft, DocumentRequestAnswer
from app.portal.document import build_declaration, form_data_from_xml
from app.users.clients import create_client, ensure_party
from app.users.service import create_user
from tests.conftest import TRADER_BRN, TRADER_KEY, auth, sample
from tests.factories import recent_movement

PASSWORD = "portal-test-password"
TOKEN = re.compile(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"')


def token(client: FlaskClient, path: str = "/login") -> str:
    found = TOKEN.search(client.get(path).get_data(as_text=True))
    assert found, f"no CSRF token on {path}"
    return found.group(1)


def signed_in(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    response = client.post("/login", data={"username": username, "password": PASSWORD,
                                           "csrf_token": token(client)})
    assert response.status_code == 302
    return client


def item_fields(index: int, hs_code: str = "85171300", **overrides: str) -> dict[str, str]:
    fields = {"description": f"Smartphones, model {index + 1}", "hs_code": hs_code, "origin_country": "CN",
              "quantity": "10", "quantity_unit": "PCE", "net_mass": "2.5", "net_mass_unit": "KGM",
              "gross_mass": "3", "gross_mass_unit": "KGM", "value": "1200.00", "currency": "HKD",
              "package_type": "", "package_count": "", "documents": ""}
    fields.update(overrides)
    return {f"items-{index}-{name}": value for name, value in fields.items()}


def form_fields(lrn: str = "PORTAL-0001", items: int = 3, **overrides: str) -> dict[str, str]:
    data = {"type_code": "IM", "form_code": "", "lrn": lrn, "ucr": "", "issued_at": "2026-11-20T09:30",
            "transport_mode": "3", "control_point": "HKLMC", "conveyance_id": "", "departure_location": "",
            "destination_location": "", "movement_at": recent_movement()[:16]}
    for index in range(items):
        data.update(item_fields(index))
    data.update(overrides)
    return data


def post_form(client: FlaskClient, data: dict[str, str], action: str = "submit",
              path: str = "/trader/declarations/new") -> Any:
    """Post the form. An answer that lodges nothing (problems found, a row added) is
    post/redirect/get to the trader's draft: that page is returned, as a browser shows it."""
    response = client.post(path, data={**data, "action": action, "csrf_token": token(client, path)})
    location = response.headers.get("Location", "")
    if response.status_code in (302, 303) and location.startswith("/trader/drafts/") and action != "save_draft":
        return client.get(location.split("#", 1)[0])
    return response


def refused_page(response: Any) -> str:
    """The draft page a refused form was sent to, with its error summary."""
    assert response.status_code == 200 and response.request.path.startswith("/trader/drafts/"), response.status_code
    page = response.get_data(as_text=True)
    assert 'id="error-summary"' in page
    return str(page)


def stored(app: Flask, reference: str) -> models.Declaration:
    with app.extensions["csw"].sessions() as session:
        row = session.get(models.Declaration, reference)
        assert row is not None
        session.expunge(row)
        return row


def reference_of(response: Any) -> str:
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    location = response.headers["Location"]
    assert location.startswith("/trader/declarations/")
    return location.rsplit("/", 1)[1]


def test_portal_needs_a_trader_account(traders: Flask) -> None:
    anonymous = traders.test_client()
    assert anonymous.get("/trader/").status_code == 302
    assert signed_in(traders, "officer").get("/trader/").status_code == 403
    page = signed_in(traders, "trader").get("/trader/")
    assert page.status_code == 200
    assert "Demo Trading Company Limited" in page.get_data(as_text=True)


def test_every_portal_route_is_for_traders_only(traders: Flask) -> None:
    """Walks every route of the portal with every role and without sign-in: only a trader
    gets in (and never a server error, even posting an empty form); officers get 403."""
    with traders.extensions["csw"].sessions() as session, session.begin():
        for role in ("supervisor", "admin"):
            create_user(session, role, role, PASSWORD)
    reference = reference_of(post_form(signed_in(traders, "trader"), form_fields(lrn="ROLES-1")))
    values = {"reference": reference, "draft_id": 999, "version": 1, "request_id": 999, "answer_id": 999,
              "client_id": 999, "number": "HK26R0000000000X"}
    rules = [rule for rule in traders.url_map.iter_rules()
             if rule.endpoint.startswith("portal.") and rule.endpoint != "portal.static"]
    assert len(rules) == 21, "a new portal route: check it is walked here"
    for username in ("trader", "officer", "supervisor", "admin", None):
        client = signed_in(traders, username) if username else traders.test_client()
        csrf = token(client)
        for rule in rules:
            path = rule.build(values, append_unknown=False)[1]
            for method in sorted(rule.methods & {"GET", "POST"}):
                response = (client.get(path) if method == "GET"
                            else client.post(path, data={"csrf_token": csrf}))
                where = f"{method} {rule.endpoint} as {username or 'anonymous'}"
                location = response.headers.get("Location", "")
                if username is None:
                    assert response.status_code == 302 and location.startswith("/login"), where
                elif username == "trader":
                    assert response.status_code not in (401, 403) and response.status_code < 500, where
                    assert not location.startswith("/login"), where
                else:
                    assert response.status_code == 403, where


def test_a_trader_signing_in_lands_in_the_portal(traders: Flask) -> None:
    client = traders.test_client()
    response = client.post("/login", data={"username": "trader", "password": PASSWORD, "csrf_token": token(client)},
                           follow_redirects=True)
    assert response.request.path == "/trader/"


def test_lodge_a_three_item_import_by_form(traders: Flask) -> None:
    client = signed_in(traders, "trader")
    reference = reference_of(post_form(client, form_fields()))
    row = stored(traders, reference)
    assert (row.status, row.goods_item_count, row.lrn, row.type_code) == ("accepted", 3, "PORTAL-0001", "IM")
    page = client.get(f"/trader/declarations/{reference}").get_data(as_text=True)
    assert "PORTAL-0001" in page and 'id="lane"' in page
    if row.lane:
        assert f"lane-{row.lane}" in page
    with traders.extensions["csw"].sessions() as session:
        event = session.scalars(select(models.DeclarationEvent).where(
            models.DeclarationEvent.declaration_id == reference)).first()
        assert event is not None and event.actor == "user:trader"


def test_a_rule_refusal_is_shown_on_its_field_and_the_fixed_form_is_accepted(traders: Flask) -> None:
    client = signed_in(traders, "trader")
    data = form_fields(**item_fields(1, hs_code="99999999"))
    page = refused_page(post_form(client, data))
    assert 'href="#items-1-hs_code"' in page  # error summary links to the field
    assert re.search(r'id="items-1-hs_code"[^>]*aria-invalid="true"|aria-invalid="true"[^>]*id="items-1-hs_code"',
                     page)
    assert "R101" in page and "99999999" in page
    with traders.extensions["csw"].sessions() as session:
        assert session.scalar(select(models.Declaration.id)) is None
    data.update(item_fields(1, hs_code="85171300"))
    reference = reference_of(post_form(client, data))
    assert stored(traders, reference).goods_item_count == 3


def test_schema_errors_and_missing_values_are_inline(traders: Flask) -> None:
    client = signed_in(traders, "trader")
    page = refused_page(post_form(client, form_fields(lrn="bad lrn with spaces", **item_fields(0, gross_mass=""))))
    assert 'href="#items-0-gross_mass"' in page  # caught before building the document
    assert 'href="#lrn"' in refused_page(post_form(client, form_fields(lrn="bad lrn with spaces")))
    with traders.extensions["csw"].sessions() as session:
        assert session.scalar(select(models.Declaration.id)) is None


def test_goods_items_and_containers_are_added_and_removed_without_script(traders: Flask) -> None:
    client = signed_in(traders, "trader")
    page = post_form(client, form_fields(items=2), action="add_item").get_data(as_text=True)
    assert page.count('class="row item"') == 3
    data = form_fields(items=3)
    data["items-1-description"] = "the one to remove"
    page = post_form(client, data, action="remove_item:1").get_data(as_text=True)
    assert page.count('class="row item"') == 2 and "the one to remove" not in page
    page = post_form(client, form_fields(items=1), action="add_equipment").get_data(as_text=True)
    assert 'id="equipment-0-container_id"' in page
    page = post_form(client, form_fields(items=1), action="fill:importer").get_data(as_text=True)
    assert 'value="12345678"' in page


def test_a_fifty_item_declaration_is_filled_in_one_form(traders: Flask) -> None:
    client = signed_in(traders, "trader")
    added = client.post("/trader/declarations/new", data={
        **form_fields(items=1), "action": "add_item", "add_count": "50",
        "csrf_token": token(client, "/trader/declarations/new")})
    assert added.status_code == 302 and added.headers["Location"].endswith("#items-50")  # post/redirect/get
    page = client.get(added.headers["Location"]).get_data(as_text=True)
    assert page.count('class="row item"') == 51
    reference = reference_of(post_form(client, form_fields(lrn="FIFTY-1", items=50)))
    assert stored(traders, reference).goods_item_count == 50


def test_download_gives_the_document_the_form_would_submit(traders: Flask) -> None:
    client = signed_in(traders, "trader")
    response = post_form(client, form_fields(), action="download")
    assert response.mimetype == "application/xml"
    assert b"<FunctionalReferenceID>PORTAL-0001</FunctionalReferenceID>" in response.data
    reference = reference_of(post_form(client, form_fields()))
    lodged = client.get(f"/trader/declarations/{reference}/documents/1")
    assert lodged.data == response.data
    named = post_form(client, form_fields(lrn='x"\r\nSet-Cookie: a=b'), action="download")
    assert named.headers["Content-Disposition"] == 'attachment; filename="x___Set-Cookie__a_b.xml"'
    assert "Set-Cookie" not in {key for key, _value in named.headers}


def _content(app: Flask, reference: str) -> dict[str, Any]:
    """Everything stored about a declaration's content, without its reference and times."""
    with app.extensions["csw"].sessions() as session:
        row = session.get(models.Declaration, reference)
        assert row is not None
        def rows(model: Any, order: Any) -> list[dict[str, Any]]:
            return [{c.name: getattr(r, c.key) for c in model.__table__.columns
                     if c.name not in ("id", "declaration_id", "equipment_id")}
                    for r in session.scalars(select(model).where(model.declaration_id == reference).order_by(order))]
        equipment = session.scalars(select(models.TransportEquipment).where(
            models.TransportEquipment.declaration_id == reference).order_by(models.TransportEquipment.sequence)).all()
        return {
            "header": {c: getattr(row, c) for c in ("lrn", "ucr", "type_code", "form_code", "status", "version",
                                                    "issued_at", "transport_mode", "control_point", "lane",
                                                    "goods_item_count", "charges", "aeo", "rules_version",
                                                    "original_sha256", "schema_namespace")},
            "parties": rows(models.DeclarationParty, models.DeclarationParty.role),
            "goods": rows(models.GoodsItem, models.GoodsItem.sequence),
            "findings": rows(models.DeclarationFinding, models.DeclarationFinding.code),
            "equipment": [(e.sequence, e.container_id, e.elock_id,
                           sorted(session.scalars(select(models.Seal.seal_id).where(models.Seal.equipment_id == e.id))))
                          for e in equipment],
            "document": bytes(session.scalar(select(models.DeclarationDocument.body).where(
                models.DeclarationDocument.declaration_id == reference)) or b""),
        }


def test_form_and_posted_xml_store_identical_declarations(traders: Flask) -> None:
    """The form builds the schema's document and calls the API's pipeline: the same content
    posted as XML by the party's system gives the same stored declaration."""
    client = signed_in(traders, "trader")
    data = form_fields(lrn="SAME-0001", **{
        "ucr": "6HK12345678-SAME0001", "form_code": "1", "conveyance_id": "XY1234",
        "importer-name": "Demo Trading Company Limited", "importer-identifier": "12345678",
        "exporter-name": "Shenzhen Export Co", "exporter-identifier": "CN4403968D7E1F",
        "exporter-address_line": "1 Road", "exporter-city": "Shenzhen", "exporter-country": "CN",
        "equipment-0-container_id": "CSQU3054383", "equipment-0-seals": "SEAL1 SEAL2", "equipment-0-elock_id": "",
        **item_fields(2, documents="IL IL-2026-000001"),
    })
    by_form = _content(traders, reference_of(post_form(client, data)))
    form_document = by_form["document"]
    # A fresh database, then the same content posted as XML by the party's system.
    sessions = traders.extensions["csw"].sessions
    traders.extensions["csw"].api_keys.clear()
    with sessions() as session, session.begin():
        for table in reversed(models.Base.metadata.sorted_tables):
            session.execute(table.delete())
        create_client(session, "trader-tms", ensure_party(session, TRADER_BRN, "Demo Trading Company Limited"),
                      key=TRADER_KEY)
    posted = traders.test_client().post("/api/v1/declarations", data=form_document, headers=auth(TRADER_KEY))
    assert posted.status_code == 202, posted.get_data(as_text=True)
    reference = re.search(rb"<DeclarationID>([^<]+)</DeclarationID>", posted.data).group(1).decode()
    by_xml = _content(traders, reference)
    assert by_xml == by_form
    assert by_form["goods"][2]["documents"] == [{"type_code": "IL", "id": "IL-2026-000001"}]
    assert len(by_form["parties"]) == 3 and by_form["equipment"][0][3] == ["SEAL1", "SEAL2"]


def test_an_uploaded_sample_is_lodged_and_a_bad_one_reported_with_lines(traders: Flask) -> None:
    client = signed_in(traders, "trader")
    response = client.post("/trader/upload", data={
        "csrf_token": token(client, "/trader/upload"),
        "document": (io.BytesIO(sample("valid/import-5-items.xml")), "import-5-items.xml")},
        content_type="multipart/form-data")
    reference = reference_of(response)
    assert stored(traders, reference).goods_item_count == 5
    response = client.post("/trader/upload", data={
        "csrf_token": token(client, "/trader/upload"),
        "document": (io.BytesIO(sample("invalid/bad-hs-code.xml")), "bad-hs-code.xml")},
        content_type="multipart/form-data")
    assert response.status_code == 303  # post/redirect/get: the report is on the upload page
    response = client.get(response.headers["Location"])
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'data-code="SCHEMA_INVALID"' in page and "GovernmentAgencyGoodsItem[2]/Commodity/Classification/ID" in page
    assert re.search(r'<td data-label="Line" class="num">55</td>', page)  # the line of the bad HS code
    assert "Goods item 2 · HS code" in page  # the field, by its label
    assert "“8517130” is not accepted here. Enter 8 digits, for example 84713000." in page


def test_amend_from_the_declaration_page_then_cancel(traders: Flask) -> None:
    client = signed_in(traders, "trader")
    reference = reference_of(post_form(client, form_fields()))
    page = client.get(f"/trader/declarations/{reference}/amend").get_data(as_text=True)
    assert 'value="PORTAL-0001"' in page and "Smartphones, model 3</textarea>" in page
    data = form_fields(**item_fields(2, quantity="12"))
    assert reference_of(post_form(client, data, path=f"/trader/declarations/{reference}/amend")) == reference
    assert stored(traders, reference).version == 2
    cancel = f"/trader/declarations/{reference}/cancel"
    client.post(cancel, data={"reason": "goods not shipped",
                              "csrf_token": token(client, f"/trader/declarations/{reference}")})
    assert stored(traders, reference).status == "cancelled"
    page = client.get(f"/trader/declarations/{reference}").get_data(as_text=True)
    assert 'id="cancel-blocked"' in page and 'id="amend-blocked"' in page
    assert "can no longer be amended" in page
    response = client.get(f"/trader/declarations/{reference}/amend")
    assert response.status_code == 302


def test_tracking_filters_and_search(traders: Flask) -> None:
    client = signed_in(traders, "trader")
    first = reference_of(post_form(client, form_fields(lrn="TRACK-A")))
    reference_of(post_form(client, form_fields(lrn="TRACK-B")))
    page = client.get("/trader/?q=track-a").get_data(as_text=True)
    assert first in page and "TRACK-B" not in page
    page = client.get(f"/trader/?q={first}").get_data(as_text=True)
    assert "TRACK-A" in page and "TRACK-B" not in page
    assert "TRACK-A" not in client.get("/trader/?status=cancelled").get_data(as_text=True)
    assert "TRACK-A" in client.get("/trader/?status=accepted&type=IM").get_data(as_text=True)


def test_drafts_are_saved_resumed_and_submitted(traders: Flask) -> None:
    client = signed_in(traders, "trader")
    data = form_fields(lrn="DRAFT-1", **item_fields(0, description="half-filled", value=""))
    response = post_form(client, data, action="save_draft")
    assert response.status_code == 302
    path = response.headers["Location"]
    assert "DRAFT-1" in client.get("/trader/").get_data(as_text=True)
    page = client.get(path).get_data(as_text=True)
    assert "half-filled" in page
    reference_of(post_form(client, form_fields(lrn="DRAFT-1"), path=path))
    with traders.extensions["csw"].sessions() as session:
        assert session.scalar(select(DeclarationDraft.id)) is None


def _document_request(app: Flask, reference: str) -> int:
    now = datetime.now(timezone.utc)
    with app.extensions["csw"].sessions() as session, session.begin():
        case = Case(declaration_id=reference, state="awaiting_documents", source="declaration", priority=1,
                    reasons=[], opened_at=now, updated_at=now)
        session.add(case)
        session.flush()
        request = DocumentRequest(case_id=case.id, declaration_id=reference, documents="commercial invoice",
                                  message="send the invoice", requested_by="user:officer", requested_at=now)
        session.add(request)
        session.flush()
        return request.id


def test_a_document_request_is_answered_with_a_message_and_attachment(traders: Flask) -> None:
    client = signed_in(traders, "trader")
    reference = reference_of(post_form(client, form_fields()))
    request_id = _document_request(traders, reference)
    page_path = f"/trader/declarations/{reference}"
    assert "commercial invoice" in client.get(page_path).get_data(as_text=True)
    answer = f"{page_path}/requests/{request_id}/answer"
    client.post(answer, data={"csrf_token": token(client, page_path), "message": "here it is",
                              "attachment": (io.BytesIO(b"MZ\x90\x00 not a pdf"), "invoice.exe")},
                content_type="multipart/form-data")
    with traders.extensions["csw"].sessions() as session:
        assert session.scalar(select(DocumentRequestAnswer.id)) is None  # wrong type refused
    client.post(answer, data={"csrf_token": token(client, page_path), "message": "here it is",
                              "attachment": (io.BytesIO(b"%PDF-1.7 invoice"), "invoice.pdf")},
                content_type="multipart/form-data")
    page = client.get(page_path).get_data(as_text=True)
    assert "here it is" in page and "invoice.pdf" in page
    link = re.search(r'href="(/trader/declarations/[^"]+/attachment)"', page).group(1)
    assert client.get(link).data == b"%PDF-1.7 invoice"
    other = signed_in(traders, "harbour")
    assert other.post(answer, data={"csrf_token": token(other, "/trader/"), "message": "x"}).status_code == 404
    assert other.get(link).status_code == 404


def test_api_keys_are_created_shown_once_and_revoked(traders: Flask) -> None:
    client = signed_in(traders, "trader")
    created = client.post("/trader/keys", data={"name": "my-tms", "csrf_token": token(client, "/trader/keys")})
    assert created.status_code == 302  # post/redirect/get: reloading the page cannot create a second key
    page = client.get(created.headers["Location"]).get_data(as_text=True)
    key = re.search(r'<code id="new-key">([^<]+)</code>', page).group(1)
    api = traders.test_client()
    assert api.post("/api/v1/declarations", data=sample("valid/import-1-item-food.xml"),
                    headers=auth(key)).status_code == 202
    listing = client.get("/trader/keys").get_data(as_text=True)
    assert "my-tms" in listing and key not in listing
    assert listing.count("<td>my-tms</td>") == 1
    client_id = int(re.search(r'/trader/keys/(\d+)/revoke"[^>]*>\s*<input[^>]*><button[^>]*>Revoke “my-tms” '
                              r'\(' + key[:12] + '…, created 20', listing).group(1))
    again = client.post("/trader/keys", data={"name": "My-TMS", "csrf_token": token(client, "/trader/keys")})
    assert again.status_code == 303  # post/redirect/get: the name and the problem kept for the page
    again = client.get(again.headers["Location"])
    assert again.status_code == 422 and 'value="My-TMS"' in again.get_data(as_text=True)
    assert "A live key already has this name" in again.get_data(as_text=True)
    other = signed_in(traders, "harbour")
    assert other.post(f"/trader/keys/{client_id}/revoke",
                      data={"csrf_token": token(other, "/trader/keys")}).status_code == 404
    assert "my-tms" not in other.get("/trader/keys").get_data(as_text=True)
    client.post(f"/trader/keys/{client_id}/revoke", data={"csrf_token": token(client, "/trader/keys")})
    assert api.get("/api/v1/declarations", headers=auth(key)).status_code == 401
    reused = client.post("/trader/keys", data={"name": "my-tms", "csrf_token": token(client, "/trader/keys")})
    assert reused.status_code == 302  # the name of a revoked key is free again


def test_a_trader_never_sees_another_partys_declarations_or_drafts(traders: Flask) -> None:
    mine = signed_in(traders, "trader")
    reference = reference_of(post_form(mine, form_fields(lrn="SECRET-LRN")))
    draft_path = post_form(mine, form_fields(lrn="SECRET-DRAFT"), action="save_draft").headers["Location"]
    other = signed_in(traders, "harbour")
    listing = other.get("/trader/?q=SECRET").get_data(as_text=True)
    assert "SECRET-LRN" not in listing and "SECRET-DRAFT" not in listing
    for path in (f"/trader/declarations/{reference}", f"/trader/declarations/{reference}/amend",
                 f"/trader/declarations/{reference}/documents/1", draft_path):
        assert other.get(path).status_code == 404, path
    response = other.post(f"/trader/declarations/{reference}/cancel",
                          data={"reason": "not mine", "csrf_token": token(other, "/trader/")})
    assert response.status_code == 404
    assert stored(traders, reference).status == "accepted"
    assert other.get("/trader/declarations/HK26XXXXXXXXXXXX").status_code == 404


def test_hs_code_search_by_code_or_words(traders: Flask) -> None:
    client = signed_in(traders, "trader")
    by_code = client.get("/trader/codes/hs?q=8517&format=json").get_json()
    assert by_code and all(found["code"].startswith("8517") for found in by_code)
    by_words = client.get("/trader/codes/hs?q=live+cattle&format=json").get_json()
    assert any(found["code"] == "01022900" for found in by_words)
    assert "01022900" in client.get("/trader/codes/hs?q=cattle").get_data(as_text=True)


def test_the_form_builder_is_canonical_for_stored_documents(traders: Flask) -> None:
    """Amending starts from the stored document: building it again gives the same bytes."""
    client = signed_in(traders, "trader")
    reference = reference_of(post_form(client, form_fields()))
    body = client.get(f"/trader/declarations/{reference}/documents/1").data
    assert build_declaration(form_data_from_xml(body), TRADER_BRN, "Demo Trading Company Limited") == body


def test_the_portal_speaks_traditional_chinese(traders: Flask) -> None:
    with traders.extensions["csw"].sessions() as session, session.begin():
        party = session.scalar(select(models.Party).where(models.Party.identifier == TRADER_BRN))
        assert party is not None
        create_user(session, "chan", "trader", PASSWORD, locale="zh_Hant", party_id=party.id)
    client = signed_in(traders, "chan")
    page = client.get("/trader/declarations/new").get_data(as_text=True)
    assert "提交報關單" in page and "我的報關單" in page and "協調制度編碼" in page
    refused = post_form(client, form_fields(**item_fields(0, hs_code="99999999"))).get_data(as_text=True)
    assert "出現問題" in refused and "R101" in refused


def test_a_released_declaration_shows_its_release_notice(traders: Flask) -> None:
    from app.domain.declaration import DeclarationStatus
    from app.domain.actors import Caller
    from app.declarations.service import change_status

    client = signed_in(traders, "trader")
    reference = reference_of(post_form(client, form_fields()))
    assert 'id="release-notice"' not in client.get(f"/trader/declarations/{reference}").get_data(as_text=True)
    with traders.extensions["csw"].sessions() as session, session.begin():
        row = session.get(models.Declaration, reference)
        assert row is not None
        change_status(session, row, DeclarationStatus.RELEASED, "released", Caller("user:officer", role="officer"),
                      None, note="documents in order")
    page = client.get(f"/trader/declarations/{reference}").get_data(as_text=True)
    assert 'id="release-notice"' in page and "documents in order" in page
    assert 'id="amend-blocked"' in page and 'id="cancel-blocked"' in page


def test_text_xml_cannot_carry_is_refused_at_its_field(traders: Flask) -> None:
    client = signed_in(traders, "trader")
    data = form_fields(**item_fields(1, description="bell\x07 and null\x00"))
    for action in ("submit", "download"):
        response = post_form(client, data, action=action)  # post/redirect/get to the kept draft
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        assert 'href="#items-1-description"' in page
        assert 'id="items-1-description-error-1"' in page and "they were removed" in page
        assert "bell and null</textarea>" in page  # kept without the characters XML cannot carry


def test_trader_accounts_need_a_party_and_officers_have_none(traders: Flask) -> None:
    from app.users.service import AccountError

    with traders.extensions["csw"].sessions() as session:
        party_id = session.scalar(select(models.Party.id).where(models.Party.identifier == TRADER_BRN))
        with pytest.raises(AccountError) as refused:
            create_user(session, "nobody", "trader", PASSWORD)
        assert refused.value.field == "party"
        with pytest.raises(AccountError):
            create_user(session, "officer2", "officer", PASSWORD, party_id=party_id)
        session.rollback()


# --- duty payment -------------------------------------------------------------------------

def test_a_trader_pays_the_duty_on_the_declaration_page_and_gets_a_receipt(traders: Flask) -> None:
    """The liquor sample waits for HK$216,000 of duty (a yellow case here); the trader sees it
    due, a wrong amount is refused in words, the right one gives a receipt; the list shows it paid."""
    client = signed_in(traders, "trader")
    body = re.sub(rb"<MovementDateTime>[^<]*</MovementDateTime>",
                  f"<MovementDateTime>{recent_movement()}</MovementDateTime>".encode(),
                  sample("valid/import-liquor.xml"))
    response = client.post("/trader/upload", data={
        "csrf_token": token(client, "/trader/upload"),
        "document": (io.BytesIO(body), "import-liquor.xml")}, content_type="multipart/form-data")
    reference = reference_of(response)
    path = f"/trader/declarations/{reference}"
    page = client.get(path).get_data(as_text=True)
    assert 'data-status="due"' in page and "HK$216000.00 is due" in page and 'id="pay-duty"' in page
    assert "duty due" in client.get("/trader/").get_data(as_text=True)
    wrong = client.post(f"{path}/duty/pay", data={"csrf_token": token(client, path), "amount": "216000.01",
                                                   "payment_reference": "HSBC-1"})
    assert wrong.status_code == 302
    assert "more than the HK$216,000.00 due" in client.get(path).get_data(as_text=True)
    paid = client.post(f"{path}/duty/pay", data={"csrf_token": token(client, path), "amount": "216000.00",
                                                  "payment_reference": "HSBC-1"})
    assert paid.status_code == 302 and "/trader/receipts/HK" in paid.headers["Location"]
    receipt = client.get(paid.headers["Location"]).get_data(as_text=True)
    assert "HK$216000.00" in receipt and "HSBC-1" in receipt and reference in receipt
    page = client.get(path).get_data(as_text=True)
    assert 'data-status="paid"' in page and 'id="pay-duty"' not in page
    again = client.post(f"{path}/duty/pay", data={"csrf_token": token(client, path), "amount": "216000.00",
                                                   "payment_reference": "HSBC-2"})
    assert again.status_code == 302 and "already paid" in client.get(path).get_data(as_text=True)
    number = paid.headers["Location"].rsplit("/", 1)[1]
    assert signed_in(traders, "harbour").get(f"/trader/receipts/{number}").status_code == 404
