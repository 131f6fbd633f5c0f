"""``/api/v1/cargo``: advance cargo information for road cargo, lodged by shippers, forwarders
and carriers (XML in ``urn:csw:cargo:v1``; answers XML in ``urn:csw:response:v1`` or JSON).
Thin: parse, call the cargo service, commit, render."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, g, url_for

from app.cargo import service
from app.db.cargo_models import CargoRecord
from app.domain.actors import Caller
from app.domain.problems import Rejection
from app.intake.service import require_text_reason
from app.web import params
from app.web.api import authenticated_caller, finding_payload, xml_body
from app.web.context import db, services, unit_of_work
from app.web.envelope import respond

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


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
