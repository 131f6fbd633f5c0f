"""``/trader/cargo``: a trader's or carrier's own road cargo in the portal, as lodged through the
API: the list, and one cargo reference with its lane, the trip it is bundled to, the crossing
and its write-off (only the party's own declarations covering it are shown). Another party's
cargo is not found, exactly like a missing one."""
from __future__ import annotations

from flask import render_template

from app.cargo import service
from app.trips import service as trips
from app.web import params
from app.web.context import db, services
from app.web.portal import _found, bp, caller, trader_required
from app.writeoff import queries as write_off


@bp.get("/cargo")
@trader_required
def cargo_list() -> str:
    page = params.query_int("page", 1, 100_000)
    per_page = services().settings.page_size
    total, rows = service.listing(db(), caller().party_id, page, per_page)
    references = [row.id for row in rows]
    return render_template("portal/cargo_list.html", rows=rows, page=page, has_next=page * per_page < total,
                           trips=trips.trips_of_cargo(db(), references),
                           lines=write_off.lines_named(db(), service.LINE_KIND, references))


@bp.get("/cargo/<reference>")
@trader_required
def cargo(reference: str) -> str:
    record = _found(lambda: service.own_record(db(), reference.strip().upper()[:16], caller().party_id))
    line = write_off.lines_named(db(), service.LINE_KIND, [record.id]).get(record.id)
    own_line = line is not None and line.responsible_party_id == caller().party_id
    trip = trips.trips_of_cargo(db(), [record.id]).get(record.id)
    return render_template("portal/cargo.html", cargo=record, trip=trip,
                           line=line if own_line else None,
                           covers=write_off.own_covers(db(), line, caller().party_id) if line and own_line else [],
                           history=service.history(db(), record))
