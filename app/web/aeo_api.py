"""The AEO registry API: ``/api/v1/aeo`` (JSON in, XML or JSON out).

- ``GET /api/v1/aeo/operators/<operator_id>``: any authenticated client (trader, partner
  customs system, admin) reads an operator's status, tier, validity, whether it is
  recognised today and whether its renewal is due; only an admin also gets the history.
- ``POST /api/v1/aeo/operators/<operator_id>/status``: admin clients only; body
  ``{"action": "suspend|reinstate|revoke|withdraw|renew", "reason": "..."}``.

Both answer with an ``AeoOperator`` document (``app.web.envelope.respond``).
"""
from __future__ import annotations

import json
from datetime import date
from typing import Any

from flask import Blueprint, Response, g, request

from app.aeo import service
from app.reference.mra import MraPartners
from app.aeo.registry import RegistryError, renewal_due_from
from app.db import models
from app.domain.problems import Problem, Rejection
from app.domain.time import hong_kong_date
from app.platform.clock import utcnow
from app.web.api import authenticated_caller
from app.web.body import request_body
from app.web.context import db, services, unit_of_work
from app.platform.uow import after_commit
from app.web.envelope import respond

bp = Blueprint("aeo_api", __name__, url_prefix="/api/v1/aeo")

ADMIN = "admin"

# Registry refusals as API error codes: a change the registration's state does not allow
# (TRANSITION_NOT_ALLOWED, VALIDITY_ENDED, RENEWAL_NOT_DUE) is a 409, as is re-admission
# within the 2-year bar; the registry's own code is always in the error's ``rule``.
REFUSED = "AEO_TRANSITION_NOT_ALLOWED"
_API_CODES = {
    "NOT_FOUND": "NOT_FOUND",
    "UNKNOWN_ACTION": "INVALID_PARAMETER",
    "REASON_REQUIRED": "REASON_REQUIRED",
    "READMISSION_BARRED": "AEO_READMISSION_BARRED",
}
_PATHS = {"UNKNOWN_ACTION": "action", "REASON_REQUIRED": "reason", "NOT_FOUND": "operator_id"}


def _today() -> date:
    return hong_kong_date(utcnow())


def _mra() -> MraPartners:
    """The MRA partners of the rule set loaded at start-up."""
    return services().rule_set.mra


def _rejection(error: RegistryError) -> Rejection:
    return Rejection(_API_CODES.get(error.code, REFUSED), error.message,
                     [Problem(message=error.message, path=_PATHS.get(error.code, "action"), rule=error.code)])


def _not_found(operator_id: str) -> Rejection:
    return Rejection("NOT_FOUND", f"no AEO operator {operator_id[:40]} in the registry")


def operator_payload(operator: models.AeoOperator, today: date, mra: MraPartners,
                     with_history: bool) -> dict[str, Any]:
    """An operator as the API shows it (XML root ``AeoOperator``)."""
    standing = service.standing_of(operator, today, mra)
    partner = mra.get(operator.country) if operator.country != "HK" else None
    payload: dict[str, Any] = {
        "conversation_id": g.conversation_id,
        "operator_id": operator.operator_id,
        "country": operator.country,
        "name": operator.name,
        "tier": operator.tier,
        "status": operator.status,
        "valid_from": operator.valid_from.isoformat(),
        "valid_until": operator.valid_until.isoformat(),
        "revoked_on": operator.revoked_on.isoformat() if operator.revoked_on else None,
        "recognised": standing.recognised,
        "reason": standing.reason or None,
        "renewal_due": standing.renewal_due,
        "renewal_due_from": renewal_due_from(operator.valid_until).isoformat(),
        "mra_programme": partner.programme if partner is not None else None,
        "as_of": today.isoformat(),
        "updated_datetime": operator.updated_at,
        "history": None,
    }
    if with_history:
        payload["history"] = [
            {
                "status_from": event.status_from,
                "status_to": event.status_to,
                "reason": event.reason,
                "actor": event.actor,
                "occurred_datetime": event.occurred_at,
            }
            for event in operator.history
        ]
    return payload


@bp.get("/operators/<operator_id>")
def get_operator(operator_id: str) -> Response:
    caller = authenticated_caller()
    operator = service.lookup(db(), operator_id)
    if operator is None:
        raise _not_found(operator_id)
    return respond("AeoOperator", operator_payload(operator, _today(), _mra(), caller.role == ADMIN))


def _json_body() -> dict[str, Any]:
    if request.mimetype != "application/json":
        raise Rejection(
            "UNSUPPORTED_MEDIA_TYPE",
            f"send the status change as Content-Type: application/json (got {request.mimetype or 'none'})",
        )
    try:
        body = json.loads(request_body() or b"null")
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise Rejection("INVALID_PARAMETER", "the body is not a JSON object",
                        [Problem(message='expected {"action": "...", "reason": "..."}', path="$", rule="json")])
    return body


@bp.post("/operators/<operator_id>/status")
def change_status(operator_id: str) -> Response:
    caller = authenticated_caller()
    if caller.role != ADMIN:
        raise Rejection("FORBIDDEN", "only an admin client may change an AEO registration")
    body = _json_body()
    action = body.get("action")
    if not isinstance(action, str):
        raise _rejection(RegistryError("UNKNOWN_ACTION", f"action must be one of {', '.join(service.ACTIONS)}"))
    today = _today()
    uow = unit_of_work().write_lock()
    try:
        service.change_status(uow.session, operator_id, action.strip().lower(), body.get("reason"),
                              caller.actor, today)
    except RegistryError as error:
        uow.rollback()
        raise _rejection(error) from None
    after_commit(uow.session, services().aeo_standings.clear)  # this worker sees the change at once
    uow.commit()
    operator = service.lookup(db(), operator_id)
    if operator is None:  # deleted in between: not possible through this service
        raise _not_found(operator_id)
    return respond("AeoOperator", operator_payload(operator, today, _mra(), with_history=True))
