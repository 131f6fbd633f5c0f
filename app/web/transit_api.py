"""The Single E-lock Scheme API.

- ``POST /api/v1/elock/events``: a telemetry batch from the e-lock/GPS gateway, XML
  (``urn:csw:elock-events:v1``) or JSON; ``gateway`` (or ``admin``) clients only. Answers
  ``ELockEventReceipt`` (XML or JSON): each event's outcome and the alerts raised.
- ``GET /api/v1/journeys`` (filters ``state``, ``alert``, ``declaration_id``),
  ``GET /api/v1/journeys/<id>`` (timeline, alerts, and the track and corridor as GeoJSON),
  ``GET /api/v1/elock/alerts``: JSON, for map and case tools. Admin and partner clients see
  every journey; a trader sees the journeys of its own declarations.
- ``POST /api/v1/elock/companies|vehicles|elocks`` and ``/elocks/<id>/status``: admin only;
  an optional ``note`` (why) goes with the change onto the registry history, with the
  client as actor.
"""
from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Flask, Response, g, request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.db import models
from app.db.transit_models import ELock, Journey, JourneyAlert
from app.documents import iso
from app.domain.problems import Problem, Rejection
from app.domain.reference import is_valid_declaration_reference
from app.domain.transit import AlertKind, JourneyState
from app.domain.actors import CUSTOMS_ROLES, Caller
from app.platform.clock import utcnow
from app.transit import service, telemetry
from app.web.api import authenticated_caller
from app.web import params
from app.web.body import request_body
from app.web.context import db, services, unit_of_work
from app.web.envelope import respond

bp = Blueprint("transit_api", __name__, url_prefix="/api/v1")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)


def _json(payload: dict[str, Any], status: int = 200) -> Response:
    return Response(json.dumps(payload, ensure_ascii=False, default=str), status=status, mimetype="application/json")


def _require(caller: Caller, roles: tuple[str, ...], what: str) -> None:
    if caller.role not in roles:
        raise Rejection("FORBIDDEN", f"only {' or '.join(roles)} clients may {what}")


def _events() -> list[telemetry.GatewayEvent]:
    mimetype = request.mimetype
    body = request_body()
    if mimetype == "application/json":
        return telemetry.read_json(body, services().settings.max_error_count)
    if mimetype in ("application/xml", "text/xml") or mimetype.endswith("+xml"):
        return telemetry.read_xml(services().intake, body, services().settings.max_error_count)
    raise Rejection("UNSUPPORTED_MEDIA_TYPE",
                    f"send the batch as application/xml or application/json (got {mimetype or 'none'})")


def _alert_summary(alert: JourneyAlert) -> dict[str, Any]:
    return {"alert_id": alert.id, "journey_id": alert.journey_id, "declaration_id": alert.declaration_id,
            "kind": alert.kind, "occurred_datetime": alert.occurred_at, "message": alert.message}


@bp.post("/elock/events")
def post_events() -> Response:
    caller = authenticated_caller()
    _require(caller, ("gateway", "admin"), "post e-lock telemetry")
    events = _events()
    network = services().reference.network
    for attempt in (1, 2):
        try:
            uow = unit_of_work().write_lock()
            report = service.ingest(uow.session, events, caller, utcnow(), network)
            uow.commit()
            break
        except IntegrityError:
            # the same event ids raced in from another request: the second pass sees them as duplicates
            unit_of_work().rollback()
            if attempt == 2:
                raise
    payload = {
        "conversation_id": g.conversation_id,
        "accepted": report.count("accepted"),
        "duplicate": report.count("duplicate"),
        "rejected": report.count("rejected"),
        "results": [{"event_id": r.event_id, "status": r.status, "journey_id": r.journey_id, "reason": r.reason,
                     "message": r.message} for r in report.results],
        "alerts": [_alert_summary(a) for a in report.alerts],
    }
    return respond("ELockEventReceipt", payload, 200)


def _choice(name: str, allowed: list[str]) -> str | None:
    raw = request.args.get(name)
    if raw is not None and raw not in allowed:
        raise Rejection("INVALID_PARAMETER", f"{name} must be one of {', '.join(allowed)}",
                        [Problem(message=f"got {raw[:40]!r}", path=name, rule="enumeration")])
    return raw


def _visible(caller: Caller, journey: Journey) -> None:
    """A trader sees only its own declarations' journeys; others answer as missing ones do."""
    if caller.is_customs:
        return
    owner = db().scalar(select(models.Declaration.declarant_party_id).where(
        models.Declaration.id == journey.declaration_id))
    if caller.role != "trader" or owner != caller.party_id:
        raise Rejection("NOT_FOUND", f"no journey {journey.id}")


def _journey_summary(journey: Journey) -> dict[str, Any]:
    return {
        "journey_id": journey.id, "declaration_id": journey.declaration_id, "elock_id": journey.elock_id,
        "vehicle_mark": journey.vehicle_mark, "container_id": journey.container_id, "route": journey.route_code,
        "origin": journey.origin, "control_point": journey.control_point, "destination": journey.destination,
        "state": journey.state, "sealed_by": journey.sealed_by,
        "sealed_datetime": iso(journey.sealed_at) if journey.sealed_at else None,
        "arrived_datetime": iso(journey.arrived_at) if journey.arrived_at else None,
        "unsealed_datetime": iso(journey.unsealed_at) if journey.unsealed_at else None,
        "last_event_datetime": iso(journey.last_event_at) if journey.last_event_at else None,
        "alert_count": journey.alert_count, "updated_datetime": iso(journey.updated_at),
    }


def alert_payload(alert: JourneyAlert) -> dict[str, Any]:
    return {"alert_id": alert.id, "journey_id": alert.journey_id, "declaration_id": alert.declaration_id,
            "kind": alert.kind, "occurred_datetime": iso(alert.occurred_at), "raised_datetime": iso(alert.raised_at),
            "message": alert.message, "evidence": alert.evidence}


@bp.get("/journeys")
def list_journeys() -> Response:
    caller = authenticated_caller()
    _require(caller, ("admin", "partner", "trader"), "list journeys")
    state = _choice("state", [s.value for s in JourneyState])
    alert = _choice("alert", ["any", "none", *[k.value for k in AlertKind]])
    page = params.query_int("page", 1, 100_000)
    per_page = params.query_int("per_page", services().settings.page_size, 200)
    declaration_id = request.args.get("declaration_id")
    if declaration_id is not None and not is_valid_declaration_reference(declaration_id):
        raise Rejection("INVALID_PARAMETER", "declaration_id must be a declaration reference",
                        [Problem(message=f"got {declaration_id[:40]!r}", path="declaration_id",
                                 rule="reference-check-character")])
    if caller.is_customs:
        result = service.list_journeys(db(), state, alert, declaration_id, page, per_page)
    else:
        result = service.list_journeys(db(), state, alert, declaration_id, page, per_page, party_id=caller.party_id)
    return _json({"conversation_id": g.conversation_id, "page": result.page, "per_page": result.per_page,
                  "total": result.total, "journeys": [_journey_summary(j) for j in result.items]})


@bp.get("/journeys/<journey_id>")
def get_journey(journey_id: str) -> Response:
    caller = authenticated_caller()
    _require(caller, ("admin", "partner", "trader"), "read journeys")
    journey = service.get_journey(db(), journey_id)
    _visible(caller, journey)
    network = services().reference.network
    route = network.routes.get(journey.route_code)
    readings = service.track(db(), journey)
    features: list[dict[str, Any]] = [{
        "type": "Feature", "geometry": {"type": "LineString", "coordinates": [
            [r.longitude, r.latitude] for r in readings if r.kind == "position" or r.kind in ("seal", "unseal")]},
        "properties": {"role": "track"}}]
    features.extend({
        "type": "Feature", "geometry": {"type": "Point", "coordinates": [r.longitude, r.latitude]},
        "properties": {"role": "event", "event_id": r.event_id, "type": r.kind, "occurred_datetime": iso(r.occurred_at),
                       "inside_corridor": r.inside_corridor, "clearance_point": r.point}}
        for r in readings)
    if route is not None:
        features.append({"type": "Feature", "geometry": route.corridor_geojson(),
                         "properties": {"role": "corridor", "route": route.code, "buffer_metres": route.buffer_m}})
    payload = {
        "conversation_id": g.conversation_id,
        **_journey_summary(journey),
        "timeline": [{"kind": e.kind, "state_from": e.state_from, "state_to": e.state_to,
                      "occurred_datetime": iso(e.occurred_at), "source": e.source, "actor": e.actor,
                      "event_id": e.telemetry_event_id, "note": e.note} for e in journey.timeline],
        "alerts": [alert_payload(a) for a in journey.alerts],
        "track": {"type": "FeatureCollection", "features": features},
    }
    return _json(payload)


@bp.get("/elock/alerts")
def list_alerts() -> Response:
    caller = authenticated_caller()
    _require(caller, tuple(sorted(CUSTOMS_ROLES)), "list e-lock alerts")
    kind = _choice("kind", [k.value for k in AlertKind])
    page = params.query_int("page", 1, 100_000)
    per_page = params.query_int("per_page", services().settings.page_size, 200)
    items, total = service.list_alerts(db(), kind, page, per_page)
    return _json({"conversation_id": g.conversation_id, "page": page, "per_page": per_page, "total": total,
                  "alerts": [alert_payload(a) for a in items]})


# --- registration (admin) -----------------------------------------------------------------

def _text(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str):
        raise Rejection("INVALID_PARAMETER", f"{key} is required (a string)",
                        [Problem(message=f"{key} is required", path=key, rule="required")])
    return value


def _note(body: dict[str, Any]) -> str | None:
    value = body.get("note")
    if value is not None and not isinstance(value, str):
        raise Rejection("INVALID_PARAMETER", "note must be a string",
                        [Problem(message="note must be a string", path="note", rule="type")])
    return value


def _admin_change(work: Any, status: int = 201) -> Response:
    """Run ``work(body, actor)`` for an admin client and commit: the change and its registry
    event in one transaction."""
    caller = authenticated_caller()
    _require(caller, ("admin",), "register e-lock scheme participants")
    body = params.json_object()
    uow = unit_of_work().write_lock()
    payload = work(body, caller.actor)
    uow.commit()
    return _json({"conversation_id": g.conversation_id, **payload}, status)


@bp.post("/elock/companies")
def register_company() -> Response:
    def work(body: dict[str, Any], actor: str) -> dict[str, Any]:
        company = service.register_company(db(), _text(body, "br_number"), _text(body, "name"), _text(body, "mode"),
                                           utcnow(), actor=actor, note=_note(body))
        return {"br_number": company.br_number, "name": company.name, "mode": company.mode}
    return _admin_change(work)


@bp.post("/elock/vehicles")
def register_vehicle() -> Response:
    def work(body: dict[str, Any], actor: str) -> dict[str, Any]:
        vehicle = service.register_vehicle(db(), _text(body, "registration_mark"), _text(body, "company"), utcnow(),
                                           actor=actor, note=_note(body))
        return {"registration_mark": vehicle.registration_mark, "company": vehicle.company.br_number}
    return _admin_change(work)


def _lock_payload(lock: ELock) -> dict[str, Any]:
    return {"elock_id": lock.elock_id, "supplier": lock.supplier, "status": lock.status,
            "journey_id": lock.journey_id}


@bp.post("/elock/elocks")
def register_elock() -> Response:
    def work(body: dict[str, Any], actor: str) -> dict[str, Any]:
        return _lock_payload(service.register_elock(db(), _text(body, "elock_id"), _text(body, "supplier"), utcnow(),
                                                    services().reference.network, actor=actor, note=_note(body)))
    return _admin_change(work)


@bp.post("/elock/elocks/<elock_id>/status")
def change_elock_status(elock_id: str) -> Response:
    def work(body: dict[str, Any], actor: str) -> dict[str, Any]:
        return _lock_payload(service.set_elock_status(db(), elock_id, _text(body, "status"), utcnow(), actor=actor,
                                                      note=_note(body)))
    return _admin_change(work, 200)
