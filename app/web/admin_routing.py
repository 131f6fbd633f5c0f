"""The administrators' page for routing: subscribers, their health, backlog and dead letters,
with pause / resume / replay. Guarded by ``role_required("admin")`` (officers' accounts);
each change is recorded on the subscriber's history as ``officer:<username>``."""
from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Flask, abort, flash, g, redirect, render_template, request, session, url_for
from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice as Choice
from wtforms.validators import DataRequired, Length, Optional
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from app.db.models import Party
from app.db.routing_models import Subscriber
from app.domain.problems import Rejection
from app.routing import subscribers as service
from app.web.auth import role_required
from app.web.context import db, unit_of_work
from app.web.form_text import TranslatedForm
from app.web.kept import keep_form, kept, restore_form, see_other
from app.web.plain import page_error_message

bp = Blueprint("admin_routing", __name__, url_prefix="/admin/routing")


class SubscriberSettingsForm(TranslatedForm):
    """Where and how a subscriber receives (adding one, or changing one)."""
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


class SubscriberForm(SubscriberSettingsForm):
    """A new receiver of routed messages."""
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=60)])


class RetireForm(TranslatedForm):
    note = StringField(_l("Why it is retired (kept on its history)"), validators=[DataRequired(), Length(max=500)])


_FIELD_PROBLEMS = {
    "role": _l("Receives as: choose one of the list."), "transport": _l("Delivered by: choose one of the list."),
    "format": _l("Format: choose XML or JSON."),
    "url": _l("Address: a web hook needs an http:// or https:// address; an AMQP URL starts with amqp://."),
    "code": _l("Control point or boundary: a control point, terminal or partner customs receives for a code, "
               "e.g. HKLMC or shenzhen."),
    "party": _l("Company's BR number: no company with this number is known (a company and a pull queue "
                "belong to one)."),
    "name": _l("Name: a subscriber of this name exists; choose another."),
    "note": _l("Why it is retired: say why, for its history."),
}


def _plain(rejection: Rejection) -> list[str]:
    """A refusal of the routing service, field by field in the administrator's language."""
    if rejection.code == "SUBSCRIBER_RETIRED":
        return [_("This subscriber is retired: it can no longer be changed, paused or resumed.")]
    if rejection.code == "CLIENT_CALLBACK":
        return [_("This is an API client's own callback: the client changes it through the API.")]
    return [str(_FIELD_PROBLEMS.get(p.path or "", p.message)) for p in rejection.problems]


def _form_problems(form: TranslatedForm) -> list[str]:
    return [_("%(label)s: %(message)s", label=getattr(form, field).label.text, message=" ".join(
        str(m) for m in messages)) for field, messages in form.errors.items()]


@bp.route("/subscribers", methods=["GET", "POST"])
@role_required("admin")
def subscribers() -> str | Response | tuple[str, int]:
    """Subscribers and their delivery, and a new one. Post/redirect/get: the signing secret of
    a new subscriber is shown once, on the page the creation redirects to; a refusal keeps what
    was typed and says what was wrong there (``app.web.kept``)."""
    form = SubscriberForm()
    if request.method == "POST":
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
                problems = _plain(rejection)
            else:
                session["new_subscriber_secret"] = {"name": added.name, "secret": added.secret}
                flash(_("Subscriber %(name)s added.", name=added.name))
                return redirect(url_for("admin_routing.subscribers", _anchor="new-secret"))
        else:
            problems = _form_problems(form)
        keep_form("admin_routing.subscribers", form, errors={"name": problems})
        return see_other(url_for("admin_routing.subscribers", _anchor="add-subscriber"))
    status = restore_form(form, kept("admin_routing.subscribers"))
    created = session.pop("new_subscriber_secret", None)
    return render_template("admin/subscribers.html", items=service.health(db()),
                           dead=service.dead_letters(db(), limit=50), form=form, created=created), status


@bp.post("/subscribers/<id:subscriber_id>/<any(pause, resume, replay):action>")
@role_required("admin")
def change(subscriber_id: int, action: str) -> Response:
    """Pause, resume, or queue the subscriber's dead letters again."""
    name = str(subscriber_id)
    actor = f"officer:{current_user.username}"
    uow = unit_of_work().write_lock()
    try:
        if action == "pause":
            message = _("Paused %(name)s.", name=service.pause(uow.session, name, actor=actor).name)
        elif action == "resume":
            message = _("Resumed %(name)s.", name=service.resume(uow.session, name, actor=actor).name)
        else:
            message = _("%(count)s dead letters queued again.", count=service.replay(uow.session, name, actor=actor))
    except Rejection as rejection:
        uow.rollback()
        if rejection.code == "NOT_FOUND":
            abort(404)
        for text in _plain(rejection):
            flash(text, "error")
        return see_other(url_for("admin_routing.subscribers"))
    uow.commit()
    flash(message)
    return redirect(url_for("admin_routing.subscribers"))


def _subscriber_or_404(subscriber_id: int) -> Subscriber:
    try:
        return service.find_subscriber(db(), str(subscriber_id))
    except Rejection:
        abort(404)


@bp.route("/subscribers/<id:subscriber_id>", methods=["GET", "POST"])
@role_required("admin")
def subscriber(subscriber_id: int) -> str | Response | tuple[str, int]:
    """One subscriber: its settings (changed here, post/redirect/get, audited as ``changed``),
    retiring it, and its history (who, when, what was and what is)."""
    found = _subscriber_or_404(subscriber_id)
    page = url_for("admin_routing.subscriber", subscriber_id=subscriber_id)
    form = SubscriberSettingsForm()
    if request.method == "POST":
        return _posted(form, lambda uow_session: service.change_subscriber(
            uow_session, str(subscriber_id), form.role.data or "", form.transport.data or "",
            (form.url.data or "").strip() or None, (form.code.data or "").strip() or None,
            (form.party.data or "").strip() or None, form.format.data or "xml",
            actor=f"officer:{current_user.username}", note=form.note.data or None),
            _("Subscriber %(name)s changed.", name=found.name), page, f"subscriber:{subscriber_id}", "role",
            "#change-subscriber")
    party = db().get(Party, found.party_id) if found.party_id is not None else None
    form = SubscriberSettingsForm(formdata=None, data={
        "role": found.role, "code": found.code or "", "party": party.identifier if party else "",
        "transport": found.transport, "url": found.url or "", "format": found.format, "note": ""})
    status = restore_form(form, kept(f"subscriber:{subscriber_id}"))
    retire_form = RetireForm(formdata=None)
    retire_status = restore_form(retire_form, kept(f"subscriber-retire:{subscriber_id}"))
    return render_template("admin/subscriber.html", subscriber=found, party=party, form=form,
                           retire_form=retire_form, history=service.history(db(), str(subscriber_id)),
                           editable=found.state != service.RETIRED and found.client_id is None,
                           ), max(status, retire_status)


@bp.post("/subscribers/<id:subscriber_id>/retire")
@role_required("admin")
def retire(subscriber_id: int) -> Response:
    """Retire a subscriber for good (its row and history stay), with a reason on its history."""
    found = _subscriber_or_404(subscriber_id)
    page = url_for("admin_routing.subscriber", subscriber_id=subscriber_id)
    form = RetireForm()
    return _posted(form, lambda uow_session: service.retire(
        uow_session, str(subscriber_id), actor=f"officer:{current_user.username}", note=form.note.data or None),
        _("Subscriber %(name)s retired: nothing more is routed to it.", name=found.name), page,
        f"subscriber-retire:{subscriber_id}", "note", "#retire-subscriber")


def _posted(form: TranslatedForm, change: Callable[[Session], object], done: str, page: str, kept_as: str,
            field: str, anchor: str) -> Response:
    """A subscriber's form posted (post/redirect/get): ``change`` made in one unit of work, then
    back to ``page`` with ``done`` said; or, refused, the form kept as ``kept_as`` with the
    problems at ``field``, back to its ``anchor`` on the page."""
    if form.validate():
        try:
            uow = unit_of_work().write_lock()
            change(uow.session)
            uow.commit()
        except Rejection as rejection:
            unit_of_work().rollback()
            problems = _plain(rejection)
        else:
            flash(done)
            return redirect(page)
    else:
        problems = _form_problems(form)
    keep_form(kept_as, form, errors={field: problems})
    return see_other(page + anchor)


@bp.errorhandler(403)
def forbidden(exc: HTTPException) -> tuple[str, int]:
    """A signed-in user without the admin role: 403, as a page (the API's error envelope is for /api/)."""
    return render_template("officer/error.html", code="FORBIDDEN", message=None, plain=page_error_message(403),
                           conversation_id=g.get("conversation_id")), 403


def install(app: Flask) -> None:
    app.register_blueprint(bp)
