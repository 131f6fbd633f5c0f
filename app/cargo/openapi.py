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


def _schema_answer(description: str, root: str) -> dict[str, Any]:
    return {"description": f"{description} (XML root `{root}` in urn:csw:response:v1, or JSON)",
            "content": {"application/xml": {},
                        "application/json": {"schema": {"$ref": f"#/components/schemas/{root}"}}}}


_TEXT = {"type": "string"}
_MOMENT = {"type": "string", "format": "date-time"}
_DECIMAL = {"type": "string", "pattern": r"^[0-9]+(\.[0-9]+)?$"}
_COUNT = {"type": "integer", "minimum": 0}
_DECLARATION_ID = {"type": "string", "pattern": "^HK[0-9]{2}D[0-9A-Z]{11}$"}
_LINE_STATUSES = ["open", "partial", "written_off", "over", "closed", "cancelled"]


def cargo_schemas() -> dict[str, Any]:
    """JSON answers' schemas (absent values are left out, so those fields are not required)."""
    return {
        "CargoLine": {"type": "object", "required": [
            "conversation_id", "line_type_code", "line_id", "status", "exempt", "package_quantity", "gross_mass_kg",
            "declared_package_quantity", "declared_gross_mass_kg", "findings", "history"], "properties": {
            "conversation_id": _TEXT,
            "line_type_code": {"type": "string", "enum": ["CRN", "BL", "AWB"]}, "line_id": _TEXT,
            "status": {"type": "string", "enum": _LINE_STATUSES}, "exempt": {"type": "boolean"},
            "package_quantity": _COUNT, "gross_mass_kg": _DECIMAL, "declared_package_quantity": _COUNT,
            "declared_gross_mass_kg": _DECIMAL, "movement_datetime": _MOMENT, "followed_up_datetime": _MOMENT,
            "findings": {"type": "array", "items": {"type": "object", "required": [
                "code", "severity", "message", "message_zh"], "properties": {
                    "code": _TEXT, "severity": {"type": "string", "enum": ["reject", "hold", "warn", "info"]},
                    "message": _TEXT, "message_zh": _TEXT}}},
            "declarations": {"type": "array", "description": "customs only", "items": {
                "type": "object", "required": ["declaration_id"], "properties": {
                    "declaration_id": _DECLARATION_ID, "package_quantity": _COUNT, "gross_mass_kg": _DECIMAL}}},
            "history": {"type": "array", "items": {"type": "object", "required": ["kind", "status", "actor",
                                                                                  "datetime"], "properties": {
                "kind": _TEXT, "status": _TEXT, "declaration_id": _DECLARATION_ID, "actor": _TEXT,
                "datetime": _MOMENT, "note": _TEXT}}}}},
    }


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
        "/api/v1/cargo/{reference}/control-decisions": {"post": {
            "summary": "An officer's decision on cargo before it crosses (customs clients): release (examined, or "
                       "the lane's selection waived) or hold (the truck stops at the kiosk); a bundled truck's kiosk "
                       "decision follows",
            "operationId": "decideCargo", "parameters": [_REFERENCE],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["decision"],
                "properties": {"decision": {"type": "string", "enum": ["release", "hold"]},
                               "note": {"type": "string", "maxLength": 500}}}}}},
            "responses": {"200": _answer("decided", "CargoStatus"), **_errors(400, 401, 403, 404, 409, 415)}}},
        "/api/v1/cargo-lines/{line_type}/{line_id}": {"get": {
            "summary": "A cargo line's write-off (CRN cargo reference, BL bill of lading, AWB air waybill): packages "
                       "and gross mass lodged and declared, status, findings, history; to the party that lodged it "
                       "and to customs (who also see the declarations covering it)",
            "operationId": "getCargoLine",
            "parameters": [{"name": "line_type", "in": "path", "required": True,
                            "schema": {"type": "string", "enum": ["CRN", "BL", "AWB"]}},
                           {"name": "line_id", "in": "path", "required": True,
                            "schema": {"type": "string", "maxLength": 40}}],
            "responses": {"200": _schema_answer("the line's write-off", "CargoLine"), **_errors(400, 401, 404)}}},
    }
