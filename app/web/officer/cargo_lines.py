"""``/officer/cargo-lines/<kind>/<id>``: one cargo line's write-off for officers (linked from a
write-off case): what was lodged, every declaration counted against it, findings and history."""
from __future__ import annotations

from flask import abort, render_template
from flask_babel import gettext as _

from app.db import models
from app.domain.writeoff import LINE_KINDS
from app.web.auth import role_required
from app.web.context import db
from app.web.officer.views import EVERYONE, bp
from app.writeoff import queries as write_off


@bp.get("/cargo-lines/<kind>/<identifier>")
@role_required(*EVERYONE)
def cargo_line(kind: str, identifier: str) -> str:
    kind, identifier = kind.strip().upper()[:4], identifier.strip()[:40]
    line = write_off.any_line(db(), kind, identifier) if kind in LINE_KINDS else None
    if line is None:
        abort(404, description=_("No cargo line %(kind)s %(id)s", kind=kind, id=identifier))
    return render_template("officer/cargo_line.html", line=line, covers=write_off.covers(db(), line),
                           history=write_off.history(db(), line),
                           party=db().get(models.Party, line.responsible_party_id))
