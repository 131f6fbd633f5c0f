"""OpenAPI paths and JSON answer schemas of ``/api/v1/manifests`` (merged into the document by
``app/web/openapi.py``)."""
from __future__ import annotations

from typing import Any

_REFERENCE = {"name": "reference", "in": "path", "required": True,
              "description": "manifest reference: HK + yy + M + 10 of 0-9A-Z + an ISO 7064 MOD 37,36 check "
                             "character (a wrong check character is 400 INVALID_REFERENCE)",
              "schema": {"type": "string", "pattern": "^HK[0-9]{2}M[0-9A-Z]{11}$"}}
_BODY = {"required": True, "description": "a sea or air manifest in urn:csw:manifest:v1 (schemas/manifest/v1)",
         "content": {"application/xml": {"schema": {"type": "string"}}}}
_TEXT = {"type": "string"}
_MOMENT = {"type": "string", "format": "date-time"}
_VERSION = {"type": "integer", "minimum": 1}
_DECISION = {"type": "string", "enum": ["pending", "cleared", "inspection"]}
_FINDING = {"type": "object", "required": ["code", "severity", "message"], "properties": {
    "code": _TEXT, "severity": _TEXT, "path": _TEXT, "message": _TEXT, "message_zh": _TEXT}}
_SUMMARY_REQUIRED = ["manifest_reference", "lrn", "status", "version", "decision", "mode_code", "type_code",
                     "control_point_id", "conveyance", "scheduled_datetime", "updated_datetime"]
_SUMMARY = {
    "manifest_reference": {"type": "string", "pattern": "^HK[0-9]{2}M[0-9A-Z]{11}$"}, "lrn": _TEXT,
    "status": {"type": "string", "enum": ["lodged", "arrived", "departed", "cancelled"]}, "version": _VERSION,
    "decision": _DECISION, "mode_code": {"type": "string", "enum": ["1", "4"]},
    "type_code": {"type": "string", "enum": ["IM", "EX"]}, "control_point_id": _TEXT, "conveyance": _TEXT,
    "scheduled_datetime": _MOMENT, "movement_datetime": _MOMENT, "updated_datetime": _MOMENT}
_LINE = {"type": "object", "required": [
    "document_type_code", "document_id", "transhipment", "sequence_numeric", "package_quantity",
    "package_type_code", "goods_description", "gross_mass_kg", "consignor_name", "consignee_name", "containers",
    "status"], "properties": {
        "document_type_code": {"type": "string", "enum": ["BL", "AWB"]}, "document_id": _TEXT,
        "transhipment": {"type": "boolean"}, "sequence_numeric": _VERSION, "package_quantity": _VERSION,
        "package_type_code": _TEXT, "marks": _TEXT, "goods_description": _TEXT,
        "gross_mass_kg": {"type": "string", "pattern": "^[0-9]+(\\.[0-9]+)?$"},
        "consignor_name": _TEXT, "consignee_name": _TEXT,
        "containers": {"type": "array", "items": {"type": "object", "required": ["id", "seals"], "properties": {
            "id": _TEXT, "seals": {"type": "array", "items": _TEXT}}}},
        "lane": {"type": "string", "enum": ["green", "yellow", "red"]},
        "status": {"type": "string", "enum": ["cleared", "selected"]}}}


def manifest_schemas() -> dict[str, Any]:
    return {
        "ManifestAcknowledgement": {"type": "object", "required": [
            "conversation_id", *_SUMMARY_REQUIRED, "replay", "findings", "consignments"], "properties": {
                "conversation_id": _TEXT, **_SUMMARY, "replay": {"type": "boolean"},
                "findings": {"type": "array", "items": _FINDING},
                "consignments": {"type": "array", "items": _LINE}}},
        "ManifestStatus": {"type": "object", "required": [
            "conversation_id", *_SUMMARY_REQUIRED, "loading_location_id", "unloading_location_id", "findings",
            "consignments", "history"], "properties": {
                "conversation_id": _TEXT, **_SUMMARY, "loading_location_id": _TEXT, "unloading_location_id": _TEXT,
                "findings": {"type": "array", "items": _FINDING},
                "consignments": {"type": "array", "items": _LINE},
                "history": {"type": "array", "items": {"type": "object", "required": [
                    "kind", "version", "status", "decision", "actor", "datetime"], "properties": {
                        "kind": _TEXT, "version": _VERSION, "status": _TEXT, "decision": _DECISION, "actor": _TEXT,
                        "datetime": _MOMENT, "note": _TEXT}}}}},
        "ManifestList": {"type": "object", "required": ["conversation_id", "page", "per_page", "total",
                                                        "manifests"], "properties": {
            "conversation_id": _TEXT, "page": _VERSION, "per_page": _VERSION,
            "total": {"type": "integer", "minimum": 0},
            "manifests": {"type": "array", "items": {"type": "object", "required": _SUMMARY_REQUIRED,
                                                     "properties": _SUMMARY}}}},
    }


def _answer(description: str, root: str) -> dict[str, Any]:
    return {"description": f"{description} (XML root `{root}` in urn:csw:response:v1, or JSON)",
            "content": {"application/xml": {},
                        "application/json": {"schema": {"$ref": f"#/components/schemas/{root}"}}}}


def _errors(*statuses: int) -> dict[str, Any]:
    return {str(status): {"description": "refusal in the error envelope", "content": {}} for status in statuses}


def _json_body(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": {
        "type": "object", "required": required, "properties": properties}}}}


def manifest_paths() -> dict[str, Any]:
    return {
        "/api/v1/manifests": {
            "post": {"summary": "Lodge a sea or air manifest (FunctionCode 9) before the conveyance arrives or "
                                "departs; carrier clients. Each consignment gets a lane, the manifest a decision",
                     "operationId": "lodgeManifest", "requestBody": _BODY,
                     "responses": {"202": _answer("stored, with its reference, lanes and decision",
                                                  "ManifestAcknowledgement"),
                                   **_errors(400, 401, 403, 409, 413, 415, 422)}},
            "get": {"summary": "The caller's party's manifests, most recently changed first",
                    "operationId": "listManifests",
                    "parameters": [{"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1,
                                                                              "maximum": 1_000_000}},
                                   {"name": "per_page", "in": "query", "schema": {"type": "integer", "minimum": 1,
                                                                                  "maximum": 200}}],
                    "responses": {"200": _answer("a page", "ManifestList"), **_errors(400, 401, 403)}},
        },
        "/api/v1/manifests/{reference}": {"get": {
            "summary": "One manifest: its consignments with lanes and clearance, findings and history",
            "operationId": "getManifest", "parameters": [_REFERENCE],
            "responses": {"200": _answer("the manifest", "ManifestStatus"), **_errors(400, 401, 403, 404)}}},
        "/api/v1/manifests/{reference}/amendments": {"post": {
            "summary": "Amend with a full replacement (FunctionCode 13, same LRN) until arrival or departure",
            "operationId": "amendManifest", "parameters": [_REFERENCE], "requestBody": _BODY,
            "responses": {"202": _answer("new version stored", "ManifestAcknowledgement"),
                          **_errors(400, 401, 403, 404, 409, 413, 415, 422)}}},
        "/api/v1/manifests/{reference}/cancellation": {"post": {
            "summary": "Cancel with a reason until arrival or departure",
            "operationId": "cancelManifest", "parameters": [_REFERENCE],
            "requestBody": _json_body({"reason": {"type": "string", "minLength": 3, "maxLength": 500,
                                                  "pattern": r"\S"}}, ["reason"]),
            "responses": {"200": _answer("cancelled", "ManifestStatus"),
                          **_errors(400, 401, 403, 404, 409, 415, 422)}}},
        "/api/v1/manifests/{reference}/movement": {"post": {
            "summary": "Record the conveyance's actual arrival (IM) or departure (EX): the movement date of every "
                       "transport document, from which the 14 days to declare run",
            "operationId": "recordManifestMovement", "parameters": [_REFERENCE],
            "requestBody": _json_body({"datetime": {"type": "string", "format": "date-time",
                                                    "description": "when it happened (with a zone); now if "
                                                                   "left out"}}, []),
            "responses": {"200": _answer("arrived or departed", "ManifestStatus"),
                          **_errors(400, 401, 403, 404, 409, 415, 422)}}},
    }
