"""Issue 26: bulk submission. One document of up to 1,000 declarations; each accepted or
refused on its own, idempotent per LRN like single posts; one result each, in order."""
from __future__ import annotations

import re
from datetime import datetime, timezone

from flask import Flask
from flask.testing import FlaskClient
from lxml import etree
from sqlalchemy import func, select

from app.db import models
from app.db.bulk import COPY_FROM_ROWS
from app.db.risk_models import RiskAssessment
from app.db.routing_models import LifecycleNotification
from app.db.transit_models import Journey
from app.domain.reference import new_declaration_reference
from tests.conftest import OTHER_KEY, TRADER_KEY, sample
from tests.factories import declaration_xml

BATCH = "/api/v1/declaration-batches"
_PROLOG = re.compile(rb"^<\?xml[^>]*\?>\s*")


def batch(*declarations: bytes, batch_id: str | None = "B-0001") -> bytes:
    inner = b"".join(_PROLOG.sub(b"", d) for d in declarations)
    head = f"<BatchID>{batch_id}</BatchID>".encode() if batch_id else b""
    return b'<?xml version="1.0" encoding="UTF-8"?>\n<DeclarationBatch xmlns="urn:csw:declaration-batch:v1">' \
        + head + inner + b"</DeclarationBatch>"


def post(client: FlaskClient, body: bytes, key: str = TRADER_KEY, accept: str = "application/json"):  # type: ignore[no-untyped-def]
    return client.post(BATCH, data=body, headers={"Authorization": f"Bearer {key}", "Accept": accept,
                                                   "Content-Type": "application/xml"})


def stored(app: Flask) -> int:
    with app.extensions["csw"].sessions() as session:
        return session.scalar(select(func.count()).select_from(models.Declaration)) or 0


def test_each_declaration_is_accepted_or_refused_on_its_own(clean_app: Flask, response_schema) -> None:  # type: ignore[no-untyped-def]
    client = clean_app.test_client()
    body = batch(
        declaration_xml(lrn="BATCH-OK-1"),
        declaration_xml(lrn="BATCH-BAD-HS", hs_code="1234567"),               # schema: 8 digits
        sample("invalid/rule-totals-mismatch.xml"),                           # a reject rule
        declaration_xml(lrn="BATCH-OK-2", items=3),
        declaration_xml(lrn="BATCH-OK-1", value="999.00"),                    # same LRN, other document
        declaration_xml(lrn="BATCH-OTHER", declarant="87654321"),             # not the caller's party
    )
    response = post(client, body)
    assert response.status_code == 200, response.text
    answer = response.get_json()
    assert (answer["batch_id"], answer["declarations"], answer["accepted"], answer["refused"]) == \
        ("B-0001", 6, 2, 4)
    results = answer["results"]
    assert [r["index"] for r in results] == [1, 2, 3, 4, 5, 6]
    assert [r["outcome"] for r in results] == ["accepted", "refused", "refused", "accepted", "refused", "refused"]
    assert [r.get("code") for r in results] == [None, "SCHEMA_INVALID", "RULES_REJECTED", None, "DUPLICATE_LRN",
                                                "DECLARANT_MISMATCH"]
    assert results[1]["lrn"] == "BATCH-BAD-HS" and results[1]["errors"][0]["path"].endswith("/Classification/ID") \
        or "ID" in results[1]["errors"][0]["path"]
    assert results[0]["declaration_id"].startswith("HK") and results[0]["lane"] in ("green", "yellow", "red")
    assert stored(clean_app) == 2

    xml = post(client, body, accept="application/xml")  # the same batch again: replays and the same refusals
    document = etree.fromstring(xml.data)
    response_schema.assertValid(document)
    outcomes = [e.text for e in document.iter("{urn:csw:response:v1}Outcome")]
    assert outcomes == ["replayed", "refused", "refused", "replayed", "refused", "refused"]
    assert stored(clean_app) == 2


def test_a_refused_declaration_leaves_nothing_behind_and_the_others_keep_their_events(clean_app: Flask) -> None:
    client = clean_app.test_client()
    post(client, batch(declaration_xml(lrn="FIRST-1")))
    answer = post(client, batch(declaration_xml(lrn="FIRST-1", value="5.00"), declaration_xml(lrn="SECOND-1")))
    assert [r["outcome"] for r in answer.get_json()["results"]] == ["refused", "accepted"]
    with clean_app.extensions["csw"].sessions() as session:
        lrns = session.scalars(select(LifecycleNotification.lrn).order_by(LifecycleNotification.id)).all()
        events = session.scalar(select(func.count()).select_from(models.DeclarationEvent)) or 0
    assert lrns[0] == "FIRST-1" and lrns.count("FIRST-1") <= 2 and "SECOND-1" in lrns
    assert events >= 2


def test_a_thousand_five_item_declarations_in_one_batch(clean_app: Flask) -> None:
    template = sample("valid/import-5-items.xml")
    lrn = re.search(rb"<FunctionalReferenceID>([^<]+)</FunctionalReferenceID>", template)
    assert lrn is not None
    declarations = [template.replace(lrn.group(0), f"<FunctionalReferenceID>BULK-{n:05d}</FunctionalReferenceID>"
                                     .encode()) for n in range(1000)]
    answer = post(clean_app.test_client(), batch(*declarations))
    assert answer.status_code == 200, answer.text[:500]
    assert answer.get_json()["accepted"] == 1000
    assert stored(clean_app) == 1000


def test_batches_that_cannot_be_read_are_refused_whole(clean_app: Flask) -> None:
    client = clean_app.test_client()
    too_many = post(client, batch(*[declaration_xml(lrn=f"MANY-{n}") for n in range(1001)]))
    assert too_many.status_code == 413 and too_many.get_json()["code"] == "BATCH_TOO_LARGE"
    empty = post(client, batch())
    assert empty.status_code == 422 and empty.get_json()["code"] == "SCHEMA_INVALID"
    single = post(client, declaration_xml(lrn="NOT-A-BATCH"))
    assert single.status_code == 422 and single.get_json()["code"] == "UNKNOWN_SCHEMA"
    broken = post(client, b"<DeclarationBatch xmlns='urn:csw:declaration-batch:v1'><x>")
    assert broken.status_code == 400
    assert post(client, batch(declaration_xml(lrn="NOKEY")), key="nope").status_code == 401
    assert stored(clean_app) == 0


def test_another_party_cannot_see_what_a_batch_stored(clean_app: Flask) -> None:
    client = clean_app.test_client()
    reference = post(client, batch(declaration_xml(lrn="MINE-1"))).get_json()["results"][0]["declaration_id"]
    looked_up = client.get(f"/api/v1/declarations/{reference}", headers={"Authorization": f"Bearer {OTHER_KEY}"})
    assert looked_up.status_code == 404


def _stored_rows(app: Flask, reference: str) -> dict[str, object]:
    """What was stored for a declaration, without ids and timestamps: its content, findings,
    events, risk assessment and lifecycle notifications."""
    with app.extensions["csw"].sessions() as session:
        row = session.get(models.Declaration, reference)
        assert row is not None
        content = {
            model.__name__: sorted(tuple(sorted((k, str(v)) for k, v in vars(item).items()
                                                if k not in ("id", "declaration_id", "_sa_instance_state")))
                                   for item in session.scalars(select(model).where(model.declaration_id == reference)))
            for model in (models.DeclarationParty, models.GoodsItem, models.TransportEquipment)}
        seals = session.scalars(select(models.Seal.seal_id).join(models.TransportEquipment)
                                .where(models.TransportEquipment.declaration_id == reference)).all()
        findings = session.scalars(select(models.DeclarationFinding.code)
                                   .where(models.DeclarationFinding.declaration_id == reference)).all()
        events = session.execute(select(models.DeclarationEvent.kind, models.DeclarationEvent.status_to)
                                 .where(models.DeclarationEvent.declaration_id == reference)
                                 .order_by(models.DeclarationEvent.id)).all()
        notices = session.scalars(select(LifecycleNotification.kind).where(
            LifecycleNotification.declaration_id == reference).order_by(LifecycleNotification.id)).all()
        risk = session.scalar(select(func.count()).select_from(RiskAssessment)
                              .where(RiskAssessment.declaration_id == reference))
        return {"status": row.status, "lane": row.lane, "goods_item_count": row.goods_item_count,
                "content": content, "seals": sorted(seals), "findings": sorted(findings),
                "events": [tuple(e) for e in events], "notices": list(notices), "risk_assessments": risk}


def test_a_declaration_lodged_in_a_batch_is_stored_as_a_single_post_stores_it(clean_app: Flask) -> None:
    template = sample("valid/import-5-items.xml")
    lrn = re.search(rb"<FunctionalReferenceID>([^<]+)</FunctionalReferenceID>", template)
    assert lrn is not None

    def with_lrn(value: str) -> bytes:
        return template.replace(lrn.group(0), f"<FunctionalReferenceID>{value}</FunctionalReferenceID>".encode())

    client = clean_app.test_client()
    single = client.post("/api/v1/declarations", data=with_lrn("ALONE-1"), headers={
        "Authorization": f"Bearer {TRADER_KEY}", "Content-Type": "application/xml", "Accept": "application/json"})
    assert single.status_code == 202
    results = post(client, batch(with_lrn("TOGETHER-1"), with_lrn("TOGETHER-2"), with_lrn("TOGETHER-1"))
                   ).get_json()["results"]
    assert [r["outcome"] for r in results] == ["accepted", "accepted", "replayed"]
    assert results[2]["declaration_id"] == results[0]["declaration_id"]
    alone = _stored_rows(clean_app, single.get_json()["declaration_id"])
    for result in results[:2]:
        together = _stored_rows(clean_app, result["declaration_id"])
        assert together["content"] == alone["content"] and together["seals"] == alone["seals"] != []
        assert together["findings"] == alone["findings"] and together["risk_assessments"] == 1
        released = together["status"] == "released"
        assert together["events"] == [("submitted", "accepted")] + ([("released", "released")] if released else [])
        assert together["notices"] == ["accepted"] + (["released"] if released else [])
    assert stored(clean_app) == 3


def test_a_declaration_a_handler_refuses_is_refused_alone(transit: FlaskClient, clean_app: Flask) -> None:
    """A transhipment whose e-lock is not registered is refused when its journey would open (a
    handler, after its rows were written): only it is refused, the others are stored with
    their journeys, notifications and events."""
    def transhipment(lrn: str, elock: str) -> bytes:
        return sample("valid/transhipment-elock.xml").replace(b"DTC-TS-2026-000301", lrn.encode()) \
            .replace(b"EL-000123", elock.encode())

    answer = post(transit, batch(declaration_xml(lrn="HANDLED-1"), transhipment("HANDLED-TS-1", "EL-777777"),
                                 declaration_xml(lrn="HANDLED-2"), transhipment("HANDLED-TS-2", "EL-000123")))
    results = answer.get_json()["results"]
    assert [r["outcome"] for r in results] == ["accepted", "refused", "accepted", "accepted"]
    assert results[1]["code"] == "TRANSIT_REJECTED"
    assert results[1]["errors"][0]["rule"] == "elock-registered"
    assert stored(clean_app) == 3
    with clean_app.extensions["csw"].sessions() as session:
        journeys = session.scalars(select(Journey.declaration_id)).all()
        notified = set(session.scalars(select(LifecycleNotification.lrn)).all())
    assert journeys == [results[3]["declaration_id"]]
    assert notified == {"HANDLED-1", "HANDLED-2", "HANDLED-TS-2"}


DMS = "wco/valid/import-dec-dms-2-items.xml"
V2 = "v2/valid/import-5-items.xml"


def _dms(lrn: str, function_code: str = "9", reference: str | None = None) -> bytes:
    """The DEC-DMS sample with its own LRN; with ``reference`` an amendment (FunctionCode 13) of that declaration."""
    identity = f"<FunctionalReferenceID>{lrn}</FunctionalReferenceID>" + (f"<ID>{reference}</ID>" if reference else "")
    return sample(DMS).replace(b"<FunctionCode>9</FunctionCode>", f"<FunctionCode>{function_code}</FunctionCode>"
                               .encode(), 1).replace(
        b"<FunctionalReferenceID>DTC-DMS-2026-0301</FunctionalReferenceID>", identity.encode())


def _v2_amendment(reference: str) -> bytes:
    return sample(V2).replace(b"<FunctionCode>9</FunctionCode>", b"<FunctionCode>13</FunctionCode>", 1).replace(
        b"<FunctionalReferenceID>DTC-IM-2026-V2-0101</FunctionalReferenceID>",
        f"<FunctionalReferenceID>DTC-IM-2026-V2-0101</FunctionalReferenceID><ID>{reference}</ID>".encode())


def _dms_cancellation(lrn: str, reference: str) -> bytes:
    return (b'<md:MetaData xmlns:md="urn:wco:datamodel:WCO:DocumentMetaData-DMS:2" '
            b'xmlns="urn:wco:datamodel:WCO:DEC-DMS:2"><Declaration><FunctionCode>13</FunctionCode>'
            + f"<FunctionalReferenceID>{lrn}</FunctionalReferenceID><ID>{reference}</ID>".encode()
            + b"<TypeCode>INV</TypeCode><AdditionalInformation><StatementDescription>Goods returned to the seller"
              b"</StatementDescription></AdditionalInformation></Declaration></md:MetaData>")


def _lodged_for_an_officer(app: Flask, client: FlaskClient, body: bytes) -> str:
    """A declaration lodged alone and held (accepted, not released), so it may still be amended or cancelled."""
    response = client.post("/api/v1/declarations", data=body, headers={
        "Authorization": f"Bearer {TRADER_KEY}", "Content-Type": "application/xml", "Accept": "application/json"})
    assert response.status_code == 202, response.get_json()
    reference: str = response.get_json()["declaration_id"]
    with app.extensions["csw"].sessions() as session, session.begin():
        row = session.get(models.Declaration, reference)
        assert row is not None
        row.status = "accepted"
    return reference


def test_wco_and_v2_amendments_and_cancellations_in_a_batch_are_answered_each_on_its_own(
        clean_app: Flask, response_schema) -> None:  # type: ignore[no-untyped-def]
    """Issue 20: a batch takes what a single post takes: DEC-DMS amendments (FunctionCode 13 with
    the declaration in ID) and cancellations (TypeCode INV), and v2 amendments (ID), each answered
    with its reference and status, or refused with problems named by the document's own paths."""
    client = clean_app.test_client()
    amended_dms = _lodged_for_an_officer(clean_app, client, _dms("DMS-BATCH-1"))
    amended_v2 = _lodged_for_an_officer(clean_app, client, sample(V2))
    cancelled = _lodged_for_an_officer(clean_app, client, _dms("DMS-BATCH-2"))
    body = batch(
        _dms("DMS-BATCH-1", "13", amended_dms),
        _v2_amendment(amended_v2),
        _dms_cancellation("DMS-BATCH-2", cancelled),
        _dms("DMS-BATCH-3", "13"),                                           # amendment without ID
        _dms("DMS-BATCH-4", "13", amended_dms),                              # another LRN than the amended one
        _dms_cancellation("DMS-BATCH-5", new_declaration_reference(datetime.now(timezone.utc))),  # none such
        declaration_xml(lrn="BATCH-NEW-1"),
        _dms("DMS-BATCH-6"),
    )
    response = post(client, body)
    assert response.status_code == 200, response.text
    answer = response.get_json()
    results = answer["results"]
    assert [r["outcome"] for r in results] == ["amended", "amended", "cancelled", "refused", "refused", "refused",
                                               "accepted", "accepted"], results
    assert (answer["declarations"], answer["accepted"], answer["refused"]) == (8, 5, 3)
    assert [(r["declaration_id"], r["version"]) for r in results[:2]] == [(amended_dms, 2), (amended_v2, 2)]
    assert results[0]["lrn"] == "DMS-BATCH-1" and results[0]["status"] == "accepted"
    assert (results[2]["declaration_id"], results[2]["status"], results[2]["lrn"]) == \
        (cancelled, "cancelled", "DMS-BATCH-2")
    assert (results[3]["code"], results[3]["errors"][0]["path"], results[3]["errors"][0]["rule"]) == \
        ("RULES_REJECTED", "/MetaData/Declaration/ID", "R950")
    assert (results[4]["code"], results[4]["errors"][0]["path"]) == \
        ("LRN_MISMATCH", "/MetaData/Declaration/FunctionalReferenceID")
    assert results[5]["code"] == "NOT_FOUND" and results[5]["lrn"] == "DMS-BATCH-5"
    assert all(f["path"] is None or f["path"].startswith("/MetaData/") for f in results[7]["findings"])
    assert any(f["code"] == "R953" for f in results[7]["findings"])
    headers = {"Authorization": f"Bearer {TRADER_KEY}", "Accept": "application/json"}
    status = client.get(f"/api/v1/declarations/{amended_dms}", headers=headers).get_json()
    assert [e["kind"] for e in status["history"]] == ["submitted", "amended"]
    status = client.get(f"/api/v1/declarations/{cancelled}", headers=headers).get_json()
    assert status["status"] == "cancelled" and status["history"][-1]["note"] == "Goods returned to the seller"
    assert stored(clean_app) == 5

    again = post(client, body, accept="application/xml")  # amendments replayed, the cancellation now refused
    document = etree.fromstring(again.data)
    response_schema.assertValid(document)
    outcomes = [e.text for e in document.iter("{urn:csw:response:v1}Outcome")]
    assert outcomes == ["replayed", "replayed", "refused", "refused", "refused", "refused", "replayed", "replayed"]
    codes = [e.findtext("{urn:csw:response:v1}Code") for e in document.iter("{urn:csw:response:v1}Result")]
    assert codes[2] == "CANCELLATION_NOT_ALLOWED"
    assert stored(clean_app) == 5


def test_a_large_batch_answers_re_sends_and_repeated_lrns_as_single_posts_do(clean_app: Flask) -> None:
    """A batch of more rows than ``COPY_FROM_ROWS`` (stored through PostgreSQL's COPY and one
    ``INSERT ... SELECT``) finds its re-sends as a small one does."""
    client = clean_app.test_client()
    before = [declaration_xml(lrn=f"LARGE-{n:03d}") for n in range(4)]
    assert post(client, batch(*before)).get_json()["accepted"] == 4
    new = [declaration_xml(lrn=f"LARGE-{n:03d}") for n in range(4, 4 + COPY_FROM_ROWS)]
    body = batch(before[0], before[1], declaration_xml(lrn="LARGE-002", value="7.00"), *new,
                 new[0], declaration_xml(lrn="LARGE-005", value="8.00"))
    answer = post(client, body).get_json()
    outcomes = [r["outcome"] for r in answer["results"]]
    assert outcomes[:3] == ["replayed", "replayed", "refused"]
    assert answer["results"][2]["code"] == "DUPLICATE_LRN"
    assert outcomes[3:-2] == ["accepted"] * COPY_FROM_ROWS
    assert outcomes[-2:] == ["replayed", "refused"] and answer["results"][-1]["code"] == "DUPLICATE_LRN"
    ids = {r["lrn"]: r["declaration_id"] for r in answer["results"] if r["outcome"] != "refused"}
    assert answer["results"][-2]["declaration_id"] == ids["LARGE-004"]
    assert stored(clean_app) == 4 + COPY_FROM_ROWS
    with clean_app.extensions["csw"].sessions() as session:
        assert session.scalar(select(func.count()).select_from(models.DeclarationEvent).where(
            models.DeclarationEvent.kind == "submitted")) == 4 + COPY_FROM_ROWS
