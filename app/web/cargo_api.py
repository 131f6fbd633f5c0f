"""``/api/v1/cargo``: advance cargo information for road cargo, lodged by shippers, forwarders
and carriers (XML in ``urn:csw:cargo:v1``; answers XML in ``urn:csw:response:v1`` or JSON).
Thin: parse, call the cargo service, commit, render."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, g, url_for

from app.cargo import service
from app.db.cargo_models import CargoRecord
from app.db.writeoff_models import CargoLine
from app.domain.actors import Caller
from app.domain.problems import Problem, Rejection
from app.intake.service import require_text_reason
from app.web import params
from app.web.api import authenticated_caller, finding_payload, xml_body
from app.web.context import db, services, unit_of_work
from app.web.envelope import respond
from app.writeoff import queries as write_off

bp = Blueprint("cargo_api", __name__, url_prefix="/api/v1")

#: Who lodges cargo information: traders (shippers, forwarders) and carriers.
LODGERS = frozenset({"trader", "carrier"})


def _lodger() -> Caller:
    caller = authenticated_caller()
    if caller.role not in LODGERS:
        raise Rejection("FORBIDDEN", "cargo information is lodged by trader and carrier clients")
    return caller


def _summary(record: CargoRecord) -> dict[str, Any]:
    return {"cargo_reference": record.id, "lrn": record.lrn, "status": record.status, "version": record.version,
            "lane": record.lane, "control_point_id": record.control_point,
            "expected_crossing_datetime": record.expected_crossing_at, "updated_datetime": record.updated_at}


def _acknowledgement(outcome: service.Outcome, status: int) -> Response:
    record = outcome.record
    payload = {"conversation_id": g.conversation_id, **_summary(record), "replay": outcome.replay,
               "findings": [finding_payload(f) for f in outcome.findings]}
    return respond("CargoAcknowledgement", payload, status,
                   {"Location": url_for("cargo_api.get_cargo", reference=record.id)})


@bp.post("/cargo")
def lodge_cargo() -> Response:
    """New cargo information (FunctionCode 9): 202 with the cargo reference and its lane."""
    caller = _lodger()
    uow = unit_of_work()
    outcome = service.lodge(uow, services().cargo, xml_body(), caller, g.conversation_id)
    uow.commit()
    return _acknowledgement(outcome, 202)


@bp.post("/cargo/<reference>/amendments")
def amend_cargo(reference: str) -> Response:
    """A full replacement (FunctionCode 13, same LRN) while the cargo is still lodged."""
    caller = _lodger()
    uow = unit_of_work()
    outcome = service.amend(uow, services().cargo, reference, xml_body(), caller, g.conversation_id)
    uow.commit()
    return _acknowledgement(outcome, 202)


@bp.post("/cargo/<reference>/cancellation")
def cancel_cargo(reference: str) -> Response:
    """Withdraw the cargo information, with a reason: JSON ``{"reason": "..."}``."""
    caller = _lodger()
    reason = require_text_reason(params.json_object().get("reason"))
    uow = unit_of_work().write_lock()
    record = service.cancel(uow.session, reference, reason, caller, g.conversation_id)
    payload = _status(record)
    uow.commit()
    return respond("CargoStatus", payload)


def _status(record: CargoRecord) -> dict[str, Any]:
    return {
        "conversation_id": g.conversation_id, **_summary(record), "direction": record.direction,
        "package_count": record.package_count, "package_type": record.package_type,
        "goods_description": record.goods_description,
        "gross_mass_kg": f"{record.gross_mass_kg:f}" if record.gross_mass_kg is not None else None,
        "commodity_code": record.hs_code, "origin_country_code": record.origin_country,
        "findings": record.findings,
        "history": [{"kind": e.kind, "version": e.version, "status": e.status_to, "lane": e.lane,
                     "actor": e.actor, "datetime": e.occurred_at, "note": e.note}
                    for e in service.history(db(), record)],
    }


@bp.get("/cargo/<reference>")
def get_cargo(reference: str) -> Response:
    caller = _lodger()
    return respond("CargoStatus", _status(service.own_record(db(), reference, caller.party_id)))


@bp.get("/cargo")
def list_cargo() -> Response:
    caller = _lodger()
    page = params.query_int("page", 1, 1_000_000)
    per_page = params.query_int("per_page", 50, 200)
    total, rows = service.listing(db(), caller.party_id, page, per_page)
    return respond("CargoList", {"conversation_id": g.conversation_id, "page": page, "per_page": per_page,
                                 "total": total, "cargo": [_summary(r) for r in rows]})


@bp.post("/cargo/<reference>/control-decisions")
def decide_cargo(reference: str) -> Response:
    """An officer's decision on cargo before it crosses (customs clients): JSON
    ``{"decision": "release" | "hold", "note": "..."}``; a bundled truck's kiosk decision follows."""
    caller = authenticated_caller()
    if caller.role != service.CUSTOMS_ADMIN:
        raise Rejection("FORBIDDEN", "officers' decisions on cargo are taken by Hong Kong customs")
    body = params.json_object()
    decision, note = body.get("decision"), body.get("note")
    if not isinstance(decision, str) or (note is not None and not isinstance(note, str)):
        raise Rejection("INVALID_PARAMETER", "decision is release or hold; note is text", [Problem(
            message="expected {\"decision\": \"release\"}", path="decision", rule="one-of")])
    uow = unit_of_work().write_lock()
    record = service.decide(uow.session, reference, decision, note, caller, g.conversation_id)
    payload = _status(record)
    uow.commit()
    return respond("CargoStatus", payload)


def _line_payload(line: CargoLine, customs: bool) -> dict[str, Any]:
    """A line's write-off. The declarations covering it are named to customs only: the party
    that lodged the cargo sees how much is declared, not who declared it."""
    session = db()
    covers = write_off.covers(session, line)
    return {
        "conversation_id": g.conversation_id, "line_type_code": line.kind, "line_id": line.identifier,
        "status": line.status, "exempt": line.exempt, "package_quantity": line.package_count,
        "gross_mass_kg": f"{line.gross_mass:f}", "declared_package_quantity": line.packages_declared,
        "declared_gross_mass_kg": f"{line.mass_declared:f}", "movement_datetime": line.moved_at,
        "followed_up_datetime": line.followed_up_at,
        "findings": [{"code": f["code"], "severity": f["severity"], "message": f["message"],
                      "message_zh": f["message_zh"]} for f in line.findings],
        "declarations": [{"declaration_id": c.declaration_id, "package_quantity": c.package_count,
                          "gross_mass_kg": f"{c.gross_mass:f}" if c.gross_mass is not None else None}
                         for c in covers] if customs else None,
        "history": [{"kind": e.kind, "status": e.status, "declaration_id": e.declaration_id if customs else None,
                     "actor": e.actor, "datetime": e.occurred_at, "note": e.note}
                    for e in write_off.history(session, line)],
    }


@bp.get("/cargo-lines/<line_type>/<line_id>")
def get_cargo_line(line_type: str, line_id: str) -> Response:
    """A cargo line's write-off (CRN, BL, AWB): to the party that lodged it and to customs;
    anyone else's is 404 like a missing one."""
    caller = authenticated_caller()
    line = write_off.line_for(db(), line_type[:4], line_id[:40], caller)
    return respond("CargoLine", _line_payload(line, caller.is_customs))


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
