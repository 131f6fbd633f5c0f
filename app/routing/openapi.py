"""OpenAPI paths of ``/api/v1/trips`` and ``/api/v1/notifications`` (merged into the
document by ``app/web/openapi.py``)."""
from __future__ import annotations

from typing import Any

from app.domain.declaration import DeclarationStatus
from app.domain.routing import MessageType
from app.domain.trips import ManifestDecision

_XML_AND_JSON: dict[str, dict[str, Any]] = {"application/xml": {}, "application/json": {}}
_TRIP = {"name": "trip_id", "in": "path", "required": True,
         "description": "trip reference: HK + yy + T + 10 of 0-9A-Z + ISO 7064 MOD 37,36 check character "
                        "(a wrong check character is 400 INVALID_REFERENCE)",
         "schema": {"type": "string", "pattern": "^HK[0-9]{2}T[0-9A-Z]{11}$"}}
_REFERENCE = {"name": "reference", "in": "path", "required": True,
              "description": "the consignment's cargo reference (or, linked before cargo references, its "
                             "declaration reference), with its check character",
              "schema": {"type": "string", "pattern": "^HK[0-9]{2}[CD][0-9A-Z]{11}$"}}
_TEXT = {"type": "string", "maxLength": 40, "pattern": r"\S", "description": "text, at most 40 characters"}
_REFERENCES = {"type": "array", "maxItems": 200,
               "description": "cargo references (HKyyC...); declaration references (HKyyD...) are still accepted "
                              "while clients move over (deprecated)",
               "items": {"type": "string", "pattern": "^HK[0-9]{2}[CD][0-9A-Z]{11}$"}}


def _answer(description: str, root: str) -> dict[str, Any]:
    """A success answer: XML (routing schema v1), or JSON described by the schema named ``root``."""
    return {"description": f"{description} (XML root `{root}` in urn:csw:routing:v1, or JSON)",
            "content": {"application/xml": {},
                        "application/json": {"schema": {"$ref": f"#/components/schemas/{root}"}}}}


_STRING = {"type": "string"}
_MOMENT = {"type": "string", "format": "date-time"}
_DECLARATION_ID = {"type": "string", "pattern": "^HK[0-9]{2}D[0-9A-Z]{11}$"}
_CARGO_REFERENCE = {"type": "string", "pattern": "^HK[0-9]{2}C[0-9A-Z]{11}$"}
#: A consignment's status: its declaration's, or for cargo as the kiosk reads it.
_CONSIGNMENT_STATUSES = sorted({status.value for status in DeclarationStatus} | {"lodged", "released", "held"})
_DECISION = {"type": "string", "enum": [decision.value for decision in ManifestDecision]}
_TRIP_HEAD = {"trip_id": {"type": "string", "pattern": "^HK[0-9]{2}T[0-9A-Z]{11}$"},
              "state_version": {"type": "integer", "minimum": 1}, "vehicle_registration_id": _STRING,
              "control_point_id": _STRING, "decision": _DECISION}


def routing_schemas() -> dict[str, Any]:
    """The JSON answers' schemas (absent values are left out, so those fields are not required)."""
    return {
        "Trip": {"type": "object", "required": [*_TRIP_HEAD, "expected_crossing_datetime", "link_deadline_datetime",
                                                "consignments", "history"], "properties": {
            **_TRIP_HEAD, "expected_crossing_datetime": _MOMENT, "link_deadline_datetime": _MOMENT,
            "crossed_datetime": {**_MOMENT, "description": "when customs recorded the crossing"},
            "consignments": {"type": "array", "items": {"type": "object", "required": ["status", "selected"],
                                                        "properties": {
                "cargo_reference": _CARGO_REFERENCE,
                "declaration_id": {**_DECLARATION_ID, "description": "a link made before cargo references"},
                "ucr": {**_STRING, "description": "the declaration's UCR, or the cargo's LRN"},
                "status": {"type": "string", "enum": _CONSIGNMENT_STATUSES},
                "selected": {"type": "boolean", "description": "named for inspection"}}}},
            "history": {"type": "array", "items": {"type": "object", "required": ["kind", "occurred_datetime"],
                                                   "properties": {"kind": _STRING, "decision": _DECISION,
                                                                  "declaration_id": _DECLARATION_ID,
                                                                  "cargo_reference": _CARGO_REFERENCE,
                                                                  "occurred_datetime": _MOMENT, "actor": _STRING}}}}},
        "KioskDecision": {"type": "object", "required": [*_TRIP_HEAD, "instruction"], "properties": {
            **_TRIP_HEAD, "instruction": {"type": "string", "enum": [
                "proceed", "go to inspection", "wait: not all consignments are cleared"]},
            "selected_consignments": {"type": "array", "items": _DECLARATION_ID},
            "selected_cargo": {"type": "array", "items": _CARGO_REFERENCE},
            "crossed_datetime": _MOMENT}},
        "NotificationList": {"type": "object", "required": ["notifications"], "properties": {
            "notifications": {"type": "array", "items": {"type": "object", "required": [
                "message_id", "idempotency_key", "message_type", "subject", "created_datetime", "content"],
                "properties": {
                    "message_id": {"type": "integer", "minimum": 1}, "idempotency_key": _STRING,
                    "message_type": {"type": "string", "enum": [kind.value for kind in MessageType]},
                    "subject": _STRING, "created_datetime": _MOMENT,
                    "content": {"description": "the routed message: a JSON object for subscribers in JSON, "
                                               "else its XML as a string"}}}}}},
        "Acknowledged": {"type": "object", "required": ["count"], "properties": {
            "count": {"type": "integer", "minimum": 0}}},
    }


def _errors(*statuses: int) -> dict[str, Any]:
    return {str(status): {"description": "refusal in the error envelope (ErrorResponse, urn:csw:response:v1)",
                          "content": _XML_AND_JSON} for status in statuses}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def routing_paths() -> dict[str, Any]:
    return {
        "/api/v1/trips": {"post": {
            "summary": "Open a conveyance trip (vehicle, land control point, expected crossing), optionally "
                       "linking consignments",
            "operationId": "openTrip",
            "requestBody": _json({"type": "object",
                                  "required": ["vehicle_registration_id", "control_point_id",
                                               "expected_crossing_datetime"],
                                  "properties": {"vehicle_registration_id": {**_TEXT, "example": "XY1234"},
                                                 "control_point_id": {**_TEXT, "example": "HKLMC"},
                                                 "expected_crossing_datetime": {"type": "string",
                                                                                "format": "date-time"},
                                                 "consignments": _REFERENCES}}),
            "responses": {"201": _answer("the trip", "Trip"), **_errors(400, 401, 404, 409, 415, 422)}}},
        "/api/v1/trips/{trip_id}": {"get": {
            "summary": "The conveyance manifest: the trip, its consignments, decision and history",
            "operationId": "getTrip", "parameters": [_TRIP],
            "responses": {"200": _answer("the trip", "Trip"), **_errors(400, 401, 404)}}},
        "/api/v1/trips/{trip_id}/consignments": {"post": {
            "summary": "Bundle consignments (cargo references) to the trip, at least 30 minutes before crossing "
                       "(its carrier only: a customs client reads trips but is refused 403)",
            "operationId": "linkConsignments", "parameters": [_TRIP],
            "requestBody": _json({"type": "object", "required": ["consignments"],
                                  "properties": {"consignments": {**_REFERENCES, "minItems": 1}}}),
            "responses": {"200": _answer("the trip", "Trip"), **_errors(400, 401, 403, 404, 409, 415)}}},
        "/api/v1/trips/{trip_id}/consignments/{reference}": {"delete": {
            "summary": "Unlink a consignment (same cut-off as linking; its carrier only, else 403)",
            "operationId": "unlinkConsignment", "parameters": [_TRIP, _REFERENCE],
            "responses": {"200": _answer("the trip", "Trip"), **_errors(400, 401, 403, 404, 409)}}},
        "/api/v1/trips/{trip_id}/crossing": {"post": {
            "summary": "Record the crossing (customs clients at the control point): the truck passed the kiosk; "
                       "only a cleared trip crosses; each bundled cargo reference has moved then (the 14 days to "
                       "declare run from it). Recording it again is a no-op",
            "operationId": "recordCrossing", "parameters": [_TRIP],
            "requestBody": {"required": False, "content": {"application/json": {"schema": {
                "type": "object", "properties": {"crossed_datetime": {**_MOMENT, "description": "default now"}}}}}},
            "responses": {"200": _answer("the trip, crossed", "Trip"), **_errors(400, 401, 403, 404, 409, 415)}}},
        "/api/v1/trips/{trip_id}/decision": {"get": {
            "summary": "Kiosk decision: cleared (proceed), inspection (names the consignments) or pending; "
                       "ETag per state version and representation, If-None-Match answers 304",
            "operationId": "getKioskDecision", "parameters": [_TRIP],
            "responses": {"200": _answer("the decision", "KioskDecision"),
                          "304": {"description": "unchanged since the ETag sent"},
                          **_errors(400, 401, 404)}}},
        "/api/v1/notifications": {"get": {
            "summary": "Pull queue of the caller's party: routed messages not yet acknowledged, oldest first",
            "operationId": "listNotifications",
            "parameters": [{"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1,
                                                                       "maximum": 500}}],
            "responses": {"200": _answer("the messages", "NotificationList"), **_errors(400, 401)}}},
        "/api/v1/notifications/acknowledgements": {"post": {
            "summary": "Acknowledge processed messages (they leave the pull queue)",
            "operationId": "acknowledgeNotifications",
            "requestBody": _json({"type": "object", "required": ["message_ids"],
                                  "properties": {"message_ids": {
                                      "type": "array", "minItems": 1, "maxItems": 500,
                                      "items": {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}}}}),
            "responses": {"200": _answer("how many were acknowledged", "Acknowledged"),
                          **_errors(400, 401, 415)}}},
    }


_DECLARATION = {"name": "reference", "in": "path", "required": True,
                "description": "declaration reference (with its check character)",
                "schema": {"type": "string", "pattern": "^HK[0-9]{2}D[0-9A-Z]{11}$"}}
_ID = {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}


def _notification_answer(description: str, root: str) -> dict[str, Any]:
    return {"description": f"{description} (XML root `{root}` in urn:csw:notification:v1, or JSON)",
            "content": _XML_AND_JSON}


def _response_answer(description: str, root: str) -> dict[str, Any]:
    return {"description": f"{description} (XML root `{root}` in urn:csw:response:v1, or JSON)",
            "content": _XML_AND_JSON}


def notification_paths() -> dict[str, Any]:
    """Lifecycle notifications (push to a callback, pull from the feed) and answering an
    officer's document requests by API."""
    callback = _response_answer("the callback; `signing_secret` only when it is new", "Callback")
    return {
        "/api/v1/callback": {
            "get": {"summary": "The client's callback for lifecycle notifications", "operationId": "getCallback",
                    "responses": {"200": callback, **_errors(401, 403, 404)}},
            "put": {"summary": "Register or change the client's callback: HTTPS (HTTP only on this machine's "
                               "loopback), no private or link-local addresses, at most 2,000 characters. "
                               "Deliveries are signed like every webhook (X-CSW-Signature)",
                    "operationId": "putCallback",
                    "requestBody": _json({"type": "object", "required": ["url"], "properties": {
                        "url": {"type": "string", "minLength": 1, "maxLength": 2000, "format": "uri"},
                        "format": {"type": "string", "enum": ["xml", "json"], "default": "json"},
                        "rotate_secret": {"type": "boolean", "default": False}}}),
                    "responses": {"200": callback, **_errors(400, 401, 403, 415, 422)}},
            "delete": {"summary": "Stop pushing notifications to the callback (the feed keeps them)",
                       "operationId": "deleteCallback",
                       "responses": {"204": {"description": "removed"}, **_errors(401, 403, 404)}},
        },
        "/api/v1/lifecycle-notifications": {"get": {
            "summary": "The party's lifecycle notifications after `after` (default: after what this client "
                       "acknowledged), oldest first; kept 14 days",
            "operationId": "listLifecycleNotifications",
            "parameters": [{"name": "after", "in": "query", "schema": {"type": "integer", "minimum": 0,
                                                                       "maximum": 2**62}},
                           {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1,
                                                                       "maximum": 500}}],
            "responses": {"200": _notification_answer("the notifications", "NotificationFeed"),
                          **_errors(400, 401, 403)}}},
        "/api/v1/lifecycle-notifications/acknowledgements": {"post": {
            "summary": "Acknowledge every notification up to a sequence (this client's cursor moves forward)",
            "operationId": "acknowledgeLifecycleNotifications",
            "requestBody": _json({"type": "object", "required": ["through"],
                                  "properties": {"through": {"type": "integer", "minimum": 0,
                                                             "maximum": 2**62}}}),
            "responses": {"200": _response_answer("the client's cursor", "Acknowledged"),
                          **_errors(400, 401, 403, 415)}}},
        "/api/v1/declarations/{reference}/document-requests": {"get": {
            "summary": "Officers' document requests on the declaration (open first), with the answers sent",
            "operationId": "listDocumentRequests", "parameters": [_DECLARATION],
            "responses": {"200": _response_answer("the requests", "DocumentRequests"), **_errors(400, 401, 404)}}},
        "/api/v1/declarations/{reference}/document-requests/{request_id}/answers": {"post": {
            "summary": "Answer a document request: multipart/form-data with `message` and at most one "
                       "`attachment` (PDF, PNG or JPEG, checked by content, up to 2 MB), or JSON {message}",
            "operationId": "answerDocumentRequest",
            "parameters": [_DECLARATION, {"name": "request_id", "in": "path", "required": True, "schema": _ID}],
            "requestBody": {"required": True, "content": {
                "multipart/form-data": {"schema": {"type": "object", "required": ["message"], "properties": {
                    "message": {"type": "string", "minLength": 1, "maxLength": 2000},
                    "attachment": {"type": "string", "format": "binary"}}}},
                "application/json": {"schema": {"type": "object", "required": ["message"], "properties": {
                    "message": {"type": "string", "minLength": 1, "maxLength": 2000}}}}}},
            "responses": {"201": _response_answer("the answer", "DocumentAnswer"),
                          **_errors(400, 401, 404, 413, 415, 422)}}},
        "/api/v1/declarations/{reference}/attachments": {"get": {
            "summary": "The attachments sent with the declarant's answers",
            "operationId": "listAttachments", "parameters": [_DECLARATION],
            "responses": {"200": _response_answer("the attachments", "Attachments"), **_errors(400, 401, 404)}}},
        "/api/v1/declarations/{reference}/attachments/{answer_id}": {"get": {
            "summary": "Download one attachment as it was sent",
            "operationId": "downloadAttachment",
            "parameters": [_DECLARATION, {"name": "answer_id", "in": "path", "required": True, "schema": _ID}],
            "responses": {"200": {"description": "the file", "content": {
                "application/pdf": {}, "image/png": {}, "image/jpeg": {}}}, **_errors(400, 401, 404)}}},
        "/api/v1/declarations/{reference}/release-notice": {"get": {
            "summary": "The release notice as routed (urn:csw:routing:v1 ReleaseNotice, XML or JSON as it was "
                       "sent), once released",
            "operationId": "getReleaseNotice", "parameters": [_DECLARATION],
            "responses": {"200": {"description": "the routed release notice", "content": _XML_AND_JSON},
                          **_errors(400, 401, 404)}}},
        "/api/v1/hs-codes": {"get": {
            "summary": "Tariff search by code digits or words (English or Chinese)", "operationId": "searchHsCodes",
            "parameters": [{"name": "q", "in": "query", "required": True,
                            "schema": {"type": "string", "minLength": 1, "maxLength": 60, "pattern": r"\S"}},
                           {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1,
                                                                       "maximum": 50}}],
            "responses": {"200": _response_answer("the codes", "HsCodes"), **_errors(400, 401)}}},
    }
