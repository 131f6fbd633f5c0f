"""``/trader/manifests``: a carrier's (or its agent's) own sea and air manifests in the portal,
as lodged through the API: the list, and one manifest with each consignment's clearance.
Another party's manifest is not found, exactly like a missing one."""
from __future__ import annotations

from flask import render_template

from app.cargo import manifests as service
from app.web import params
from app.web.context import db, services
from app.web.portal import _found, bp, caller, trader_required


@bp.get("/manifests")
@trader_required
def manifests() -> str:
    page = params.query_int("page", 1, 100_000)
    per_page = services().settings.page_size
    total, rows = service.listing(db(), caller().party_id, page, per_page)
    return render_template("portal/manifests.html", rows=rows, page=page, has_next=page * per_page < total)


@bp.get("/manifests/<reference>")
@trader_required
def manifest(reference: str) -> str:
    record = _found(lambda: service.own_manifest(db(), reference.strip().upper()[:16], caller().party_id))
    return render_template("portal/manifest.html", manifest=record, lines=service.lines(db(), record),
                           history=service.history(db(), record))
