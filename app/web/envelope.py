"""One response envelope for every API answer: XML (response schema v1) by default,
JSON when the client prefers ``application/json``.

Payloads are plain dicts with snake_case keys, mapped to documents by ``app.documents``
(``declaration_id`` -> ``DeclarationID``, ``errors`` -> ``Errors/Error``).
"""
from __future__ import annotations

from typing import Any

from flask import Response, request

from app.documents import XmlVocabulary, to_json
from app.domain.problems import Rejection

RESPONSE_NS = "urn:csw:response:v1"

STATUS_BY_CODE: dict[str, int] = {
    "EMPTY_BODY": 400,
    "XML_MALFORMED": 400,
    "XML_FORBIDDEN": 400,
    "ENCODING_INVALID": 400,
    "INVALID_REFERENCE": 400,
    "INVALID_PARAMETER": 400,
    "REASON_REQUIRED": 422,
    "UNAUTHORIZED": 401,
    "FORBIDDEN": 403,
    "NOT_FOUND": 404,
    "METHOD_NOT_ALLOWED": 405,
    "DUPLICATE_LRN": 409,
    "AMENDMENT_NOT_ALLOWED": 409,
    "CANCELLATION_NOT_ALLOWED": 409,
    "AEO_TRANSITION_NOT_ALLOWED": 409,
    "AEO_READMISSION_BARRED": 409,
    "ELOCK_IN_USE": 409,
    "BODY_TOO_LARGE": 413,
    "UNSUPPORTED_MEDIA_TYPE": 415,
    "RATE_LIMITED": 429,
    "UNKNOWN_SCHEMA": 422,
    "SCHEMA_INVALID": 422,
    "VALUE_OUT_OF_RANGE": 422,
    "DECLARANT_MISMATCH": 422,
    "RULES_REJECTED": 422,
    "LRN_MISMATCH": 422,
    "WRONG_FUNCTION_CODE": 422,
    "INVALID_TRIP": 422,
    "LINKING_TOO_LATE": 409,
    "CONSIGNMENT_NOT_LINKABLE": 409,
    "ALREADY_LINKED": 409,
    "TRANSIT_REJECTED": 422,
    "INTERNAL_ERROR": 500,
    "DATABASE_UNAVAILABLE": 503,
}

RESPONSE_XML = XmlVocabulary(RESPONSE_NS, words={
    "id": "ID", "lrn": "LRN", "ucr": "UCR", "datetime": "DateTime", "sha256": "SHA256", "zh": "ZH", "hkd": "HKD",
    "aeo": "AEO",
}, item_names={
    "errors": "Error",
    "history": "Event",
    "declarations": "Declaration",
    "supported_namespaces": "Namespace",
    "findings": "Finding",
    "lines": "Line",
    "rules": "Rule",
    "notes": "Note",
    "parties": "Party",
    "reasons": "Reason",
    "results": "Result",
    "alerts": "Alert",
})


def to_xml(root: str, payload: dict[str, Any]) -> bytes:
    return RESPONSE_XML.to_xml(root, payload)


def wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["application/xml", "application/json", "text/xml"])
    return best == "application/json"


def respond(root: str, payload: dict[str, Any], status: int = 200,
            headers: dict[str, str] | None = None) -> Response:
    if wants_json():
        response = Response(to_json(payload), status=status, mimetype="application/json")
    else:
        response = Response(to_xml(root, payload), status=status, mimetype="application/xml")
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def error_payload(rejection: Rejection, conversation_id: str | None) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "code": rejection.code,
        "message": rejection.message,
        "conversation_id": conversation_id,
        "errors": [
            {"message": p.message, "message_zh": p.message_zh, "path": p.path, "rule": p.rule,
             "severity": p.severity,
             "line": p.line if p.line and p.line > 0 else None,
             "column": p.column if p.column and p.column > 0 else None}
            for p in rejection.problems
        ],
    }
    for key, value in rejection.details.items():
        payload[key] = value.split() if key == "supported_namespaces" else value
    return payload


def error_response(rejection: Rejection, conversation_id: str | None,
                   headers: dict[str, str] | None = None) -> Response:
    status = STATUS_BY_CODE.get(rejection.code, 400)
    return respond("ErrorResponse", error_payload(rejection, conversation_id), status, headers)
