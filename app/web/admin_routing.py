"""The administrators' page for routing: subscribers, their health, backlog and dead letters,
with pause / resume / replay. Guarded by ``role_required("admin")`` (officers' accounts);
each change is recorded on the subscriber's history as ``officer:<username>``."""
from __future__ import annotations

from flask import Blueprint, Flask, flash, g, redirect, render_template, request, session, url_for
from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice as Choice
from wtforms.validators import DataRequired, Length, Optional
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from app.domain.problems import Rejection
from app.routing import subscribers as service
from app.web.auth import role_required
from app.web.context import db, unit_of_work
from app.web.form_text import TranslatedForm
from app.web.plain import page_error_message

bp = Blueprint("admin_routing", __name__, url_prefix="/admin/routing")


class SubscriberForm(TranslatedForm):
    """A new receiver of routed messages."""
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=60)])
    role = SelectField(_l("Receives as"), choices=[
        Choice("control_point", _l("control point")), Choice("terminal", _l("terminal")),
        Choice("partner_customs", _l("partner customs")), Choice("party", _l("company"))])
    code = StringField(_l("Control point or boundary (not for a company)"), validators=[Optional(), Length(max=40)])
    party = StringField(_l("Company's BR number (company or pull queue)"), validators=[Optional(), Length(max=35)])
    transport = SelectField(_l("Delivered by"), choices=[
        Choice("webhook", _l("web hook")), Choice("amqp", _l("message queue (AMQP)")),
        Choice("pull", _l("pull queue"))])
    url = StringField(_l("Address (web hook or AMQP URL)"), validators=[Optional(), Length(max=500)])
    format = SelectField(_l("Format"), choices=[Choice("xml", "XML"), Choice("json", "JSON")])
    note = StringField(_l("Why (kept on its history)"), validators=[Optional(), Length(max=500)])


_FIELD_PROBLEMS = {
    "role": _l("Receives as: choose one of the list."), "transport": _l("Delivered by: choose one of the list."),
    "format": _l("Format: choose XML or JSON."),
    "url": _l("Address: a web hook needs an http:// or https:// address; an AMQP URL starts with amqp://."),
    "code": _l("Control point or boundary: a control point, terminal or partner customs receives for a code, "
               "e.g. HKLMC or shenzhen."),
    "party": _l("Company's BR number: no company with this number is known (a company and a pull queue "
                "belong to one)."),
    "name": _l("Name: a subscriber of this name exists; choose another."),
}


@bp.route("/subscribers", methods=["GET", "POST"])
@role_required("admin")
def subscribers() -> str | Response | tuple[str, int]:
    """Subscribers and their delivery, and a new one (post/redirect/get: its signing secret is
    shown once, on the page the creation redirects to)."""
    form = SubscriberForm()
    status = 200
    if request.method == "POST":
        problems: list[str] = []
        if form.validate():
            try:
                uow = unit_of_work().write_lock()
                added = service.add_subscriber(
                    uow.session, (form.name.data or "").strip(), form.role.data or "", form.transport.data or "",
                    (form.url.data or "").strip() or None, (form.code.data or "").strip() or None,
                    (form.party.data or "").strip() or None, form.format.data or "xml",
                    actor=f"officer:{current_user.username}", note=form.note.data or None)
                uow.commit()
            except Rejection as rejection:
                unit_of_work().rollback()
                problems = [str(_FIELD_PROBLEMS.get(p.path or "", p.message)) for p in rejection.problems]
            else:
                session["new_subscriber_secret"] = {"name": added.name, "secret": added.secret}
                flash(_("Subscriber %(name)s added.", name=added.name))
                return redirect(url_for("admin_routing.subscribers", _anchor="new-secret"))
        else:
            problems = [_("%(label)s: %(message)s", label=getattr(form, field).label.text, message=" ".join(
                str(m) for m in messages)) for field, messages in form.errors.items()]
        form.name.errors = problems
        status = 422
    created = session.pop("new_subscriber_secret", None) if request.method == "GET" else None
    return render_template("admin/subscribers.html", items=service.health(db()),
                           dead=service.dead_letters(db(), limit=50), form=form, created=created), status


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
