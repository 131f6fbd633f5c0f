"""OpenAPI paths of ``/api/v1/cargo`` (merged into the document by ``app/web/openapi.py``)."""
from __future__ import annotations

from typing import Any

_XML_AND_JSON: dict[str, dict[str, Any]] = {"application/xml": {}, "application/json": {}}
_REFERENCE = {"name": "reference", "in": "path", "required": True,
              "description": "cargo reference: HK + yy + C + 10 of 0-9A-Z + an ISO 7064 MOD 37,36 check character "
                             "(a wrong check character is 400 INVALID_REFERENCE)",
              "schema": {"type": "string", "pattern": "^HK[0-9]{2}C[0-9A-Z]{11}$"}}
_BODY = {"required": True, "description": "electronic cargo information in urn:csw:cargo:v1 (schemas/cargo/v1)",
         "content": {"application/xml": {"schema": {"type": "string"}}}}


def _answer(description: str, root: str) -> dict[str, Any]:
    return {"description": f"{description} (XML root `{root}` in urn:csw:response:v1, or JSON)",
            "content": _XML_AND_JSON}


def _errors(*statuses: int) -> dict[str, Any]:
    return {str(status): _answer("refusal in the error envelope", "ErrorResponse") for status in statuses}


def cargo_paths() -> dict[str, Any]:
    return {
        "/api/v1/cargo": {
            "post": {"summary": "Lodge advance cargo information for road cargo (FunctionCode 9), from 14 days up "
                                "to 30 minutes before crossing; trader and carrier clients",
                     "operationId": "lodgeCargo", "requestBody": _BODY,
                     "responses": {"202": _answer("stored, with its cargo reference and lane", "CargoAcknowledgement"),
                                   **_errors(400, 401, 403, 409, 413, 415, 422)}},
            "get": {"summary": "The caller's party's cargo information, most recently changed first",
                    "operationId": "listCargo",
                    "parameters": [{"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1,
                                                                              "maximum": 1_000_000}},
                                   {"name": "per_page", "in": "query", "schema": {"type": "integer", "minimum": 1,
                                                                                  "maximum": 200}}],
                    "responses": {"200": _answer("a page", "CargoList"), **_errors(400, 401, 403)}},
        },
        "/api/v1/cargo/{reference}": {"get": {
            "summary": "One cargo record: what was lodged, its lane, findings and history",
            "operationId": "getCargo", "parameters": [_REFERENCE],
            "responses": {"200": _answer("the cargo", "CargoStatus"), **_errors(400, 401, 403, 404)}}},
        "/api/v1/cargo/{reference}/amendments": {"post": {
            "summary": "Amend with a full replacement (FunctionCode 13, same LRN) while the cargo is lodged",
            "operationId": "amendCargo", "parameters": [_REFERENCE], "requestBody": _BODY,
            "responses": {"202": _answer("new version stored", "CargoAcknowledgement"),
                          **_errors(400, 401, 403, 404, 409, 413, 415, 422)}}},
        "/api/v1/cargo/{reference}/cancellation": {"post": {
            "summary": "Cancel with a reason while the cargo is lodged",
            "operationId": "cancelCargo", "parameters": [_REFERENCE],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["reason"],
                "properties": {"reason": {"type": "string", "minLength": 3, "maxLength": 500, "pattern": r"\S"}}}}}},
            "responses": {"200": _answer("cancelled", "CargoStatus"), **_errors(400, 401, 403, 404, 409, 415, 422)}}},
    }
