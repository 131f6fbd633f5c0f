"""One response envelope for every API answer: XML (response schema v1) by default,
JSON when the client prefers ``application/json``.

Payloads are plain dicts with snake_case keys, mapped to documents by ``app.documents``
(``declaration_id`` -> ``DeclarationID``, ``errors`` -> ``Errors/Error``).
"""
from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from flask import Response, g, request

from app.documents import RESPONSE_NS, STATUS_BY_CODE, error_payload, to_json, to_xml
from app.domain.problems import Rejection

__all__ = ["STATUS_BY_CODE", "attachment_disposition", "error_payload", "error_response", "respond", "to_xml",
           "wants_json"]

def attachment_disposition(filename: str | None, default: str = "attachment") -> str:
    """A ``Content-Disposition`` for a download whose name came from a user (RFC 6266): an
    ASCII ``filename`` (letters, digits, ``._-``; anything else ``_``) for old clients, and the
    name itself as ``filename*`` (UTF-8, percent-encoded). Control characters are dropped, so a
    name cannot end the header, add one or break out of the quotes."""
    name = "".join(ch for ch in filename or "" if ch.isprintable())[-100:].strip() or default
    fallback = re.sub(r"[^A-Za-z0-9._-]", "_", name).lstrip(".") or default
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["application/xml", "application/json", "text/xml"])
    return best == "application/json"


def respond(root: str, payload: dict[str, Any], status: int = 200,
            headers: dict[str, str] | None = None) -> Response:
    if wants_json():
        response = Response(to_json(payload), status=status, mimetype="application/json")
    else:
        namespace = g.get("response_namespace", RESPONSE_NS) if g else RESPONSE_NS
        response = Response(to_xml(root, payload, namespace), status=status, mimetype="application/xml")
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def error_response(rejection: Rejection, conversation_id: str | None,
                   headers: dict[str, str] | None = None) -> Response:
    status = STATUS_BY_CODE.get(rejection.code, 400)
    return respond("ErrorResponse", error_payload(rejection, conversation_id), status, headers)
