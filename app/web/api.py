"""The system-to-system API: ``/api/v1/declarations`` (XML in, XML or JSON out).

Thin: read the request, call intake and the declaration services, commit, render.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request, url_for
from sqlalchemy import select

from app.db import models
from app.declarations import pipeline
from app.declarations import queries, service
from app.domain.actors import Caller
from app.domain.declaration import DeclarationStatus, FunctionCode, ReceivedDeclaration
from app.domain.findings import Finding, Severity
from app.domain.problems import Problem, Rejection
from app.domain.risk import RiskResult
from app.domain.time import hong_kong_date
from app.intake.mapping import NS_V1
from app.intake.service import require_text_reason
from app.intake.wco import DEC_NS, PROFILE_RULE, WcoCancellation
from app.platform.clock import utcnow
from app.platform.uow import reusing_reads
from app.risk import service as risk_service
from app.risk.service import RiskView
from app.web import params
from app.web.body import request_body
from app.web.context import db, services, unit_of_work
from app.web.envelope import respond
from app.documents import RESPONSE_V2_NS, problem_payload
from app.web.metrics import DECLARATION_OUTCOMES
from app.web.security import bearer_caller
from app.web.openapi import openapi_document

bp = Blueprint("api", __name__, url_prefix="/api/v1")

XML_TYPES = {"application/xml", "text/xml"}
_LRN = re.compile(rb"<(?:\w+:)?FunctionalReferenceID>\s*([^<\s]{1,35})\s*</(?:\w+:)?FunctionalReferenceID>")


def authenticated_caller() -> Caller:
    """The API client behind the request's bearer key (any role), or 401 UNAUTHORIZED."""
    caller = bearer_caller()  # looked up once, by the rate limiter
    # The look-up's short transaction ends here, so that on SQLite the write lock of the
    # request's later transaction is not held while its document is parsed.
    unit_of_work().end_reads()
    if caller is None:
        raise Rejection(
            "UNAUTHORIZED",
            "send a valid API key as 'Authorization: Bearer <key>' (create one with 'csw clients create')",
        )
    g.actor = caller.actor
    return caller


def xml_body(limit: int | None = None) -> bytes:
    mimetype = request.mimetype
    if mimetype not in XML_TYPES and not mimetype.endswith("+xml"):
        raise Rejection(
            "UNSUPPORTED_MEDIA_TYPE",
            f"send the document as Content-Type: application/xml (got {mimetype or 'none'})",
        )
    return request_body(limit)


_RICH_DOCUMENT = re.compile(rb"urn:csw:declaration:v2|urn:wco:datamodel:WCO:(?:DEC-DMS|DocumentMetaData-DMS):2")


def _answer_as_requested(body: bytes) -> bool:
    """A document in declaration schema v2 or a WCO document is answered in response v2 (its
    root's namespace is among the first bytes; v1 documents pay one short scan)."""
    if _RICH_DOCUMENT.search(body, 0, 2048) is None:
        return False
    g.response_namespace = RESPONSE_V2_NS
    return True


def _lodge(store: pipeline.Store, caller: Caller, reference: str | None = None, body: bytes | None = None,
           received: ReceivedDeclaration | None = None, read: pipeline.Receive | None = None) -> Response:
    uow = unit_of_work()
    with reusing_reads(uow.session):  # one read of the party's callbacks for lodged and released
        lodged = pipeline.lodge(uow, services().lodging, body if body is not None else xml_body(), store, reference,
                                received, read)
        uow.commit()
    outcome = lodged.outcome
    if outcome.receipt.awaiting_duty:  # a deferment account may have secured the duty: the goods went
        stored = db().scalar(select(models.Declaration.status).where(models.Declaration.id == outcome.receipt.id))
        outcome = replace(outcome, receipt=replace(outcome.receipt, status=stored or outcome.receipt.status))
    risk = None if outcome.replay else lodged.risk
    return _acknowledgement(outcome, 202, lodged.findings, caller, risk)


def risk_payload(risk: RiskResult | RiskView | None, caller: Caller, count: int = 3
                 ) -> dict[str, Any] | None:
    """The assessment as the caller may see it. The declarant learns its lane, which tells it
    what to present; the score, revenue at stake, sample draw, model and reasons are risk
    criteria, and a trader who saw them could tune a declaration until it scored green, or
    learn that a watchlist names it. Only customs clients (admin, partner) get them."""
    if risk is None:
        return None
    lane = risk.lane.value if isinstance(risk, RiskResult) else risk.lane
    if not caller.is_customs:
        return {"lane": lane}
    if isinstance(risk, RiskResult):
        reasons = [(r.points, r.text) for r in risk.top_reasons(count)]
    else:
        reasons = sorted((r for r in risk.reasons if r[0] > 0), key=lambda r: -r[0])[:count]
    return {
        "lane": lane, "score": risk.score, "revenue_at_stake": f"{risk.revenue_at_stake:.2f}",
        "random_sample": risk.random_sample, "model_version": risk.model_version,
        "reasons": [{"points": f"{points:.1f}", "text": text} for points, text in reasons],
    }


def finding_payload(finding: Finding | models.DeclarationFinding) -> dict[str, Any]:
    severity = finding.severity
    return {
        "code": finding.code,
        "severity": severity.value if isinstance(severity, Severity) else severity,
        "path": finding.path,
        "message": finding.message_en,
        "message_zh": finding.message_zh,
    }


def _acknowledgement(outcome: service.Outcome, status: int, findings: Sequence[Finding], caller: Caller,
                     risk: RiskResult | None = None) -> Response:
    receipt = outcome.receipt
    DECLARATION_OUTCOMES.labels("replayed" if outcome.replay else "accepted").inc()
    payload = {
        "conversation_id": g.conversation_id,
        "declaration_id": receipt.id,
        "lrn": receipt.lrn,
        "status": receipt.status,
        "version": receipt.version,
        "received_datetime": receipt.received_at,
        "replay": outcome.replay,
        "findings": [finding_payload(f) for f in findings],
        "risk": risk_payload(risk if risk is not None else risk_service.latest_assessment(db(), receipt.id),
                             caller),
    }
    return respond("Acknowledgement", payload, status, {"Location": _declaration_url(receipt.id)})


#: A reference the URL carries as it is (werkzeug quotes none of these characters).
_PLAIN_REFERENCE = re.compile(r"[A-Za-z0-9._-]{1,100}")
#: ``url_for``'s path of a declaration up to its reference, by the mount point it was built for.
_DECLARATION_PATHS: dict[str, str] = {}


def _declaration_url(reference: str) -> str:
    """``url_for("api.get_declaration", reference=...)``: its path up to the reference is built
    once per mount point, as building it for every acknowledgement cost a fifth of one."""
    if not _PLAIN_REFERENCE.fullmatch(reference):
        return url_for("api.get_declaration", reference=reference)
    mount = request.script_root
    prefix = _DECLARATION_PATHS.get(mount)
    if prefix is None:
        built = url_for("api.get_declaration", reference="0")
        if not built.endswith("/0"):
            return url_for("api.get_declaration", reference=reference)
        prefix = built[:-1]
        if len(_DECLARATION_PATHS) < 16:
            _DECLARATION_PATHS[mount] = prefix
    return prefix + reference


@bp.post("/declarations")
def submit_declaration() -> Response:
    """A declaration in schema v1 or v2, or a WCO DEC-DMS document: a new declaration, or (v2,
    WCO) an amendment (FunctionCode 13, the declaration in ID) or (WCO) a cancellation (TypeCode INV)."""
    caller = authenticated_caller()
    body = xml_body()
    if _answer_as_requested(body):
        asked = _request(body)
    else:
        try:  # most likely a new v1 declaration: read by its group's leader, unless long (pipeline.lodge)
            return _lodge(pipeline.submission(caller, g.conversation_id), caller, None, body, read=_new_only)
        except pipeline.NotNew as not_new:
            asked = not_new.request
    try:
        if asked.received is None:
            assert asked.reference is not None
            return _cancel(asked.reference, asked.reason, caller)
        return _lodge(pipeline.store_for(asked, caller, g.conversation_id), caller, asked.reference, body,
                      asked.received)
    except Rejection as rejection:
        raise _in_document_paths(rejection, asked.path_root) from None


def _request(body: bytes) -> pipeline.Request:
    """What a posted document asks for, read once, the same for a single post and for each
    document of a batch: a v2 or WCO declaration with FunctionCode 13 amends the declaration
    named in its ID; a WCO TypeCode INV cancels it; anything else is a new declaration (a v1
    FunctionCode 13 is refused as one: v1 amends at /declarations/{id}/amendments)."""
    received = services().intake.receive_document(body)
    if isinstance(received, WcoCancellation):
        return pipeline.Request(None, received.reference, received.reason, received.path_root)
    particulars = received.declaration.particulars
    if received.declaration.function_code is not FunctionCode.AMENDMENT or particulars is None:
        return pipeline.Request(received, path_root=particulars.path_root if particulars is not None else "")
    if particulars.reference:
        return pipeline.Request(received, particulars.reference, path_root=particulars.path_root)
    if received.namespace == DEC_NS:
        raise Rejection("RULES_REJECTED", "an amendment (FunctionCode 13) names the declaration it amends in ID",
                        [Problem(message="ID (the declaration's reference) is missing",
                                 message_zh="欠缺 ID（擬修訂報關單的編號）",
                                 path=f"{particulars.path_root}/Declaration/ID",
                                 rule=PROFILE_RULE, severity="reject")])
    return pipeline.Request(received)


def _new_only(body: bytes) -> ReceivedDeclaration:
    """``body`` read as a new declaration, whose refusals name paths as they are; anything else
    (an amendment, a cancellation, a WCO document) raises ``pipeline.NotNew`` with what it asks.
    It runs on the thread of the group's leader, which may be another post's (or, for a long
    document lodged on its own, on this post's): it reads nothing of the request."""
    asked = _request(body)
    if asked.received is None or not asked.new or asked.path_root:
        raise pipeline.NotNew(asked)
    return asked.received


def _in_document_paths(rejection: Rejection, root: str) -> Rejection:
    """A refusal of a WCO document names its problems by their paths in the document as sent
    (``/MetaData/Declaration/...``), whichever step refused it."""
    if root:
        rejection.problems = [
            replace(problem, path=f"{root}{problem.path}")
            if problem.path and problem.path.startswith("/Declaration") else problem
            for problem in rejection.problems]
    return rejection


#: Declarations in one batch, and the body a batch may have (1,000 five-item declarations are
#: about 5 MB; larger declarations need smaller batches).
MAX_BATCH = 1000


@bp.post("/declaration-batches")
def submit_batch() -> Response:
    """Up to 1,000 declarations in one document (``urn:csw:declaration-batch:v1``), each
    accepted or refused on its own, idempotent per LRN like single posts; one result each, in
    document order. Each document asks what it would ask of ``POST /declarations`` (``_request``):
    a new declaration, or a v2 or WCO amendment or WCO cancellation."""
    caller = authenticated_caller()
    batch_id, documents = services().intake.receive_batch(xml_body(services().settings.max_batch_body_bytes),
                                                          MAX_BATCH)
    requests: list[pipeline.Request | Rejection] = []
    for document in documents:
        try:
            requests.append(_request(document))
        except Rejection as rejection:
            requests.append(rejection)
    uow = unit_of_work()
    results = pipeline.lodge_batch(uow, services().lodging, requests, caller, g.conversation_id)
    uow.commit()
    payload_results = []
    for index, (document, asked, result) in enumerate(zip(documents, requests, results, strict=True), start=1):
        if isinstance(result, Rejection):
            DECLARATION_OUTCOMES.labels("refused").inc()
            if isinstance(asked, pipeline.Request):
                _in_document_paths(result, asked.path_root)
            payload_results.append({
                "index": index, "lrn": _lrn_of(document), "outcome": "refused", "code": result.code,
                "message": result.message, "errors": [problem_payload(p) for p in result.problems]})
            continue
        assert isinstance(asked, pipeline.Request)
        receipt = result.outcome.receipt
        outcome = ("replayed" if result.outcome.replay else "accepted" if asked.new
                   else "amended" if asked.received is not None else "cancelled")
        DECLARATION_OUTCOMES.labels("cancelled" if outcome == "cancelled" else
                                    "replayed" if outcome == "replayed" else "accepted").inc()
        lane = result.risk.lane.value if result.risk is not None and not result.outcome.replay else None
        payload_results.append({
            "index": index, "lrn": receipt.lrn, "outcome": outcome,
            "declaration_id": receipt.id, "status": receipt.status, "version": receipt.version, "lane": lane,
            "findings": [finding_payload(f) for f in result.findings]})
    accepted = sum(1 for r in payload_results if r["outcome"] != "refused")
    return respond("BatchResult", {
        "conversation_id": g.conversation_id, "batch_id": batch_id, "declarations": len(documents),
        "accepted": accepted, "refused": len(documents) - accepted, "results": payload_results})


def _lrn_of(document: bytes) -> str | None:
    """The LRN of a refused declaration when it can be read at all (so the sender can match
    the result), else None."""
    match = _LRN.search(document)
    return match.group(1).decode("utf-8", "replace")[:35] if match else None


@bp.post("/declarations/<reference>/amendments")
def amend_declaration(reference: str) -> Response:
    caller = authenticated_caller()
    body = xml_body()
    _answer_as_requested(body)
    return _lodge(pipeline.amendment(reference, caller, g.conversation_id), caller, reference, body)


@bp.post("/declarations/<reference>/cancellation")
def cancel_declaration(reference: str) -> Response:
    caller = authenticated_caller()
    if request.mimetype == "application/json":
        body = params.json_value(request_body())
        reason = require_text_reason(body.get("reason") if isinstance(body, dict) else None)
    else:
        reason = services().intake.receive_cancellation_reason(xml_body())
    return _cancel(reference, reason, caller)


def _cancel(reference: str, reason: str, caller: Caller) -> Response:
    uow = unit_of_work().write_lock()
    service.cancel(uow.session, reference, reason, caller, g.conversation_id)
    uow.commit()
    DECLARATION_OUTCOMES.labels("cancelled").inc()
    row = queries.get_declaration(db(), reference, caller.party_id, with_history=True)
    return respond("StatusNotification", _status_payload(row, caller), 200)


def _summary(row: models.Declaration) -> dict[str, Any]:
    return {
        "declaration_id": row.id,
        "lrn": row.lrn,
        "ucr": row.ucr,
        "type_code": row.type_code,
        "status": row.status,
        "lane": row.lane,
        "version": row.version,
        "goods_item_count": row.goods_item_count,
        "received_datetime": row.received_at,
        "updated_datetime": row.updated_at,
    }


def charges_payload(record: dict[str, Any]) -> dict[str, Any]:
    """The stored assessment (``charges_record``) in the response's element order."""
    return {
        "currency": record["currency"],
        "declaration_charge": record["declaration_charge"],
        "clothing_levy": record["clothing_levy"],
        "penalty": record.get("penalty", "0.00"),
        "duty_total": record["duty_total"],
        "total": record["total"],
        "value_hkd": record.get("value_hkd"),
        "lines": [
            {key: line.get(key) for key in ("kind", "goods_item_sequence", "commodity", "base", "rate", "amount")}
            for line in record["lines"]
        ],
        "notes": list(record.get("notes", [])),
    }


def _status_payload(row: models.Declaration, caller: Caller) -> dict[str, Any]:
    """The declaration's status; one lodged in schema v2 or as a WCO document is answered in
    response v2 with its particulars."""
    payload = _summary(row)
    rich = row.schema_namespace != NS_V1
    if rich:
        g.response_namespace = RESPONSE_V2_NS
    payload["conversation_id"] = g.conversation_id
    payload["rules_version"] = row.rules_version
    payload["findings"] = [finding_payload(f) for f in row.findings if f.version == row.version]
    payload["charges"] = charges_payload(row.charges) if row.charges else None
    payload["aeo"] = row.aeo
    payload["risk"] = risk_payload(risk_service.latest_assessment(db(), row.id), caller)
    payload["history"] = [
        {
            "kind": event.kind,
            "status": event.status_to,
            "version": event.version,
            "occurred_datetime": event.occurred_at,
            "actor": event.actor,
            "note": event.note,
        }
        for event in row.events
    ]
    if rich:
        payload["particulars"] = particulars_payload(row)
    return payload


def particulars_payload(row: models.Declaration) -> dict[str, Any]:
    """What a v2 or WCO declaration states beyond v1, with its goods items' particulars."""
    payload: dict[str, Any] = dict(row.particulars or {})
    items = [{"sequence": item.sequence, **item.particulars} for item in row.goods_items if item.particulars]
    if items:
        payload["goods_items"] = items
    return payload


@bp.get("/declarations/<reference>")
def get_declaration(reference: str) -> Response:
    caller = authenticated_caller()
    row = queries.get_declaration(db(), reference, caller.party_id, with_history=True)
    return respond("StatusNotification", _status_payload(row, caller))


@bp.get("/declarations/<reference>/documents/<id:version>")
def get_document(reference: str, version: int) -> Response:
    """The document exactly as received for ``version`` (the legal record)."""
    caller = authenticated_caller()
    row = queries.get_declaration(db(), reference, caller.party_id)
    found = db().execute(
        select(models.DeclarationDocument.body, models.DeclarationDocument.sha256).where(
            models.DeclarationDocument.declaration_id == row.id,
            models.DeclarationDocument.version == version,
        )
    ).first()
    if found is None:
        raise Rejection("NOT_FOUND", f"declaration {reference} has no version {version}")
    return Response(found.body, mimetype="application/xml", headers={"Digest": f"sha-256={found.sha256}"})


STATUSES = {status.value for status in DeclarationStatus}


@bp.get("/declarations")
def list_declarations() -> Response:
    caller = authenticated_caller()
    status = request.args.get("status") or None
    if status is not None and status not in STATUSES:
        raise Rejection("INVALID_PARAMETER", f"status must be one of {', '.join(sorted(STATUSES))}",
                        [Problem(message=f"got {status[:30]!r}", path="status", rule="enumeration")])
    page_size = current_app.config["CSW_SETTINGS"].page_size
    result = queries.list_declarations(
        db(), caller.party_id, status, params.query_moment("since"),
        params.query_int("page", 1, 1_000_000), params.query_int("per_page", page_size, 200),
    )
    payload = {
        "conversation_id": g.conversation_id,
        "page": result.page,
        "per_page": result.per_page,
        "total": result.total,
        "declarations": [_summary(row) for row in result.items],
    }
    return respond("DeclarationList", payload)


@bp.get("/openapi.json")
def openapi() -> Response:
    return jsonify(openapi_document())


@bp.get("/rules")
def list_rules() -> Response:
    """The business rules in force today: public, so traders can see what they are held to."""
    rule_set = services().rule_set
    today = hong_kong_date(utcnow())
    payload = {
        "rules_version": rule_set.version,
        "rules": [
            {"code": rule.code, "title": rule.title_en, "title_zh": rule.title_zh,
             "severity": rule.severity.value, "applies_to": " ".join(sorted(rule.applies_to)),
             "effective_from": rule.effective_from.isoformat(),
             "effective_until": rule.effective_until.isoformat() if rule.effective_until else None,
             "check": rule.check}
            for rule in rule_set.rules if rule.in_force(today)
        ],
    }
    return respond("RuleList", payload)
