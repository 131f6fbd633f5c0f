"""The administrators' page for routing: subscribers, their health, backlog and dead letters,
with pause / resume / replay. Guarded by ``role_required("admin")`` (officers' accounts);
each change is recorded on the subscriber's history as ``officer:<username>``."""
from __future__ import annotations

from flask import Blueprint, Flask, flash, g, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from app.routing import subscribers as service
from app.web.auth import role_required
from app.web.context import db, unit_of_work
from app.web.plain import page_error_message

bp = Blueprint("admin_routing", __name__, url_prefix="/admin/routing")


@bp.get("/subscribers")
@role_required("admin")
def subscribers() -> str:
    return render_template("admin/subscribers.html", items=service.health(db()),
                           dead=service.dead_letters(db(), limit=50))


@bp.post("/subscribers/<id:subscriber_id>/<any(pause, resume, replay):action>")
@role_required("admin")
def change(subscriber_id: int, action: str) -> Response:
    """Pause, resume, or queue the subscriber's dead letters again."""
    name = str(subscriber_id)
    actor = f"officer:{current_user.username}"
    if action == "pause":
        message = _("Paused %(name)s.", name=service.pause(db(), name, actor=actor).name)
    elif action == "resume":
        message = _("Resumed %(name)s.", name=service.resume(db(), name, actor=actor).name)
    else:
        message = _("%(count)s dead letters queued again.", count=service.replay(db(), name, actor=actor))
    unit_of_work().commit()
    flash(message)
    return redirect(url_for("admin_routing.subscribers"))


@bp.errorhandler(403)
def forbidden(exc: HTTPException) -> tuple[str, int]:
    """A signed-in user without the admin role: 403, as a page (the API's error envelope is for /api/)."""
    return render_template("officer/error.html", code="FORBIDDEN", message=None, plain=page_error_message(403),
                           conversation_id=g.get("conversation_id")), 403


def install(app: Flask) -> None:
    app.register_blueprint(bp)
