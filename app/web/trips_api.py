"""``/api/v1/trips`` (conveyance trips, consignments, the kiosk decision) and
``/api/v1/notifications`` (the pull queue). Thin: parse, call the service, commit, render.

Bodies are JSON; answers are XML in ``urn:csw:routing:v1`` (schemas/routing/v1) or JSON
when Accept prefers it; refusals use the common error envelope.
"""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from flask import Blueprint, Flask, Response, request, url_for
from lxml import etree

from app.db.routing_models import OutboxMessage, Trip
from app.documents import iso
from app.domain.problems import Problem, Rejection
from app.routing import subscribers as pull
from app.routing.messages import JSON_CONTENT_TYPE, to_json, to_xml
from app.trips import service as service
from app.web.api import authenticated_caller
from app.web import params
from app.web.context import db, services, unit_of_work
from app.web.envelope import wants_json

bp = Blueprint("trips_api", __name__, url_prefix="/api/v1")

MAX_CONSIGNMENTS = 200
MAX_PULL = 500


def _render(root: str, payload: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None) -> Response:
    if wants_json():
        response = Response(to_json(None, payload), status=status, mimetype="application/json")
    else:
        response = Response(to_xml(root, payload), status=status, mimetype="application/xml")
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _json_body() -> dict[str, Any]:
    return params.json_object()


def _references(body: dict[str, Any], required: bool) -> list[str]:
    refs = body.get("consignments", [] if not required else None)
    if not isinstance(refs, list) or not all(isinstance(r, str) for r in refs) or (required and not refs):
        raise Rejection("INVALID_PARAMETER", "consignments must be a list of cargo references",
                        [Problem(message="expected [\"HK26C...\", ...]", path="consignments",
                                 rule="list-of-references")])
    if len(refs) > MAX_CONSIGNMENTS:
        raise Rejection("INVALID_PARAMETER", f"at most {MAX_CONSIGNMENTS} consignments at once",
                        [Problem(message=f"got {len(refs)}", path="consignments", rule="max-items")])
    return [r.strip().upper() for r in refs]


def _moment(body: dict[str, Any], field: str) -> datetime:
    return params.moment(body.get(field), field)


def _text(body: dict[str, Any], field: str) -> str:
    value = body.get(field)
    if not isinstance(value, str) or not value.strip() or len(value) > 40:
        raise Rejection("INVALID_PARAMETER", f"{field} is required (text, at most 40 characters)",
                        [Problem(message=f"got {str(value)[:40]!r}", path=field, rule="required")])
    return value.strip()


def _trip_payload(trip: Trip) -> dict[str, Any]:
    rules = services().reference.routing_rules
    items = service.consignments(db(), trip.id)
    selected = set(trip.selected or ())
    return {
        "trip_id": trip.id,
        "state_version": trip.state_version,
        "vehicle_registration_id": trip.vehicle_mark,
        "control_point_id": trip.control_point,
        "expected_crossing_datetime": trip.expected_crossing_at,
        "link_deadline_datetime": service.link_deadline(trip, services().reference.routing_rules),
        "crossed_datetime": trip.crossed_at,
        "decision": trip.decision,
        "consignments": [{"declaration_id": c.reference if c.kind == service.DECLARATION else None,
                          "cargo_reference": c.reference if c.kind == service.CARGO else None,
                          "ucr": c.ucr, "status": service.consignment_state(c, rules).status,
                          "selected": c.reference in selected} for c in items],
        "history": [{"kind": e.kind, "decision": e.decision, "declaration_id": e.declaration_id,
                     "cargo_reference": e.cargo_id, "occurred_datetime": e.occurred_at, "actor": e.actor}
                    for e in service.history(db(), trip.id)],
    }


@bp.post("/trips")
def open_trip() -> Response:
    caller = authenticated_caller()
    body = _json_body()
    references = _references(body, required=False)
    vehicle, control_point = _text(body, "vehicle_registration_id"), _text(body, "control_point_id")
    crossing = _moment(body, "expected_crossing_datetime")
    uow = unit_of_work().write_lock()
    rules = services().reference.routing_rules
    trip = service.open_trip(uow.session, caller, vehicle, control_point, crossing, rules=rules)
    if references:
        service.link(uow.session, trip.id, references, caller, rules=rules)
    uow.commit()
    return _render("Trip", _trip_payload(trip), 201,
                   {"Location": url_for("trips_api.get_trip", trip_id=trip.id)})


@bp.get("/trips/<trip_id>")
def get_trip(trip_id: str) -> Response:
    caller = authenticated_caller()
    return _render("Trip", _trip_payload(service.get_trip(db(), trip_id, caller)))


@bp.post("/trips/<trip_id>/consignments")
def link_consignments(trip_id: str) -> Response:
    caller = authenticated_caller()
    references = _references(_json_body(), required=True)
    uow = unit_of_work().write_lock()
    trip = service.link(uow.session, trip_id, references, caller, rules=services().reference.routing_rules)
    uow.commit()
    return _render("Trip", _trip_payload(trip))


@bp.delete("/trips/<trip_id>/consignments/<reference>")
def unlink_consignment(trip_id: str, reference: str) -> Response:
    caller = authenticated_caller()
    uow = unit_of_work().write_lock()
    trip = service.unlink(uow.session, trip_id, reference, caller, rules=services().reference.routing_rules)
    uow.commit()
    return _render("Trip", _trip_payload(trip))


@bp.post("/trips/<trip_id>/crossing")
def record_crossing(trip_id: str) -> Response:
    """Customs at the control point: the truck passed the kiosk and crossed (a cleared trip
    only); its cargo has moved. Optional ``crossed_datetime`` (default now)."""
    caller = authenticated_caller()
    if caller.role != service.CUSTOMS_ADMIN:
        raise Rejection("FORBIDDEN", "the crossing is recorded by Hong Kong customs at the control point")
    body = _json_body() if request.content_length else {}
    crossed = _moment(body, "crossed_datetime") if body.get("crossed_datetime") is not None else None
    uow = unit_of_work().write_lock()
    trip = service.record_crossing(uow.session, trip_id, caller, crossed)
    uow.commit()
    return _render("Trip", _trip_payload(trip))


@bp.get("/trips/<trip_id>/decision")
def kiosk_decision(trip_id: str) -> Response:
    """The control-point kiosk's question: one primary-key read of the stored decision;
    revalidated with an ETag per state version and representation (304 while the manifest has
    not changed: no payload is built)."""
    caller = authenticated_caller()
    session = db()
    view = service.kiosk_view(session, trip_id, caller)
    session.rollback()  # a read: end its transaction now, not at teardown
    etag = f"{view.id}-{view.state_version}-{'json' if wants_json() else 'xml'}"
    headers = {"ETag": f'"{etag}"', "Cache-Control": "private, no-cache", "Vary": "Accept, Authorization"}
    if etag in request.if_none_match:
        return Response(status=304, headers=headers)
    return _render("KioskDecision", service.kiosk_payload(view), 200, headers)


def _notification(message: OutboxMessage, as_json: bool) -> dict[str, Any]:
    if message.content_type == JSON_CONTENT_TYPE:
        content: Any = json.loads(message.body) if as_json else message.body.decode()
    else:
        content = message.body.decode() if as_json else etree.fromstring(message.body)
    return {"message_id": message.id, "idempotency_key": message.idempotency_key,
            "message_type": message.message_type, "subject": message.subject,
            "created_datetime": iso(message.created_at), "content": content}


@bp.get("/notifications")
def notifications() -> Response:
    """The caller's party's pull queue: oldest first, until acknowledged."""
    caller = authenticated_caller()
    assert caller.party_id is not None
    messages = pull.pull_queue(db(), caller.party_id, params.query_int("limit", 100, MAX_PULL))
    as_json = wants_json()
    return _render("NotificationList", {"notifications": [_notification(m, as_json) for m in messages]})


@bp.post("/notifications/acknowledgements")
def acknowledge() -> Response:
    caller = authenticated_caller()
    assert caller.party_id is not None
    ids = _json_body().get("message_ids")
    if not isinstance(ids, list) or not ids or len(ids) > MAX_PULL or not all(
            isinstance(i, int) and not isinstance(i, bool) and 0 < i < 2**63 for i in ids):
        raise Rejection("INVALID_PARAMETER", f"message_ids must be a list of 1 to {MAX_PULL} message ids",
                        [Problem(message="expected [1, 2, ...]", path="message_ids", rule="list-of-ids")])
    uow = unit_of_work().write_lock()
    count = pull.acknowledge(uow.session, caller.party_id, ids)
    uow.commit()
    return _render("Acknowledged", {"count": count})


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
