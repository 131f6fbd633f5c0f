"""``/api/v1/manifests``: sea and air cargo manifests, lodged by carriers (XML in
``urn:csw:manifest:v1``; answers XML in ``urn:csw:response:v1`` or JSON). Thin: parse, call the
manifest service, commit, render."""
from __future__ import annotations

from datetime import timezone
from typing import Any

from flask import Blueprint, Flask, Response, g, url_for

from app.cargo import manifests as service
from app.db.manifest_models import ManifestLine, ManifestRecord
from app.domain.actors import Caller
from app.domain.problems import Rejection
from app.intake.service import require_text_reason
from app.platform.clock import utcnow
from app.web import params
from app.web.api import authenticated_caller, finding_payload, xml_body
from app.web.context import db, services, unit_of_work
from app.web.envelope import respond

bp = Blueprint("manifests_api", __name__, url_prefix="/api/v1")


def _carrier() -> Caller:
    caller = authenticated_caller()
    if caller.role != "carrier":
        raise Rejection("FORBIDDEN", "manifests are lodged by carrier clients")
    return caller


def summary(record: ManifestRecord) -> dict[str, Any]:
    return {"manifest_reference": record.id, "lrn": record.lrn, "status": record.status, "version": record.version,
            "decision": record.decision, "mode_code": record.mode, "type_code": record.direction,
            "control_point_id": record.control_point, "conveyance": record.conveyance,
            "scheduled_datetime": record.scheduled_at, "movement_datetime": record.moved_at,
            "updated_datetime": record.updated_at}


def _line(line: ManifestLine) -> dict[str, Any]:
    return {"document_type_code": line.document_kind, "document_id": line.document_number,
            "transhipment": line.transhipment, "sequence_numeric": line.sequence,
            "package_quantity": line.package_count, "package_type_code": line.package_type, "marks": line.marks,
            "goods_description": line.goods_description, "gross_mass_kg": f"{line.gross_mass_kg:f}",
            "consignor_name": str(line.consignor["name"]), "consignee_name": str(line.consignee["name"]),
            "containers": [{"id": str(box["id"]), "seals": [str(seal) for seal in box["seals"]]}  # type: ignore[attr-defined]
                           for box in line.equipment],
            "lane": line.lane, "status": line.status}


def _acknowledgement(outcome: service.Outcome) -> Response:
    record = outcome.record
    payload = {"conversation_id": g.conversation_id, **summary(record), "replay": outcome.replay,
               "findings": [finding_payload(f) for f in outcome.findings],
               "consignments": [_line(line) for line in service.lines(db(), record)]}
    return respond("ManifestAcknowledgement", payload, 202,
                   {"Location": url_for("manifests_api.get_manifest", reference=record.id)})


def _status(record: ManifestRecord) -> dict[str, Any]:
    return {
        "conversation_id": g.conversation_id, **summary(record),
        "loading_location_id": record.loading_location, "unloading_location_id": record.unloading_location,
        "findings": record.findings, "consignments": [_line(line) for line in service.lines(db(), record)],
        "history": [{"kind": e.kind, "version": e.version, "status": e.status_to, "decision": e.decision,
                     "actor": e.actor, "datetime": e.occurred_at, "note": e.note}
                    for e in service.history(db(), record)],
    }


@bp.post("/manifests")
def lodge_manifest() -> Response:
    """A new manifest (FunctionCode 9): 202 with its reference, each consignment's lane and the
    decision."""
    caller = _carrier()
    uow = unit_of_work()
    outcome = service.lodge(uow, services().manifests, xml_body(), caller, g.conversation_id)
    uow.commit()
    return _acknowledgement(outcome)


@bp.post("/manifests/<reference>/amendments")
def amend_manifest(reference: str) -> Response:
    """A full replacement (FunctionCode 13, same LRN) until the conveyance arrives or departs."""
    caller = _carrier()
    uow = unit_of_work()
    outcome = service.amend(uow, services().manifests, reference, xml_body(), caller, g.conversation_id)
    uow.commit()
    return _acknowledgement(outcome)


@bp.post("/manifests/<reference>/cancellation")
def cancel_manifest(reference: str) -> Response:
    """Withdraw the manifest, with a reason: JSON ``{"reason": "..."}``."""
    caller = _carrier()
    reason = require_text_reason(params.json_object().get("reason"))
    uow = unit_of_work().write_lock()
    record = service.cancel(uow.session, reference, reason, caller, g.conversation_id)
    payload = _status(record)
    uow.commit()
    return respond("ManifestStatus", payload)


@bp.post("/manifests/<reference>/movement")
def record_movement(reference: str) -> Response:
    """The conveyance's actual arrival (IM) or departure (EX): JSON ``{"datetime": "..."}``
    (now when left out)."""
    caller = _carrier()
    body = params.json_object()
    raw = body.get("datetime")
    moved_at = params.moment(raw, "datetime").astimezone(timezone.utc) if raw is not None else utcnow()
    uow = unit_of_work().write_lock()
    record = service.record_movement(uow.session, reference, moved_at, caller, g.conversation_id)
    payload = _status(record)
    uow.commit()
    return respond("ManifestStatus", payload)


@bp.get("/manifests/<reference>")
def get_manifest(reference: str) -> Response:
    caller = _carrier()
    return respond("ManifestStatus", _status(service.own_manifest(db(), reference, caller.party_id)))


@bp.get("/manifests")
def list_manifests() -> Response:
    caller = _carrier()
    page = params.query_int("page", 1, 1_000_000)
    per_page = params.query_int("per_page", 50, 200)
    total, rows = service.listing(db(), caller.party_id, page, per_page)
    return respond("ManifestList", {"conversation_id": g.conversation_id, "page": page, "per_page": per_page,
                                    "total": total, "manifests": [summary(r) for r in rows]})


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
