"""One response envelope for every API answer: XML (response schema v1) by default,
JSON when the client prefers ``application/json``.

Payloads are plain dicts with snake_case keys; XML element names are their
UpperCamelCase forms (``declaration_id`` -> ``DeclarationID``), lists become a wrapper
element with one child per item (``errors`` -> ``Errors/Error``).
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from flask import Response, request
from lxml import etree

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

_WORDS = {"id": "ID", "lrn": "LRN", "ucr": "UCR", "datetime": "DateTime", "sha256": "SHA256", "zh": "ZH",
          "hkd": "HKD", "aeo": "AEO"}
_ITEM_NAMES = {
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
}


def xml_name(key: str) -> str:
    return "".join(_WORDS.get(word, word.capitalize()) for word in key.split("_"))


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return iso(value)
    return str(value)


def iso(moment: datetime) -> str:
    """UTC ISO 8601; SQLite hands back naive datetimes, which are UTC by construction."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def _build(parent: etree._Element, key: str, value: Any) -> None:
    if value is None:
        return
    if isinstance(value, list):
        wrapper = etree.SubElement(parent, f"{{{RESPONSE_NS}}}{xml_name(key)}")
        for item in value:
            _fill(etree.SubElement(wrapper, f"{{{RESPONSE_NS}}}{_ITEM_NAMES[key]}"), item)
        return
    _fill(etree.SubElement(parent, f"{{{RESPONSE_NS}}}{xml_name(key)}"), value)


def _fill(element: etree._Element, value: Any) -> None:
    if isinstance(value, dict):
        for child_key, child_value in value.items():
            _build(element, child_key, child_value)
    else:
        element.text = _text(value)


def to_xml(root: str, payload: dict[str, Any]) -> bytes:
    element = etree.Element(f"{{{RESPONSE_NS}}}{root}", nsmap={None: RESPONSE_NS})
    _fill(element, payload)
    return etree.tostring(element, xml_declaration=True, encoding="UTF-8")


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(type(value).__name__)


def wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["application/xml", "application/json", "text/xml"])
    return best == "application/json"


def _compact(value: Any) -> Any:
    """Drop absent (None) fields, as the XML form does."""
    if isinstance(value, dict):
        return {k: _compact(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_compact(v) for v in value]
    return value


def respond(root: str, payload: dict[str, Any], status: int = 200,
            headers: dict[str, str] | None = None) -> Response:
    if wants_json():
        body = json.dumps(_compact(payload), default=_json_default, ensure_ascii=False)
        response = Response(body, status=status, mimetype="application/json")
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
