"""The OpenAPI 3 description of ``/api/v1``, served at ``/api/v1/openapi.json``.

Kept beside the routes it describes; ``tests/integration/test_openapi.py`` fails when a
route of the API blueprint is missing here.
"""
from __future__ import annotations

from typing import Any

from app.domain.declaration import DeclarationStatus
from app.revenue.openapi import revenue_paths
from app.routing.openapi import routing_paths
from app.transit.openapi import transit_paths

_XML_AND_JSON: dict[str, dict[str, Any]] = {"application/xml": {}, "application/json": {}}


def _answer(description: str, root: str) -> dict[str, Any]:
    return {"description": f"{description} (XML root `{root}` in urn:csw:response:v1, or JSON)",
            "content": _XML_AND_JSON}


def _errors(*statuses: int) -> dict[str, Any]:
    return {str(status): _answer("refusal in the error envelope", "ErrorResponse") for status in statuses}


REFERENCE_PATTERN = "^HK[0-9]{2}D[0-9A-Z]{11}$"
REFERENCE_DESCRIPTION = ("declaration reference: HK + yy + D + 10 of 0-9A-Z + an ISO 7064 MOD 37,36 check "
                         "character; a reference whose check character is wrong is 400 INVALID_REFERENCE "
                         "(JSON Schema cannot state the check)")
_REFERENCE = {
    "name": "reference", "in": "path", "required": True,
    "description": REFERENCE_DESCRIPTION,
    "schema": {"type": "string", "pattern": REFERENCE_PATTERN},
}
_OPERATOR = {
    "name": "operator_id", "in": "path", "required": True,
    "description": "HK BR number (8 digits) or a partner AEO id prefixed with its ISO country code",
    "schema": {"type": "string", "pattern": "^([0-9]{8}|[A-Z]{2}[A-Z0-9]{4,33})$"},
}
_DECLARATION_BODY = {
    "required": True,
    "description": "a declaration in a supported namespace (urn:csw:declaration:v1); at most 5 MB",
    "content": {"application/xml": {"schema": {"type": "string"}}},
}


_CONVERSATION = {"X-Conversation-ID": {
    "required": True, "description": "the request's conversation id (quote it to support)",
    "schema": {"type": "string"}}}
_RETRY_AFTER = {"Retry-After": {"required": True, "description": "seconds", "schema": {"type": "integer"}}}
ERROR_ENVELOPE: dict[str, Any] = {
    "type": "object", "required": ["code", "message", "conversation_id", "errors"],
    "properties": {
        "code": {"type": "string", "pattern": "^[A-Z_]+$"},
        "message": {"type": "string"},
        "conversation_id": {"type": "string", "nullable": True},
        "errors": {"type": "array", "items": {"type": "object", "required": ["message"], "properties": {
            "message": {"type": "string"},
            "path": {"type": "string", "nullable": True},
            "rule": {"type": "string", "nullable": True},
            "line": {"type": "integer", "nullable": True},
            "column": {"type": "integer", "nullable": True}}}},
    },
}
# Statuses any operation can answer besides its own: the service's own refusals, and the
# HTTP server's (gunicorn answers a request line over 4094 bytes before the service sees it).
_EVERY_OPERATION = {
    "400": "a malformed request: a parameter, reference or body the service cannot read",
    "414": "the request line is longer than the HTTP server accepts (4094 bytes); answered by gunicorn "
           "before the service, as an HTML page without the error envelope",
    "429": "over CSW_API_RATE_LIMIT (per live API key, else per client address); retry after Retry-After",
    "503": "the database is unavailable or busy; nothing was stored; retry after Retry-After",
}
_WITH_A_BODY = {
    "413": "the body is over CSW_MAX_BODY_BYTES (5 MB), whether sent with Content-Length or chunked",
    "415": "the body's Content-Type is not one this operation reads",
}


def _complete(document: dict[str, Any]) -> dict[str, Any]:
    """Every operation documents every status the server can answer, every answer of the
    service its X-Conversation-ID, and every refusal the error envelope (JSON schema)."""
    document["components"]["schemas"] = {"ErrorResponse": ERROR_ENVELOPE}
    refusal_content = {"application/xml": {},
                       "application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}
    for item in document["paths"].values():
        for operation in item.values():
            responses = operation["responses"]
            extra = dict(_EVERY_OPERATION)
            if "requestBody" in operation:
                extra.update(_WITH_A_BODY)
            if operation.get("security", document["security"]):
                extra["401"] = "missing, unknown or revoked API key (WWW-Authenticate: Bearer)"
            for status, description in extra.items():
                responses.setdefault(status, {"description": description})
            for status, response in responses.items():
                if status == "414":
                    response["content"] = {"text/html": {}}
                    continue
                response["headers"] = {**_CONVERSATION, **(_RETRY_AFTER if status in ("429", "503") else {})}
                if int(status) >= 400:
                    response["content"] = refusal_content
    return document


def openapi_document() -> dict[str, Any]:
    return _complete({
        "openapi": "3.0.3",
        "info": {
            "title": "Customs Single Window API",
            "version": "1",
            "description": "Trade declaration intake, duty and payments. Every answer carries X-Conversation-ID. "
                           "Answers are XML unless Accept prefers application/json.",
        },
        "components": {"securitySchemes": {"apiKey": {"type": "http", "scheme": "bearer"}}},
        "security": [{"apiKey": []}],
        "paths": {
            "/api/v1/declarations": {
                "post": {
                    "summary": "Submit a declaration (FunctionCode 9)",
                    "operationId": "submitDeclaration",
                    "requestBody": _DECLARATION_BODY,
                    "responses": {
                        "202": _answer("stored; identical re-sends replay the original answer", "Acknowledgement"),
                        **_errors(400, 401, 409, 413, 415, 422),
                    },
                },
                "get": {
                    "summary": "The caller's own declarations, most recently changed first",
                    "operationId": "listDeclarations",
                    "parameters": [
                        {"name": "status", "in": "query", "allowEmptyValue": True,
                         "description": "empty: every status", "schema": {
                            "type": "string",
                            "enum": [status.value for status in DeclarationStatus]}},
                        {"name": "since", "in": "query", "allowEmptyValue": True,
                         "description": "changed since this moment (with a time zone); empty: no bound",
                         "schema": {"type": "string", "format": "date-time"}},
                        {"name": "page", "in": "query",
                         "schema": {"type": "integer", "minimum": 1, "maximum": 1_000_000}},
                        {"name": "per_page", "in": "query",
                         "schema": {"type": "integer", "minimum": 1, "maximum": 200}},
                    ],
                    "responses": {"200": _answer("a page", "DeclarationList"), **_errors(400, 401)},
                },
            },
            "/api/v1/declarations/{reference}": {
                "get": {
                    "summary": "Status, lane and history of one declaration",
                    "operationId": "getDeclaration",
                    "parameters": [_REFERENCE],
                    "responses": {"200": _answer("status", "StatusNotification"), **_errors(400, 401, 404)},
                },
            },
            "/api/v1/declarations/{reference}/amendments": {
                "post": {
                    "summary": "Amend with a full replacement document (FunctionCode 13, same LRN)",
                    "operationId": "amendDeclaration",
                    "parameters": [_REFERENCE],
                    "requestBody": _DECLARATION_BODY,
                    "responses": {"202": _answer("new version stored", "Acknowledgement"),
                                  **_errors(400, 401, 404, 409, 413, 415, 422)},
                },
            },
            "/api/v1/declarations/{reference}/cancellation": {
                "post": {
                    "summary": "Cancel with a reason",
                    "operationId": "cancelDeclaration",
                    "parameters": [_REFERENCE],
                    "requestBody": {"required": True, "content": {
                        "application/json": {"schema": {"type": "object", "required": ["reason"], "properties": {
                            "reason": {"type": "string", "minLength": 3, "maxLength": 500}}}},
                        "application/xml": {"schema": {"type": "string"},
                                            "example": '<Cancellation xmlns="urn:csw:cancellation:v1">'
                                                       "<Reason>order withdrawn</Reason></Cancellation>"},
                    }},
                    "responses": {"200": _answer("cancelled", "StatusNotification"),
                                  **_errors(400, 401, 404, 409, 415, 422)},
                },
            },
            "/api/v1/declarations/{reference}/documents/{version}": {
                "get": {
                    "summary": "A version of the declaration exactly as received",
                    "operationId": "getDeclarationDocument",
                    "parameters": [_REFERENCE, {"name": "version", "in": "path", "required": True,
                                                "schema": {"type": "integer", "minimum": 1}}],
                    "responses": {"200": {"description": "the document; header Digest: sha-256=<hex>",
                                          "content": {"application/xml": {}}},
                                  **_errors(400, 401, 404)},
                },
            },
            "/api/v1/aeo/operators/{operator_id}": {
                "get": {
                    "summary": "An operator's AEO registration: status, tier, validity, recognition, renewal "
                               "(history for administrators)",
                    "operationId": "getAeoOperator",
                    "parameters": [_OPERATOR],
                    "responses": {"200": _answer("the registration", "AeoOperator"), **_errors(401, 404)},
                },
            },
            "/api/v1/aeo/operators/{operator_id}/status": {
                "post": {
                    "summary": "Suspend, reinstate, revoke, withdraw or renew a registration (administrators)",
                    "operationId": "changeAeoStatus",
                    "parameters": [_OPERATOR],
                    "requestBody": {"required": True, "content": {"application/json": {"schema": {
                        "type": "object", "required": ["action", "reason"], "properties": {
                            "action": {"type": "string",
                                       "enum": ["suspend", "reinstate", "revoke", "withdraw", "renew"]},
                            "reason": {"type": "string", "minLength": 3, "maxLength": 500}}}}}},
                    "responses": {"200": _answer("the changed registration", "AeoOperator"),
                                  **_errors(400, 401, 403, 404, 409, 415, 422)},
                },
            },
            **routing_paths(),
            **transit_paths(),
            **revenue_paths(),
            "/api/v1/rules": {
                "get": {"summary": "The business rules in force today (code, titles, severity, dates)",
                        "operationId": "listRules", "security": [],
                        "responses": {"200": _answer("the rules and the rule set's version", "RuleList")}},
            },
            "/api/v1/openapi.json": {
                "get": {"summary": "This document", "operationId": "openapi", "security": [],
                        "responses": {"200": {"description": "OpenAPI 3", "content": {"application/json": {}}}}},
            },
        },
    })
