"""The OpenAPI 3 description of ``/api/v1``, served at ``/api/v1/openapi.json``.

Kept beside the routes it describes; ``tests/integration/test_openapi.py`` fails when a
route of the API blueprint is missing here.
"""
from __future__ import annotations

from typing import Any

from app.domain.declaration import DeclarationStatus
from app.cargo.openapi import cargo_paths, cargo_schemas
from app.cargo.manifest_openapi import manifest_paths, manifest_schemas
from app.domain.findings import Severity
from app.domain.risk import Lane
from app.revenue.openapi import revenue_paths
from app.routing.openapi import notification_paths, routing_paths, routing_schemas
from app.transit.openapi import transit_paths, transit_schemas

_XML_AND_JSON: dict[str, dict[str, Any]] = {"application/xml": {}, "application/json": {}}


def _answer(description: str, root: str) -> dict[str, Any]:
    """A success answer: XML (response schema v1), or JSON described by the schema named ``root``."""
    return {"description": f"{description} (XML root `{root}` in urn:csw:response:v1, or JSON)",
            "content": {"application/xml": {},
                        "application/json": {"schema": {"$ref": f"#/components/schemas/{root}"}}}}


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


# JSON answers (absent values are left out, so a field that may be absent is not required)
_TEXT = {"type": "string"}
_MOMENT = {"type": "string", "format": "date-time"}
_DAY = {"type": "string", "format": "date"}
_COUNT = {"type": "integer", "minimum": 0}
_MONEY = {"type": "string", "pattern": "^-?[0-9]+\\.[0-9]{2}$"}
_DECLARATION_ID = {"type": "string", "pattern": REFERENCE_PATTERN}
_STATUS = {"type": "string", "enum": [status.value for status in DeclarationStatus]}
_SEVERITY = {"type": "string", "enum": [severity.value for severity in Severity]}
_FINDING = {"type": "object", "required": ["code", "severity", "message"], "properties": {
    "code": _TEXT, "severity": _SEVERITY, "path": _TEXT,
    "message": _TEXT, "message_zh": _TEXT}}
_RISK = {"type": "object", "required": ["lane"], "description": "the lane; the score and its reasons for customs "
         "clients only", "properties": {
             "lane": {"type": "string", "enum": [lane.value for lane in Lane]}, "score": {"type": "number"},
             "revenue_at_stake": _MONEY, "random_sample": {"type": "boolean"}, "model_version": _TEXT,
             "reasons": {"type": "array", "items": {"type": "object", "required": ["points", "text"],
                                                    "properties": {"points": _TEXT, "text": _TEXT}}}}}
_SUMMARY = {
    "declaration_id": _DECLARATION_ID, "lrn": _TEXT, "ucr": _TEXT, "type_code": _TEXT, "status": _STATUS,
    "lane": {"type": "string", "enum": [lane.value for lane in Lane]}, "version": {"type": "integer", "minimum": 1},
    "goods_item_count": _COUNT, "received_datetime": _MOMENT, "updated_datetime": _MOMENT}
_SUMMARY_REQUIRED = ["declaration_id", "lrn", "type_code", "status", "version", "goods_item_count",
                     "received_datetime", "updated_datetime"]
_CHARGES = {"type": "object", "required": ["currency", "declaration_charge", "clothing_levy", "duty_total", "total",
                                           "lines", "notes"], "properties": {
    "currency": _TEXT, "declaration_charge": _MONEY, "clothing_levy": _MONEY, "duty_total": _MONEY,
    "total": _MONEY, "value_hkd": _MONEY, "notes": {"type": "array", "items": _TEXT},
    "lines": {"type": "array", "items": {"type": "object", "required": ["kind", "amount"], "properties": {
        "kind": _TEXT, "goods_item_sequence": {"type": "integer"}, "commodity": _TEXT, "base": _TEXT,
        "rate": _TEXT, "amount": _MONEY}}}}}
_ANSWERS: dict[str, Any] = {
    "BatchResult": {"type": "object", "required": ["conversation_id", "declarations", "accepted", "refused",
                                                   "results"], "properties": {
        "conversation_id": _TEXT, "batch_id": _TEXT, "declarations": _COUNT, "accepted": _COUNT, "refused": _COUNT,
        "results": {"type": "array", "items": {"type": "object", "required": ["index", "outcome"], "properties": {
            "index": {"type": "integer", "minimum": 1}, "lrn": _TEXT,
            "outcome": {"type": "string", "enum": ["accepted", "amended", "cancelled", "replayed", "refused"],
                        "description": "accepted (a new declaration), amended (a v2 or WCO FunctionCode 13 with the "
                                       "declaration in ID), cancelled (a WCO TypeCode INV), replayed (the same "
                                       "document again), refused (code and errors)"},
            "declaration_id": _DECLARATION_ID, "status": _STATUS, "version": {"type": "integer", "minimum": 1},
            "lane": _TEXT, "findings": {"type": "array", "items": _FINDING}, "code": _TEXT, "message": _TEXT,
            "errors": {"type": "array", "items": {"type": "object"}}}}}}},
    "Acknowledgement": {"type": "object", "required": [
        "conversation_id", "declaration_id", "lrn", "status", "version", "received_datetime", "replay", "findings"],
        "properties": {"conversation_id": _TEXT, "declaration_id": _DECLARATION_ID, "lrn": _TEXT, "status": _STATUS,
                       "version": {"type": "integer", "minimum": 1}, "received_datetime": _MOMENT,
                       "replay": {"type": "boolean"}, "findings": {"type": "array", "items": _FINDING},
                       "risk": _RISK}},
    "StatusNotification": {"type": "object", "required": ["conversation_id", *_SUMMARY_REQUIRED, "findings",
                                                          "history"],
                           "properties": {
        "conversation_id": _TEXT, **_SUMMARY, "rules_version": _TEXT,
        "findings": {"type": "array", "items": _FINDING}, "charges": _CHARGES,
        "aeo": {"type": "object", "description": "the AEO standing of the declaration's parties when assessed"},
        "risk": _RISK,
        "history": {"type": "array", "items": {"type": "object", "required": ["kind", "occurred_datetime"],
                                               "properties": {"kind": _TEXT, "status": _STATUS,
                                                              "version": {"type": "integer"},
                                                              "occurred_datetime": _MOMENT, "actor": _TEXT,
                                                              "note": _TEXT}}},
        "particulars": {"type": "object", "description": (
            "a declaration lodged in schema v2 or as a WCO DEC-DMS document (answered in urn:csw:response:v2): "
            "what it states beyond v1 (profile, national_type_code, representation_status, delivery_terms, "
            "delivery_place, invoice_amount, invoice_currency, exchange_rate, exchange_currency, total_packages, "
            "goods_location, dispatch_country, destination_country, routing_countries, inland_transport_mode, "
            "transport_means_type/_nationality/_name, supervising_office, exit_office, additional_information, "
            "previous_documents, equipment that is not an ISO container, goods_items' procedure, valuation "
            "method, marks and numbers)")}}},
    "DeclarationList": {"type": "object", "required": ["conversation_id", "page", "per_page", "total",
                                                       "declarations"], "properties": {
        "conversation_id": _TEXT, "page": {"type": "integer", "minimum": 1},
        "per_page": {"type": "integer", "minimum": 1}, "total": _COUNT,
        "declarations": {"type": "array", "items": {"type": "object", "required": _SUMMARY_REQUIRED,
                                                    "properties": _SUMMARY}}}},
    "AeoOperator": {"type": "object", "required": [
        "conversation_id", "operator_id", "country", "name", "tier", "status", "valid_from", "valid_until",
        "recognised", "renewal_due", "renewal_due_from", "as_of", "updated_datetime"], "properties": {
        "conversation_id": _TEXT, "operator_id": _TEXT, "country": {"type": "string", "pattern": "^[A-Z]{2}$"},
        "name": _TEXT, "tier": {"type": "integer", "minimum": 1, "maximum": 3}, "status": _TEXT,
        "valid_from": _DAY, "valid_until": _DAY, "revoked_on": _DAY, "recognised": {"type": "boolean"},
        "reason": _TEXT, "renewal_due": {"type": "boolean"}, "renewal_due_from": _DAY, "mra_programme": _TEXT,
        "as_of": _DAY, "updated_datetime": _MOMENT,
        "history": {"type": "array", "description": "administrators only", "items": {
            "type": "object", "required": ["status_to", "actor", "occurred_datetime"], "properties": {
                "status_from": _TEXT, "status_to": _TEXT, "reason": _TEXT, "actor": _TEXT,
                "occurred_datetime": _MOMENT}}}}},
    "RuleList": {"type": "object", "required": ["rules_version", "rules"], "properties": {
        "rules_version": _TEXT, "rules": {"type": "array", "items": {"type": "object", "required": [
            "code", "title", "title_zh", "severity", "applies_to", "effective_from", "check"], "properties": {
                "code": _TEXT, "title": _TEXT, "title_zh": _TEXT,
                "severity": _SEVERITY,
                "applies_to": _TEXT, "effective_from": _DAY, "effective_until": _DAY, "check": _TEXT}}}}},
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
# HTTP server's (app/serving answers an unreadable or too slow request before the service).
_EVERY_OPERATION = {
    "400": "a malformed request: a parameter, reference or body the service cannot read, or an HTTP request "
           "the server cannot read (bad framing, a request head over 16 KB, a body cut short: BAD_REQUEST, "
           "BODY_INCOMPLETE)",
    "408": "the request head did not arrive whole within CSW_HEADER_TIMEOUT_SECONDS (HEADER_TIMEOUT), or its body "
           "stalled for CSW_BODY_TIMEOUT_SECONDS or came slower than 8 KB a second (BODY_TIMEOUT); nothing was "
           "stored and the connection closes",
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
    document["components"]["schemas"] = {"ErrorResponse": ERROR_ENVELOPE, **_ANSWERS, **routing_schemas(),
                                         **transit_schemas(), **cargo_schemas(), **manifest_schemas()}
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
                    "summary": "Submit a declaration (FunctionCode 9) in schema v1 or v2, or a WCO DEC-DMS document",
                    "description": (
                        "urn:csw:declaration:v1, urn:csw:declaration:v2 (the Hong Kong profile of the WCO Data "
                        "Model; answered in urn:csw:response:v2) or a WCO DEC-DMS document as sent to other "
                        "administrations (a MetaData envelope in urn:wco:datamodel:WCO:DocumentMetaData-DMS:2 "
                        "around a Declaration in urn:wco:datamodel:WCO:DEC-DMS:2). A WCO document with "
                        "FunctionCode 13 and the declaration's reference in ID amends it (202); TypeCode INV "
                        "cancels it (200). Elements outside the profile are kept and reported as info findings "
                        "(R951); what the profile needs and is missing is refused as RULES_REJECTED, rule R950, "
                        "each problem named by its path in the document (/MetaData/Declaration/...)."),
                    "operationId": "submitDeclaration",
                    "requestBody": _DECLARATION_BODY,
                    "responses": {
                        "202": _answer("stored; identical re-sends replay the original answer", "Acknowledgement"),
                        "200": _answer("a WCO cancellation (TypeCode INV): the declaration is cancelled",
                                       "StatusNotification"),
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
            "/api/v1/declaration-batches": {
                "post": {
                    "summary": "Submit up to 1,000 declarations in one document (urn:csw:declaration-batch:v1); "
                               "each is accepted or refused on its own, idempotent per LRN; one result each, "
                               "in document order",
                    "description": "Each document is what POST /api/v1/declarations takes: a new declaration "
                                   "(v1, v2, WCO DEC-DMS), an amendment in v2 or DEC-DMS (FunctionCode 13 with "
                                   "the declaration's reference in ID) or a DEC-DMS cancellation (TypeCode INV "
                                   "with ID). A refused WCO document's errors name its own paths "
                                   "(/MetaData/Declaration/...).",
                    "operationId": "submitDeclarationBatch",
                    "requestBody": {"required": True,
                                    "description": "a DeclarationBatch holding declarations in a supported "
                                                   "namespace; at most 16 MB (CSW_MAX_BATCH_BODY_BYTES)",
                                    "content": {"application/xml": {"schema": {"type": "string"}}}},
                    "responses": {"200": _answer("one result per declaration", "BatchResult"),
                                  **_errors(400, 401, 413, 415, 422)},
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
            **routing_paths(), **notification_paths(), **cargo_paths(), **manifest_paths(),
            **transit_paths(),
            **revenue_paths(),
            "/api/v1/rules": {
                "get": {"summary": "The business rules in force today (code, titles, severity, dates)",
                        "operationId": "listRules", "security": [],
                        "responses": {"200": _answer("the rules and the rule set's version", "RuleList")}},
            },
            "/api/v1/openapi.json": {
                "get": {"summary": "This document", "operationId": "openapi", "security": [],
                        "responses": {"200": {"description": "OpenAPI 3", "content": {"application/json": {
                            "schema": {"type": "object", "required": ["openapi", "info", "paths", "components"]}}}}}},
            },
        },
    })
