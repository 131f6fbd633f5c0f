"""Officers' pages: parse the form, call ``app.cases.service``, render or redirect.

Every page works without JavaScript: forms post, the server answers with a redirect (done)
or the page again with the problem named and a 4xx status (not done)."""
from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice as Choice

from app.cases import dashboard as dashboard_figures
from app.cases import service as cases
from app.cases.service import CaseNotFound, DecisionRequest, QueueFilter
from app.db import models
from app.db.case_models import Case, User
from app.domain.problems import Problem, Rejection
from app.domain.time import HONG_KONG
from app.domain.cases import CaseRuleError, CaseState, Decision, InspectionResult, allowed_decisions
from app.platform.clock import utcnow
from app.revenue import queries as revenue
from app.risk.service import RiskView, latest_assessment
from app.transit import queries as transit_queries
from app.users import service as users
from app.web.auth import role_required
from app.web import params
from app.web.context import db, services, unit_of_work
from app.web.envelope import attachment_disposition
import app.web.officer.charts as charts
from app.web.officer.forms import (
    AccountStatusForm,
    ActionForm,
    DecisionForm,
    InspectionForm,
    LocaleForm,
    NoteForm,
    ReassignForm,
    UserForm,
)

bp = Blueprint("officer", __name__, url_prefix="/officer", static_folder="../static", static_url_path="/static")

EVERYONE = ("officer", "supervisor", "admin")
CASE_WORKERS = ("officer", "supervisor")
SUPERVISORS = ("supervisor", "admin")
_UNPROCESSABLE = {"REASON_REQUIRED", "LANE_INVALID", "LANE_UNCHANGED", "AMOUNT_INVALID", "NOTE_EMPTY",
                  "NOTE_TOO_LONG", "UNKNOWN_OFFICER", "FORM_INVALID"}


@bp.app_template_filter("money")
def money(value: object) -> str:
    if value is None or value == "":
        return "—"
    try:
        return f"HK${Decimal(str(value)):,.2f}"
    except ArithmeticError:
        return str(value)


@bp.app_template_filter("term")
def term(value: object) -> str:
    """A stored code (state, lane, event kind, decision) in the reader's language: its
    translation, else the code made readable, so nobody reads "decision:request_documents"."""
    if value is None or value == "":
        return ""
    code = str(value)
    translated = _(code)
    if translated != code:
        return translated
    return code.replace("decision:", "decision: ").replace("_", " ")


@bp.errorhandler(403)
@bp.errorhandler(404)
@bp.errorhandler(409)
@bp.errorhandler(422)
@bp.errorhandler(CSRFError)
def page_error(exc: HTTPException) -> tuple[str, int]:
    """Errors of the officers' pages as pages (the API keeps its XML/JSON envelope)."""
    code = {403: "FORBIDDEN", 404: "NOT_FOUND", 409: "CONFLICT", 422: "INVALID"}.get(exc.code or 400, "CSRF_INVALID")
    return render_template("officer/error.html", code=code, message=exc.description,
                           conversation_id=g.get("conversation_id")), exc.code or 400


def _case_or_404(case_id: int) -> Case:
    try:
        return cases.get_case(db(), case_id)
    except CaseNotFound:
        abort(404, description=_("No case %(id)s", id=case_id))


# --- queue --------------------------------------------------------------------------------

def _filters() -> QueueFilter:
    args = request.args

    def text(name: str, limit: int) -> str | None:
        value = args.get(name, "").strip()
        return value[:limit] or None

    mine = args.get("mine") == "1"
    return QueueFilter(lane=text("lane", 10), control_point=text("control_point", 5), type_code=text("type", 2),
                       alert_kind=text("alert_kind", 30), state=text("state", 20),
                       assigned_to_id=current_user.id if mine else None)


def _page_number() -> int:
    return params.query_int("page", 1, 10_000, beyond="NOT_FOUND")


@bp.get("/")
@role_required(*EVERYONE)
def queue() -> str:
    filters = _filters()
    page = cases.queue_page(db(), filters, _page_number(), services().settings.page_size)
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    unpaid, unpaid_count = revenue.unpaid(db(), limit=UNPAID_ON_QUEUE)
    duty = revenue.duty_status_of(db(), [c.declaration_id for c in page.cases if c.declaration_id])
    return render_template("officer/queue.html", page=page, filters=filters, args=args,
                           mine=request.args.get("mine") == "1", counts=cases.queue_counts(db()),
                           count_cap=cases.COUNT_CAP, now=utcnow(), action=ActionForm(), unpaid=unpaid,
                           unpaid_count=unpaid_count, duty=duty)


UNPAID_ON_QUEUE = 10


@bp.get("/duty")
@role_required(*EVERYONE)
def unpaid_duty() -> str:
    """Dutiable declarations whose duty is still due, oldest demand first."""
    size = services().settings.page_size
    number = _page_number()
    rows, count = revenue.unpaid(db(), limit=size, offset=(number - 1) * size)
    if number > 1 and not rows:
        abort(404)
    return render_template("officer/duty.html", unpaid=rows, count=count, page=number,
                           has_next=number * size < count)


# --- case view ----------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class HistoryEntry:
    occurred_at: datetime
    source: str
    kind: str
    actor: str
    note: str | None
    detail: dict[str, Any] | None


def _history(case: Case, declaration: models.Declaration | None) -> list[HistoryEntry]:
    entries = [HistoryEntry(e.occurred_at, "case", e.kind, e.actor, e.note, e.detail) for e in case.events]
    if declaration is not None:
        entries += [HistoryEntry(e.occurred_at, "declaration", e.kind, e.actor, e.note,
                                 {"status": f"{e.status_from or '—'} → {e.status_to}", "version": e.version})
                    for e in declaration.events]
    return sorted(entries, key=lambda entry: entry.occurred_at, reverse=True)


def _risk(declaration: models.Declaration) -> RiskView | None:
    """The risk module's latest assessment (score, reasons with points, lane reason)."""
    return latest_assessment(db(), declaration.id)


def _journey(case: Case) -> dict[str, Any] | None:
    """The e-lock journey (timeline, alerts and track) when the case has one."""
    journey = transit_queries.journey_view(db(), case.journey_id, case.declaration_id)
    if journey is None:
        return None
    return {"view": journey, "track_svg": charts.track(journey.track, _("E-lock track"))}


def _officers() -> list[User]:
    return list(db().scalars(select(User).where(User.active.is_(True), User.role.in_(CASE_WORKERS))
                             .order_by(User.username)))


def _render_case(case: Case, status: int = 200, error: CaseRuleError | None = None,
                 decision_form: DecisionForm | None = None, inspection_form: InspectionForm | None = None,
                 note_form: NoteForm | None = None, reassign_form: ReassignForm | None = None) -> tuple[str, int]:
    declaration = None
    if case.declaration_id:
        declaration = cases.get_declaration_view(db(), case.declaration_id)
    reassign_form = reassign_form or ReassignForm()
    reassign_form.assignee.choices = [Choice("", _("— back to the queue —"))] + [
        Choice(u.username, f"{u.display_name} ({u.username})") for u in _officers()]
    findings = [f for f in declaration.findings if f.version == declaration.version] if declaration else []
    mine = case.assigned_to_id == current_user.id
    decision_form = decision_form or DecisionForm()
    if declaration is not None:
        decision_form.declaration_version.data = str(declaration.version)
    return render_template(
        "officer/case.html", case=case, declaration=declaration, findings=findings,
        risk=_risk(declaration) if declaration else None, journey=_journey(case),
        duty=revenue.statement(db(), declaration.id, None) if declaration else None,
        history=_history(case, declaration), error=error, mine=mine,
        can_work=current_user.role in CASE_WORKERS, supervisor=current_user.role == "supervisor",
        decisions=[d.value for d in allowed_decisions(CaseState(case.state), case.declaration_id is not None)]
        if mine else [],
        inspection_due=mine and case.state == CaseState.INSPECTION.value,
        document_threads=cases.document_threads(db(), case.declaration_id) if case.declaration_id else [],
        action=ActionForm(), decision_form=decision_form,
        inspection_form=inspection_form or InspectionForm(), note_form=note_form or NoteForm(),
        reassign_form=reassign_form, now=utcnow(),
    ), status


def _refused(case_id: int, error: CaseRuleError, **forms: Any) -> tuple[str, int]:
    db().rollback()
    case = _case_or_404(case_id)
    status = 422 if error.code in _UNPROCESSABLE else 409
    return _render_case(case, status, error, **forms)


def _form_error(form: Any) -> CaseRuleError:
    field, messages = next(iter(form.errors.items()))
    return CaseRuleError("FORM_INVALID", f"{field}: {'; '.join(str(m) for m in messages)}", field)


@bp.get("/cases/<id:case_id>")
@role_required(*EVERYONE)
def case_view(case_id: int) -> tuple[str, int]:
    return _render_case(_case_or_404(case_id))


def _change(case_id: int, action: Callable[[Session, User], Case], **forms: Any) -> Case | tuple[str, int]:
    """Run one change of a case behind the write gate (one writer at a time on SQLite) and
    commit it; a refusal rolls back and shows the case again with the problem named."""
    user = current_user._get_current_object()
    uow = unit_of_work().write_lock()
    _case_or_404(case_id)
    try:
        case = action(uow.session, user)
    except CaseRuleError as exc:
        uow.rollback()
        return _refused(case_id, exc, **forms)
    uow.commit()
    return case


@bp.get("/cases/<id:case_id>/answers/<id:answer_id>/attachment")
@role_required(*EVERYONE)
def attachment(case_id: int, answer_id: int) -> Response:
    """A document the trader attached to an answer, downloaded (never shown inline)."""
    try:
        answer = cases.answer_attachment(db(), case_id, answer_id)
    except CaseNotFound:
        abort(404, description=_("No attachment %(id)s", id=answer_id))
    assert answer.content is not None
    return Response(answer.content, mimetype=answer.content_type or "application/octet-stream", headers={
        "Content-Disposition": attachment_disposition(answer.filename),
        "Cache-Control": "private, no-store"})


@bp.post("/cases/<id:case_id>/claim")
@role_required(*CASE_WORKERS)
def claim(case_id: int) -> Response | tuple[str, int]:
    done = _change(case_id, lambda session, user: cases.claim(session, case_id, user))
    if not isinstance(done, Case):
        return done
    flash(_("Case claimed: it is yours until you decide or release it."))
    return redirect(url_for("officer.case_view", case_id=case_id))


@bp.post("/cases/<id:case_id>/unclaim")
@role_required(*CASE_WORKERS)
def unclaim(case_id: int) -> Response | tuple[str, int]:
    done = _change(case_id, lambda session, user: cases.unclaim(session, case_id, user))
    if not isinstance(done, Case):
        return done
    flash(_("Case returned to the queue."))
    return redirect(url_for("officer.queue"))


@bp.post("/cases/<id:case_id>/reassign")
@role_required("supervisor")
def reassign(case_id: int) -> Response | tuple[str, int]:
    form = ReassignForm()
    if not form.validate():
        return _refused(case_id, _form_error(form), reassign_form=form)
    done = _change(case_id, lambda session, user: cases.reassign(
        session, case_id, form.assignee.data or "", user, form.reason.data or ""), reassign_form=form)
    if not isinstance(done, Case):
        return done
    flash(_("Case reassigned."))
    return redirect(url_for("officer.case_view", case_id=case_id))


@bp.post("/cases/<id:case_id>/decision")
@role_required(*CASE_WORKERS)
def decide(case_id: int) -> Response | tuple[str, int]:
    form = DecisionForm()
    if not form.validate():
        return _refused(case_id, _form_error(form), decision_form=form)
    decision = DecisionRequest(Decision(form.decision.data), reason=form.reason.data or "",
                               lane=form.lane.data or None, documents=form.documents.data or "",
                               version=params.form_int("declaration_version", None, params.MAX_ID, minimum=1))
    case = _change(case_id, lambda session, user: cases.decide(
        session, case_id, user, decision, g.get("conversation_id")), decision_form=form)
    if not isinstance(case, Case):
        return case
    if case.decision and case.decision.startswith("declaration_"):
        flash(_("The declaration was already %(status)s: the case is closed.", status=term(case.decision[12:])))
    else:
        flash(_("Decision recorded: %(decision)s.", decision=term(form.decision.data or "")))
    if case.state == CaseState.CLOSED.value:
        return redirect(url_for("officer.queue"))
    return redirect(url_for("officer.case_view", case_id=case_id))


@bp.post("/cases/<id:case_id>/inspection")
@role_required(*CASE_WORKERS)
def inspection(case_id: int) -> Response | tuple[str, int]:
    form = InspectionForm()
    if not form.validate():
        return _refused(case_id, _form_error(form), inspection_form=form)
    done = _change(case_id, lambda session, user: cases.record_inspection(
        session, case_id, user, InspectionResult(form.result.data), Decimal(form.revenue_recovered.data or 0),
        form.notes.data or ""), inspection_form=form)
    if not isinstance(done, Case):
        return done
    flash(_("Inspection outcome recorded."))
    return redirect(url_for("officer.case_view", case_id=case_id))


@bp.post("/cases/<id:case_id>/notes")
@role_required(*CASE_WORKERS)
def note(case_id: int) -> Response | tuple[str, int]:
    form = NoteForm()
    if not form.validate():
        return _refused(case_id, _form_error(form), note_form=form)
    done = _change(case_id, lambda session, user: cases.add_note(session, case_id, user, form.note.data or ""),
                   note_form=form)
    if not isinstance(done, Case):
        return done
    flash(_("Note added."))
    return redirect(url_for("officer.case_view", case_id=case_id))


# --- supervisor dashboard -----------------------------------------------------------------

@bp.get("/dashboard")
@role_required(*SUPERVISORS)
def dashboard() -> str:
    figures = dashboard_figures.figures(db())
    volume_labels = [d.strftime("%m-%d") for d in figures.days]
    lanes = ["green", "yellow", "red", "none"]
    lane_values = [figures.lane_mix.get(lane, 0) for lane in lanes]
    hit_values = [round(100 * (r.rate or 0), 1) for r in figures.hit_rates]
    return render_template(
        "officer/dashboard.html", figures=figures,
        declarations_chart=charts.bar_chart(volume_labels, figures.declarations_per_day,
                                            _("Declarations per day")),
        cases_chart=charts.bar_chart(volume_labels, figures.cases_per_day, _("Cases opened per day")),
        lane_chart=charts.bar_chart([_(lane) for lane in lanes], lane_values, _("Lane mix"),
                                    colours=("#2e7d32", "#c77c02", "#b3261e", "#546e7a")),
        hit_chart=charts.bar_chart([_("targeted"), _("random")], hit_values, _("Inspection hit rate (per cent)"),
                                   value_format="{:g}%"),
        age_chart=charts.bar_chart([label for label, _count in figures.open_by_age],
                                   [count for _label, count in figures.open_by_age], _("Open cases by age")),
    )


# --- revenue report --------------------------------------------------------------------------

REPORT_DAYS = 30


def _report_range() -> tuple[date, date]:
    """``from`` and ``to`` (YYYY-MM-DD, Hong Kong days; default: the last 30 days)."""
    today = utcnow().astimezone(HONG_KONG).date()

    def day(name: str, default: date) -> date:
        raw = request.args.get(name) or ""
        if not raw:
            return default
        try:
            if len(raw) != 10:
                raise ValueError(raw)
            return date.fromisoformat(raw)
        except ValueError:
            raise Rejection("INVALID_PARAMETER", _("%(name)s must be a date, YYYY-MM-DD", name=name),
                            [Problem(message=f"got {raw[:20]!r}", path=name, rule="date")]) from None

    end = day("to", today)
    return day("from", end - timedelta(days=REPORT_DAYS - 1)), end


def _report() -> revenue.Report | tuple[str, int]:
    try:
        start, end = _report_range()
        return revenue.report(db(), start, end)
    except Rejection as rejection:
        return render_template("officer/error.html", code=400, message=rejection.message,
                               conversation_id=g.get("conversation_id")), 400


@bp.get("/reports/revenue")
@role_required(*SUPERVISORS)
def revenue_report() -> str | tuple[str, int]:
    """Charges and duty per day and per commodity (supervisors)."""
    report = _report()
    if isinstance(report, tuple):
        return report
    labels = [day.strftime("%m-%d") for day, _row in report.rows()]
    paid = [float(row["duty_paid"]) for _day, row in report.rows()]
    return render_template("officer/revenue.html", report=report, columns=revenue.REPORT_COLUMNS,
                           commodity_columns=revenue.COMMODITY_COLUMNS,
                           chart=charts.bar_chart(labels, paid, _("Duty collected per day (HKD)")))


@bp.get("/reports/revenue.csv")
@role_required(*SUPERVISORS)
def revenue_report_csv() -> Response | tuple[str, int]:
    report = _report()
    if isinstance(report, tuple):
        return report
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    for row in revenue.report_csv_rows(report):
        writer.writerow(row)
    name = f"revenue-{report.start.isoformat()}-{report.end.isoformat()}.csv"
    return Response(text.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": attachment_disposition(name)})


# --- accounts -----------------------------------------------------------------------------

@bp.route("/users", methods=["GET", "POST"])
@role_required("admin")
def user_admin() -> str | Response | tuple[str, int]:
    form = UserForm()
    status = 200
    if request.method == "POST":
        if form.validate():
            hashed = users.hash_password(form.password.data or "")  # slow on purpose: outside the gate
            try:
                uow = unit_of_work().write_lock()
                users.create_user(uow.session, form.username.data or "", form.role.data or "",
                                  form.password.data or "", display_name=form.display_name.data or None,
                                  password_hash=hashed, actor=f"officer:{current_user.username}")
                uow.commit()
            except users.AccountError as exc:
                unit_of_work().rollback()
                getattr(form, exc.field).errors = [exc.message]
                status = 422
            else:
                flash(_("Account %(username)s created.", username=form.username.data))
                return redirect(url_for("officer.user_admin"))
        else:
            status = 422
    accounts = db().scalars(select(User).order_by(User.role, User.username)).all()
    return render_template("officer/users.html", form=form, accounts=accounts, status_form=AccountStatusForm()), status


@bp.post("/users/<id:user_id>/active")
@role_required("admin")
def user_active(user_id: int) -> Response | tuple[str, int]:
    """Deactivate or reactivate an account, with a reason kept on its history."""
    form = AccountStatusForm()
    if not form.validate():
        abort(422, description=_("give a reason for the change"))
    uow = unit_of_work().write_lock()
    user = uow.session.get(User, user_id)
    if user is None:
        uow.rollback()
        abort(404, description=_("no such account"))
    try:
        users.set_active(uow.session, user, form.active.data == "1", f"officer:{current_user.username}",
                         form.reason.data or "")
    except users.AccountError as exc:
        uow.rollback()
        abort(409, description=exc.message)
    uow.commit()
    flash(_("Account %(username)s changed.", username=user.username))
    return redirect(url_for("officer.user_admin"))


@bp.post("/locale")
def locale() -> Response:
    """Switch language: stored on the account when signed in, else in the browser session.
    Open to everyone (the login page offers it too)."""
    form = LocaleForm()
    if not form.validate():
        abort(400, description=_("choose en or zh_Hant"))
    chosen = form.locale.data or "en"
    if current_user.is_authenticated:
        uow = unit_of_work().write_lock()
        users.set_locale(current_user._get_current_object(), chosen)
        uow.commit()
    session["locale"] = chosen
    return redirect(params.local_path(form.next.data) or url_for("officer.queue"))
