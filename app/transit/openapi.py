"""OpenAPI paths of the Single E-lock Scheme API (``/api/v1/elock/...``, ``/api/v1/journeys``),
merged into the document by ``app/web/openapi.py``."""
from __future__ import annotations

from typing import Any

from app.domain.transit import AlertKind, JourneyState

_XML_AND_JSON: dict[str, dict[str, Any]] = {"application/xml": {}, "application/json": {}}


def _json_answer(description: str, schema: str, xml: bool = False) -> dict[str, Any]:
    """A success answer in JSON (and XML, response schema v1, when ``xml``) described by ``schema``."""
    return {"description": description, "content": {**({"application/xml": {}} if xml else {}),
                                                    "application/json": {"schema": {
                                                        "$ref": f"#/components/schemas/{schema}"}}}}


_STRING = {"type": "string"}
_MAYBE = {"type": "string", "nullable": True}
_MOMENT = {"type": "string", "format": "date-time"}
_MAYBE_MOMENT = {**_MOMENT, "nullable": True}
_JOURNEY_ID = {"type": "string", "pattern": "^TJ[0-9]{2}[0-9A-F]{10}$"}
_DECLARATION_ID = {"type": "string", "pattern": "^HK[0-9]{2}D[0-9A-Z]{11}$"}
_ALERT_KIND = {"type": "string", "enum": [kind.value for kind in AlertKind]}
_PAGE = {"page": {"type": "integer", "minimum": 1}, "per_page": {"type": "integer", "minimum": 1},
         "total": {"type": "integer", "minimum": 0}}
_JOURNEY_SUMMARY = {
    "journey_id": _JOURNEY_ID, "declaration_id": _DECLARATION_ID, "elock_id": _STRING, "vehicle_mark": _MAYBE,
    "container_id": _MAYBE, "route": _STRING, "origin": _STRING, "control_point": _STRING, "destination": _STRING,
    "state": {"type": "string", "enum": [state.value for state in JourneyState]}, "sealed_by": _MAYBE,
    "sealed_datetime": _MAYBE_MOMENT, "arrived_datetime": _MAYBE_MOMENT, "unsealed_datetime": _MAYBE_MOMENT,
    "last_event_datetime": _MAYBE_MOMENT, "alert_count": {"type": "integer", "minimum": 0},
    "updated_datetime": _MOMENT}
_ALERT = {"type": "object", "required": ["alert_id", "journey_id", "declaration_id", "kind", "occurred_datetime",
                                         "raised_datetime", "message", "evidence"], "properties": {
    "alert_id": {"type": "integer"}, "journey_id": _JOURNEY_ID, "declaration_id": _DECLARATION_ID,
    "kind": _ALERT_KIND, "occurred_datetime": _MOMENT, "raised_datetime": _MOMENT, "message": _STRING,
    "evidence": {"type": "object", "nullable": True, "description": "what the alert was judged on"}}}


def _object(properties: dict[str, Any], optional: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"type": "object", "required": list(properties), "properties": {**properties, **(optional or {})}}


def transit_schemas() -> dict[str, Any]:
    """The JSON answers' schemas. The receipt leaves absent values out; the JSON-only answers
    write them as null."""
    conversation = {"conversation_id": _STRING}
    return {
        "ELockEventReceipt": _object({
            **conversation, "accepted": {"type": "integer", "minimum": 0},
            "duplicate": {"type": "integer", "minimum": 0}, "rejected": {"type": "integer", "minimum": 0},
            "results": {"type": "array", "items": _object(
                {"event_id": _STRING, "status": {"type": "string", "enum": ["accepted", "duplicate", "rejected"]}},
                {"journey_id": _JOURNEY_ID, "reason": _STRING, "message": _STRING})},
            "alerts": {"type": "array", "items": _object({
                "alert_id": {"type": "integer"}, "journey_id": _JOURNEY_ID, "declaration_id": _DECLARATION_ID,
                "kind": _ALERT_KIND, "occurred_datetime": _MOMENT, "message": _STRING})}}),
        "JourneyList": _object({**conversation, **_PAGE,
                                "journeys": {"type": "array", "items": _object(_JOURNEY_SUMMARY)}}),
        "Journey": _object({
            **conversation, **_JOURNEY_SUMMARY,
            "timeline": {"type": "array", "items": _object({
                "kind": _STRING, "state_from": _MAYBE, "state_to": _MAYBE, "occurred_datetime": _MOMENT,
                "source": _STRING, "actor": _MAYBE, "event_id": _MAYBE, "note": _MAYBE})},
            "alerts": {"type": "array", "items": _ALERT},
            "track": _object({"type": {"type": "string", "enum": ["FeatureCollection"]},
                              "features": {"type": "array", "items": {"type": "object"}}})}),
        "AlertList": _object({**conversation, **_PAGE, "alerts": {"type": "array", "items": _ALERT}}),
        "ElockCompany": _object({**conversation, "br_number": {"type": "string", "pattern": "^[0-9]{8}$"},
                                 "name": _STRING, "mode": {"type": "string", "enum": ["air-land", "sea-land"]}}),
        "ElockVehicle": _object({**conversation, "registration_mark": _STRING,
                                 "company": {"type": "string", "pattern": "^[0-9]{8}$"}}),
        "Elock": _object({**conversation, "elock_id": _STRING, "supplier": _STRING,
                          "status": {"type": "string", "enum": ["available", "in_use", "faulty", "retired"]},
                          "journey_id": {**_JOURNEY_ID, "nullable": True}}),
    }
_JOURNEY = {"name": "journey_id", "in": "path", "required": True,
            "description": "journey id: TJ + yy + 10 hexadecimal digits",
            "schema": {"type": "string", "pattern": "^TJ[0-9]{2}[0-9A-F]{10}$"}}
_ELOCK = {"name": "elock_id", "in": "path", "required": True,
          "schema": {"type": "string", "pattern": "^[0-9A-Z][0-9A-Z-]{0,34}$"}}
_PAGING = [{"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100_000}},
           {"name": "per_page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 200}}]
_EVENT = {"type": "object", "required": ["event_id", "elock_id", "type", "occurred_at", "latitude", "longitude"],
          "additionalProperties": False, "properties": {
              "event_id": {"type": "string", "pattern": "^[0-9A-Za-z][0-9A-Za-z._:-]{0,63}$"},
              "elock_id": {"type": "string", "pattern": "^[0-9A-Z][0-9A-Z-]{0,34}$"},
              "type": {"type": "string", "enum": ["seal", "position", "open", "tamper", "low_battery", "unseal"]},
              "occurred_at": {"type": "string", "format": "date-time"},
              "latitude": {"type": "number", "minimum": -90, "maximum": 90},
              "longitude": {"type": "number", "minimum": -180, "maximum": 180}}}


def _errors(*statuses: int) -> dict[str, Any]:
    return {str(status): {"description": "refusal in the error envelope (ErrorResponse, urn:csw:response:v1)",
                          "content": _XML_AND_JSON} for status in statuses}


def _json_body(properties: dict[str, Any], optional: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": {
        "type": "object", "required": sorted(properties), "properties": {**properties, **(optional or {})}}}}}


_NOTE = {"note": {"type": "string", "nullable": True, "maxLength": 500, "pattern": "^[^\\u0000-\\u001f\\u007f]*$",
                  "description": "why (kept on the registry history with the client as actor); no control "
                                 "characters; null: none"}}


def _admin(summary: str, operation: str, answer: str, properties: dict[str, Any], status: str = "201",
           parameters: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"post": {"summary": summary, "operationId": operation, "parameters": parameters or [],
                     "requestBody": _json_body(properties, _NOTE),
                     "responses": {status: _json_answer("the registration (JSON)", answer),
                                   **_errors(400, 401, 403, 404, 409, 415)}}}


def transit_paths() -> dict[str, Any]:
    return {
        "/api/v1/elock/events": {"post": {
            "summary": "A batch of e-lock/GPS gateway events (gateway or admin clients); idempotent by event id",
            "operationId": "postElockEvents",
            "requestBody": {"required": True, "description": "urn:csw:elock-events:v1 (schemas/elock/v1) or JSON; "
                                                              "at most 1000 events",
                            "content": {"application/xml": {"schema": {"type": "string"}},
                                        "application/json": {"schema": {
                                            "type": "object", "required": ["events"], "properties": {
                                                "events": {"type": "array", "minItems": 1, "maxItems": 1000,
                                                           "items": _EVENT}}}}}},
            "responses": {"200": _json_answer("each event's outcome (accepted, duplicate, rejected with the "
                                              "reason) and the alerts raised (XML root `ELockEventReceipt` in "
                                              "urn:csw:response:v1, or JSON)", "ELockEventReceipt", xml=True),
                          **_errors(400, 401, 403, 413, 415, 422)}}},
        "/api/v1/journeys": {"get": {
            "summary": "E-lock journeys, most recently changed first (traders: their own declarations')",
            "operationId": "listJourneys",
            "parameters": [
                {"name": "state", "in": "query", "schema": {"type": "string", "enum": [s.value for s in JourneyState]}},
                {"name": "alert", "in": "query", "description": "an alert kind, any or none",
                 "schema": {"type": "string", "enum": ["any", "none", *[k.value for k in AlertKind]]}},
                {"name": "declaration_id", "in": "query",
                 "description": "a declaration reference (HK + yy + D + 10 of 0-9A-Z + ISO 7064 MOD 37,36 check "
                                "character; a wrong check character is 400)",
                 "schema": {"type": "string", "pattern": "^HK[0-9]{2}D[0-9A-Z]{11}$"}}, *_PAGING],
            "responses": {"200": _json_answer("a page of journeys (JSON)", "JourneyList"),
                          **_errors(400, 401, 403)}}},
        "/api/v1/journeys/{journey_id}": {"get": {
            "summary": "A journey: state, timeline (every transition with time and source), alerts with evidence, "
                       "and its track and corridor as a GeoJSON FeatureCollection",
            "operationId": "getJourney", "parameters": [_JOURNEY],
            "responses": {"200": _json_answer("the journey (JSON)", "Journey"),
                          **_errors(401, 403, 404)}}},
        "/api/v1/elock/alerts": {"get": {
            "summary": "Alerts raised on journeys, newest first (admin and partner clients)",
            "operationId": "listElockAlerts",
            "parameters": [{"name": "kind", "in": "query",
                            "schema": {"type": "string", "enum": [k.value for k in AlertKind]}}, *_PAGING],
            "responses": {"200": _json_answer("a page of alerts (JSON)", "AlertList"),
                          **_errors(400, 401, 403)}}},
        "/api/v1/elock/companies": _admin(
            "Register a participating company (admin)", "registerElockCompany", "ElockCompany",
            {"br_number": {"type": "string", "pattern": "^[0-9]{8}$"},
             "name": {"type": "string", "minLength": 1, "maxLength": 140,
                      "pattern": "^[^\\u0000-\\u001f\\u007f]*[^\\s\\u0000-\\u001f\\u007f][^\\u0000-\\u001f\\u007f]*$",
                      "description": "1 to 140 characters, not only spaces, no control characters"},
             "mode": {"type": "string", "enum": ["air-land", "sea-land"]}}),
        "/api/v1/elock/vehicles": _admin(
            "Register a vehicle of a registered company (admin)", "registerElockVehicle", "ElockVehicle",
            {"registration_mark": {"type": "string", "pattern": "^[A-HJ-NPR-Za-hj-npr-z]{2} ?[1-9][0-9]{0,3}$",
                                   "description": "HK registration mark: 2 letters without I, O, Q, then 1-9999 "
                                                  "without a leading zero (stored upper case, without spaces)"},
             "company": {"type": "string", "pattern": "^[0-9]{8}$"}}),
        "/api/v1/elock/elocks": _admin(
            "Register an e-lock of an accredited supplier (admin)", "registerElock", "Elock",
            {"elock_id": {"type": "string", "pattern": "^[0-9A-Z][0-9A-Z-]{0,34}$"},
             "supplier": {"type": "string", "minLength": 1,
                          "description": "an accredited supplier (rules/transit/routes.toml); another is 400"}}),
        "/api/v1/elock/elocks/{elock_id}/status": _admin(
            "Mark an e-lock available, faulty or retired (admin)", "changeElockStatus", "Elock",
            {"status": {"type": "string", "enum": ["available", "faulty", "retired"]}}, "200", [_ELOCK]),
    }
