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
from urllib.parse import urlencode

from flask import Blueprint, abort, flash, g, redirect, render_template, request, session, url_for
from babel.dates import format_skeleton
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice as Choice

from app.cases import dashboard as dashboard_figures
from app.cases import queries as case_queries
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
from app.web.kept import form_values, keep, keep_form, kept, restore_form, see_other
from app.web.declared import declared
from app.web.labels import ALERT_KINDS, term
from app.web.plain import account_message, case_rule_message, own_description, page_error_message
import app.web.officer.charts as charts
from app.web.officer.forms import (
    AccountStatusForm,
    ActionForm,
    DecisionForm,
    InspectionForm,
    LocaleForm,
    NoteForm,
    PasswordForm,
    ReassignForm,
    RoleForm,
    SaveSearchForm,
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


@bp.errorhandler(403)
@bp.errorhandler(404)
@bp.errorhandler(409)
@bp.errorhandler(422)
@bp.errorhandler(CSRFError)
def page_error(exc: HTTPException) -> tuple[str, int]:
    """Errors of the officers' pages as pages (the API keeps its XML/JSON envelope)."""
    code = {403: "FORBIDDEN", 404: "NOT_FOUND", 409: "CONFLICT", 422: "INVALID"}.get(exc.code or 400, "CSRF_INVALID")
    return render_template("officer/error.html", code=code, message=own_description(exc),
                           plain=page_error_message(exc.code),
                           conversation_id=g.get("conversation_id")), exc.code or 400


def _case_or_404(case_id: int) -> Case:
    try:
        return cases.get_case(db(), case_id)
    except CaseNotFound:
        abort(404, description=_("No case %(id)s", id=case_id))


# --- queue --------------------------------------------------------------------------------

QUEUE_STATES = ("open", "claimed", "awaiting_documents", "inspection", "closed")


def _filters() -> QueueFilter:
    """The queue's filters from the query string. Codes are matched whatever their case
    (``hklmc`` finds HKLMC's cases); an unknown value simply matches nothing."""
    args = request.args

    def text(name: str, limit: int) -> str | None:
        value = args.get(name, "").strip()
        return value[:limit] or None

    mine = args.get("mine") == "1"
    lane, control_point, alert_kind = text("lane", 10), text("control_point", 5), text("alert_kind", 40)
    type_code, state = text("type", 2), text("state", 20)
    return QueueFilter(lane=lane.lower() if lane else None, control_point=control_point.upper() if control_point
                       else None, type_code=type_code.upper() if type_code else None,
                       alert_kind=alert_kind.lower() if alert_kind else None,
                       state=state.lower() if state else None, assigned_to_id=current_user.id if mine else None)


def _page_number() -> int:
    return params.query_int("page", 1, 10_000, beyond="NOT_FOUND")


def alert_kind_choices() -> list[tuple[str, str]]:
    """Every alert kind the e-lock scheme raises, and any other a case has carried."""
    kinds = dict.fromkeys([*ALERT_KINDS, *case_queries.alert_kinds_seen(db())])
    return [(kind, term(kind)) for kind in kinds]


def control_point_choices() -> list[tuple[str, str]]:
    locale = str(get_locale() or "en")
    return [(c.code, f"{c.name(locale)} ({c.code})") for c in services().reference.pickers.control_points]


@bp.get("/")
@role_required(*EVERYONE)
def queue() -> str:
    filters = _filters()
    page: Any
    if filters.state == "closed":
        page = case_queries.closed_cases(db(), _page_number(), services().settings.page_size, lane=filters.lane,
                                         control_point=filters.control_point, type_code=filters.type_code,
                                         alert_kind=filters.alert_kind, assigned_to_id=filters.assigned_to_id)
    else:
        page = cases.queue_page(db(), filters, _page_number(), services().settings.page_size)
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    unpaid, unpaid_count = revenue.unpaid(db(), limit=UNPAID_ON_QUEUE)
    duty = revenue.duty_status_of(db(), [c.declaration_id for c in page.cases if c.declaration_id])
    return render_template("officer/queue.html", page=page, filters=filters, args=args,
                           mine=request.args.get("mine") == "1", counts=cases.queue_counts(db()),
                           count_cap=cases.COUNT_CAP, states=QUEUE_STATES, control_points=control_point_choices(),
                           alert_kinds=alert_kind_choices(),
                           saved=case_queries.saved_searches(db(), current_user.id),
                           save_form=SaveSearchForm(page="queue", query=_query_string()),
                           now=utcnow(), action=ActionForm(), unpaid=unpaid,
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


def _query_string() -> str:
    """The page's filters as a query string (without the page number), for saving them."""
    return urlencode([(k, v) for k, v in request.args.items(multi=True) if k != "page" and v])


# --- case view ----------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class HistoryEntry:
    occurred_at: datetime
    source: str
    kind: str
    actor: str
    note: str | None
    lines: list[str]


def _listed(value: object) -> str:
    values = value if isinstance(value, list | tuple) else [value]
    return ", ".join(term(v) for v in values if v not in (None, ""))


def detail_lines(detail: dict[str, Any] | None) -> list[str]:
    """A case event's recorded facts as short lines in the reader's language (never
    ``key: raw_value``); the evidence of an alert is left to the journey section."""
    lines: list[str] = []
    for key, value in (detail or {}).items():
        if value in (None, "", [], False) or key in ("evidence", "alert_id", "request_id", "occurred_at"):
            continue
        match key:
            case "reasons" | "added":
                lines.append(_("reasons: %(list)s", list=_listed(value)))
            case "version":
                lines.append(_("declaration version %(v)s", v=value))
            case "user":
                lines.append(_("by %(user)s", user=value))
            case "from" | "to":
                continue
            case "decision":
                lines.append(term(value))
            case "documents":
                lines.append(_("documents: %(documents)s", documents=value))
            case "result":
                lines.append(_("result: %(result)s", result=term(value)))
            case "revenue_recovered":
                lines.append(_("revenue recovered: %(amount)s", amount=money(value)))
            case "selection":
                lines.append(term(value))
            case "level":
                lines.append(_("escalation level %(level)s", level=value))
            case "declaration_status":
                lines.append(_("declaration %(status)s", status=term(value)))
            case "kind":
                lines.append(term(value))
            case "journey_id":
                lines.append(_("e-lock journey %(id)s", id=value))
            case "documents_answered":
                lines.append(_("the trader answered the document request"))
            case _:
                lines.append(f"{term(key)}: {_listed(value)}")
    details = detail or {}
    if details.get("from") or details.get("to"):
        lines.append(_("from %(before)s to %(after)s", before=term(details.get("from")) or _("the queue"),
                       after=term(details.get("to")) or _("the queue")))
    return lines


def _history(case: Case, declaration: models.Declaration | None) -> list[HistoryEntry]:
    entries = [HistoryEntry(e.occurred_at, "case", e.kind, e.actor, e.note, detail_lines(e.detail))
               for e in case.events]
    if declaration is not None:
        for e in declaration.events:
            lines = [_("declaration version %(v)s", v=e.version)]
            if e.status_from != e.status_to:
                lines.insert(0, _("declaration now %(status)s", status=term(e.status_to)))
            entries.append(HistoryEntry(e.occurred_at, "declaration", e.kind, e.actor, e.note, lines))
    return sorted(entries, key=lambda entry: entry.occurred_at, reverse=True)


def _risk(declaration: models.Declaration) -> RiskView | None:
    """The risk module's latest assessment (score, reasons with points, lane reason)."""
    return latest_assessment(db(), declaration.id)


def _journey(case: Case) -> dict[str, Any] | None:
    """The e-lock journey (timeline, alerts and track) when the case has one."""
    journey = transit_queries.journey_view(db(), case.journey_id, case.declaration_id, services().reference.network)
    if journey is None:
        return None
    labels = charts.TrackLabels(
        title=_("E-lock track over the approved route"), corridor=_("approved corridor"), route=_("approved route"),
        track=_("reported track"), start=_("start"), end=_("last position"), outside=_("outside the corridor"),
        deviation=_("left the route here"))
    readings = [(r.longitude, r.latitude, r.inside_corridor) for r in journey.readings]
    return {"view": journey, "track_svg": charts.track(readings, labels, journey.corridor, journey.route_path,
                                                       journey.points)}


def _officers() -> list[User]:
    return list(db().scalars(select(User).where(User.active.is_(True), User.role.in_(CASE_WORKERS))
                             .order_by(User.username)))


def _render_case(case: Case, status: int = 200, error: CaseRuleError | None = None,
                 decision_form: DecisionForm | None = None, inspection_form: InspectionForm | None = None,
                 note_form: NoteForm | None = None, reassign_form: ReassignForm | None = None,
                 error_text: str | None = None) -> tuple[str, int]:
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
    locale = str(get_locale() or "en")
    return render_template(
        "officer/case.html", case=case, declaration=declaration, findings=findings,
        declared=declared(declaration, services().reference.pickers, locale) if declaration else None,
        error_text=error_text or (case_rule_message(error) if error else None),
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


def _refused(case_id: int, error: CaseRuleError, **forms: Any) -> Response:
    """Post/redirect/get for a refused action: the problem (in the officer's words) and what was
    typed are kept for the case page, which shows them once with the refusal's status."""
    db().rollback()
    _case_or_404(case_id)
    status = 422 if error.code in _UNPROCESSABLE else 409
    keep(f"case:{case_id}", status, code=error.code, field=error.field, text=case_rule_message(error),
         forms={name: form_values(form) for name, form in forms.items()})
    return see_other(url_for("officer.case_view", case_id=case_id, _anchor="case-error"))


_CASE_FORMS: dict[str, type[Any]] = {"decision_form": DecisionForm, "inspection_form": InspectionForm,
                                     "note_form": NoteForm, "reassign_form": ReassignForm}


def _form_error(form: Any) -> CaseRuleError:
    """The form's first problem, naming the field by its label."""
    field, messages = next(iter(form.errors.items()))
    label = getattr(getattr(form, field, None), "label", None)
    name = label.text if label is not None and label.text else field
    return CaseRuleError("FORM_INVALID", _("%(label)s: %(message)s", label=name,
                                           message=" ".join(str(m) for m in messages)), field)


@bp.get("/cases/<id:case_id>")
@role_required(*EVERYONE)
def case_view(case_id: int) -> tuple[str, int]:
    case = _case_or_404(case_id)
    found = kept(f"case:{case_id}")
    if not found:
        return _render_case(case)
    forms: dict[str, Any] = {}
    for name, values in (found.get("forms") or {}).items():
        if name in _CASE_FORMS:
            forms[name] = _CASE_FORMS[name](formdata=None)
            restore_form(forms[name], {"values": values})
    error = CaseRuleError(str(found.get("code")), str(found.get("text")), found.get("field"))
    status = found.get("status")
    return _render_case(case, status if isinstance(status, int) else 409, error, error_text=str(found.get("text")),
                        **forms)


def _change(case_id: int, action: Callable[[Session, User], Case], **forms: Any) -> Case | Response:
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
    locale = str(get_locale() or "en")
    volume_labels = [format_skeleton("MMMd", d, locale=locale) for d in figures.days]
    lanes = ["green", "yellow", "red", "none"]
    lane_values = [figures.lane_mix.get(lane, 0) for lane in lanes]
    hit_values = [round(100 * (r.rate or 0), 1) for r in figures.hit_rates]
    ages = {"< 1 h": _("under 1 hour"), "1-4 h": _("1 to 4 hours"), "4-24 h": _("4 to 24 hours"),
            "1-3 d": _("1 to 3 days"), "> 3 d": _("over 3 days")}
    open_by_age = [(ages.get(label, label), count) for label, count in figures.open_by_age]
    return render_template(
        "officer/dashboard.html", figures=figures, open_by_age=open_by_age,
        first_day=figures.days[0].isoformat(), last_day=figures.days[-1].isoformat(),
        declarations_chart=charts.bar_chart(volume_labels, figures.declarations_per_day,
                                            _("Declarations per day")),
        cases_chart=charts.bar_chart(volume_labels, figures.cases_per_day, _("Cases opened per day")),
        lane_chart=charts.bar_chart([term(lane) for lane in lanes], lane_values, _("Lane mix"),
                                    colours=("#2e7d32", "#c77c02", "#b3261e", "#546e7a")),
        hit_chart=charts.bar_chart([term("targeted"), term("random")], hit_values, _("Inspection hit rate (per cent)"),
                                   value_format="{:g}%"),
        age_chart=charts.bar_chart([label for label, _count in open_by_age],
                                   [count for _label, count in open_by_age], _("Open cases by age")),
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

def _actor_of_admin() -> str:
    return f"officer:{current_user.username}"


@bp.route("/users", methods=["GET", "POST"])
@role_required("admin")
def user_admin() -> str | Response | tuple[str, int]:
    """Every account, and a new one (officers, supervisors, administrators, or a trader bound
    to its company). Post/redirect/get; a refusal names the field by its label."""
    form = UserForm()
    if request.method == "POST":
        if form.validate():
            hashed = users.hash_password(form.password.data or "")  # slow on purpose: outside the gate
            try:
                uow = unit_of_work().write_lock()
                party_id = None
                if form.role.data == "trader" or (form.party.data or "").strip():
                    party_id = users.party_id_for(uow.session, form.party.data or "")
                user = users.create_user(uow.session, form.username.data or "", form.role.data or "",
                                         form.password.data or "", display_name=form.display_name.data or None,
                                         locale=form.locale.data or "en", party_id=party_id, password_hash=hashed,
                                         actor=_actor_of_admin())
                uow.commit()
            except users.AccountError as exc:
                unit_of_work().rollback()
                field = exc.field if getattr(form, exc.field, None) is not None else "username"
                keep_form("officer.user_admin", form, errors={field: [account_message(exc.field, exc.message)]})
            else:
                flash(_("Account %(username)s created.", username=user.username))
                return redirect(url_for("officer.user_account", user_id=user.id))
        else:
            keep_form("officer.user_admin", form)
        return see_other(url_for("officer.user_admin", _anchor="new-account"))
    status = restore_form(form, kept("officer.user_admin"))
    accounts = db().scalars(select(User).order_by(User.role, User.username)).all()
    return render_template("officer/users.html", form=form, accounts=accounts), status


def _account_or_404(user_id: int) -> User:
    user = db().get(User, user_id)
    if user is None:
        abort(404, description=_("No such account."))
    return user


@bp.get("/users/<id:user_id>")
@role_required("admin")
def user_account(user_id: int) -> str:
    """One account: its details, the changes an administrator can make, and its history."""
    user = _account_or_404(user_id)
    party = db().get(models.Party, user.party_id) if user.party_id is not None else None
    return render_template("officer/user.html", user=user, party=party, history=users.history(db(), user),
                           status_form=AccountStatusForm(), role_form=RoleForm(role=user.role),
                           password_form=PasswordForm())


def _account_change(user_id: int, change: Callable[[Session, User], None], form: Any, done: str) -> Response:
    """Validate ``form``, apply ``change`` to the account behind the write gate, and go back
    to the account's page saying what happened (or what was wrong, naming the field)."""
    if not form.validate():
        field, messages = next(iter(form.errors.items()))
        flash(_("%(label)s: %(message)s", label=getattr(form, field).label.text,
                message=" ".join(str(m) for m in messages)), "error")
        return redirect(url_for("officer.user_account", user_id=user_id))
    uow = unit_of_work().write_lock()
    user = uow.session.get(User, user_id)
    if user is None:
        uow.rollback()
        abort(404, description=_("No such account."))
    try:
        change(uow.session, user)
    except users.AccountError as exc:
        uow.rollback()
        flash(account_message(exc.field, exc.message), "error")
        return redirect(url_for("officer.user_account", user_id=user_id))
    uow.commit()
    flash(done)
    return redirect(url_for("officer.user_account", user_id=user_id))


@bp.post("/users/<id:user_id>/active")
@role_required("admin")
def user_active(user_id: int) -> Response:
    """Deactivate or reactivate an account, with a reason kept on its history."""
    form = AccountStatusForm()
    return _account_change(user_id, lambda session, user: users.set_active(
        session, user, form.active.data == "1", _actor_of_admin(), form.reason.data or ""), form,
        _("Account changed: %(state)s.", state=_("active") if form.active.data == "1" else _("inactive")))


@bp.post("/users/<id:user_id>/role")
@role_required("admin")
def user_role(user_id: int) -> Response:
    form = RoleForm()
    return _account_change(user_id, lambda session, user: users.set_role(
        session, user, form.role.data or "", _actor_of_admin(), form.reason.data or ""), form,
        _("Role changed to %(role)s.", role=term(form.role.data)))


@bp.post("/users/<id:user_id>/password")
@role_required("admin")
def user_password(user_id: int) -> Response:
    """A new password (the account is signed out everywhere); the history says when and why."""
    form = PasswordForm()
    hashed = users.hash_password(form.password.data) if form.password.data else None  # outside the gate
    return _account_change(user_id, lambda session, user: users.reset_password(
        session, user, form.password.data or "", _actor_of_admin(), form.reason.data or "", password_hash=hashed),
        form, _("Password reset: the account was signed out everywhere."))


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
