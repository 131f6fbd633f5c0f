"""OpenAPI paths of the duty and payment API (``/api/v1/declarations/{id}/duty``,
``/api/v1/receipts``, ``/api/v1/duty/account``), merged into the document by
``app/web/openapi.py``."""
from __future__ import annotations

from typing import Any

_XML_AND_JSON: dict[str, dict[str, Any]] = {"application/xml": {}, "application/json": {}}
_REFERENCE = {
    "name": "reference", "in": "path", "required": True,
    "description": "declaration reference: HK + yy + D + 10 of 0-9A-Z + an ISO 7064 MOD 37,36 check character "
                   "(a wrong check character is 400 INVALID_REFERENCE)",
    "schema": {"type": "string", "pattern": "^HK[0-9]{2}D[0-9A-Z]{11}$"},
}
_RECEIPT = {
    "name": "number", "in": "path", "required": True,
    "description": "receipt number: HK + yy + R + 10 of 0-9A-Z + an ISO 7064 MOD 37,36 check character",
    "schema": {"type": "string", "pattern": "^HK[0-9]{2}R[0-9A-Z]{11}$"},
}
_AMOUNT = {"description": "HKD, more than 0, at most two decimals, exactly the amount of the demand (a string such "
                          "as \"216000.00\" or a JSON number)",
           "oneOf": [{"type": "string", "pattern": "^[0-9]{1,16}(\\.[0-9]{1,2})?$"},
                     {"type": "number", "exclusiveMinimum": True, "minimum": 0, "multipleOf": 0.01}]}


def _answer(description: str, root: str) -> dict[str, Any]:
    return {"description": f"{description} (XML root `{root}` in urn:csw:response:v1, or JSON)",
            "content": _XML_AND_JSON}


def _errors(*statuses: int) -> dict[str, Any]:
    return {str(status): _answer("refusal in the error envelope", "ErrorResponse") for status in statuses}


def revenue_paths() -> dict[str, Any]:
    return {
        "/api/v1/declarations/{reference}/duty": {"get": {
            "summary": "The declaration's duty: demands (due, secured, paid, withdrawn), payments, refunds, and "
                       "whether its release waits for the duty",
            "operationId": "getDutyStatement", "parameters": [_REFERENCE],
            "responses": {"200": _answer("the statement", "DutyStatement"), **_errors(400, 401, 404)}}},
        "/api/v1/declarations/{reference}/duty/payments": {"post": {
            "summary": "Pay the duty due on the declaration: exactly the amount of one demand, once; a release "
                       "waiting for the duty follows",
            "operationId": "payDuty", "parameters": [_REFERENCE],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["amount", "payment_reference"], "additionalProperties": False,
                "properties": {
                    "amount": _AMOUNT,
                    "payment_reference": {"type": "string", "minLength": 1, "maxLength": 35,
                                          "pattern": "^[^\\u0000-\\u001f\\u007f]+$",
                                          "description": "your bank's or payment service's reference"},
                    "demand_id": {"type": "string", "pattern": "^HK[0-9]{2}M[0-9A-Z]{11}$",
                                  "description": "the demand to pay (default: the oldest one unpaid)"}}}}}},
            "responses": {"201": _answer("recorded; Location names the receipt", "PaymentReceipt"),
                          **_errors(400, 401, 402, 404, 409, 415, 422)}}},
        "/api/v1/receipts/{number}": {"get": {
            "summary": "A receipt of a duty payment (the caller's own)", "operationId": "getReceipt",
            "parameters": [_RECEIPT],
            "responses": {"200": _answer("the receipt", "PaymentReceipt"), **_errors(400, 401, 404)}}},
        "/api/v1/duty/account": {"get": {
            "summary": "The caller's deferment accounts and guarantees (limit, balance, available) and the duty "
                       "secured on them and not yet paid",
            "operationId": "getDutyAccount",
            "responses": {"200": _answer("the account", "DutyAccount"), **_errors(401, 404)}}},
    }
