"""Officers' manifest pages: every sea and air manifest (those with cargo selected for a check
first to hand), one manifest with each consignment's lane and clearance, and the release of a
selected consignment once checked."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from app.cargo import manifests as service
from app.cases import queries as case_queries
from app.db import models
from app.db.manifest_models import ManifestRecord
from app.domain.actors import Caller
from app.domain.manifests import is_valid_manifest_reference
from app.domain.problems import Rejection
from app.web import params
from app.web.auth import role_required
from app.web.context import db, services, unit_of_work
from app.web.officer.forms import ReleaseLineForm
from app.web.kept import keep, kept, see_other
from app.web.officer.views import CASE_WORKERS, EVERYONE, bp

DECISIONS = ("inspection", "cleared")


@bp.get("/manifests")
@role_required(*EVERYONE)
def manifests() -> str:
    decision = request.args.get("decision", "").strip().lower()
    decision = decision if decision in DECISIONS else ""
    page = params.query_int("page", 1, 10_000, beyond="NOT_FOUND")
    per_page = services().settings.page_size
    total, rows = service.listing(db(), None, page, per_page, any_party=True, decision=decision or None)
    parties = {party.id: party for party in db().query(models.Party).filter(
        models.Party.id.in_({row.submitter_party_id for row in rows}))} if rows else {}
    return render_template("officer/manifests.html", rows=rows, parties=parties, decision=decision,
                           decisions=DECISIONS, page=page, has_next=page * per_page < total, total=total)


def _record(reference: str) -> ManifestRecord:
    reference = reference.strip().upper()[:16]
    if not is_valid_manifest_reference(reference):
        abort(404, description=_("No manifest %(id)s", id=reference))
    try:
        return service.any_manifest(db(), reference)
    except Rejection:
        abort(404, description=_("No manifest %(id)s", id=reference))


def _page(reference: str, status: int = 200) -> tuple[str, int]:
    record = _record(reference)
    lines = service.lines(db(), record)
    references = {line.id: service.line_reference(record.id, line.document_number, line.sequence) for line in lines}
    open_cases = case_queries.active_cargo_cases(db(), sorted(references.values()))
    return render_template(
        "officer/manifest.html", manifest=record, carrier=db().get(models.Party, record.submitter_party_id),
        lines=lines, history=service.history(db(), record),
        cases={line_id: open_cases[ref] for line_id, ref in references.items() if ref in open_cases},
        release_form=ReleaseLineForm(), can_release=current_user.role in CASE_WORKERS), status


@bp.get("/manifests/<reference>")
@role_required(*EVERYONE)
def manifest(reference: str) -> tuple[str, int]:
    """The manifest; after a refused release (post/redirect/get), with the refusal's status."""
    found = kept(f"manifest:{reference.strip().upper()[:16]}")
    return _page(reference, status=int(found["status"]) if found else 200)


@bp.post("/manifests/<reference>/lines/<id:consignment_id>/release")
@role_required(*CASE_WORKERS)
def release_line(reference: str, consignment_id: int) -> Response:
    """The consignment was checked and may go: once none is left selected, the manifest is
    cleared and routed again."""
    form = ReleaseLineForm()
    uow = unit_of_work().write_lock()  # the gate before any read, like every officers' change
    reference = _record(reference).id
    page = url_for("officer.manifest", reference=reference)
    if not form.validate():
        uow.rollback()
        flash(_("Say what the check found before releasing the consignment."), "error")
        keep(f"manifest:{reference}", 422)
        return see_other(page)
    officer = Caller(f"officer:{current_user.username}", role=current_user.role)
    try:
        service.release_line(uow.session, reference, consignment_id, form.note.data or "", officer)
    except Rejection as rejection:
        uow.rollback()
        if rejection.code == "NOT_FOUND":
            abort(404, description=_("No such consignment on this manifest"))
        flash(_("This consignment is not selected: there is nothing to release."), "error")
        keep(f"manifest:{reference}", 409)
        return see_other(page)
    uow.commit()
    flash(_("Consignment released."))
    return redirect(url_for("officer.manifest", reference=reference))
