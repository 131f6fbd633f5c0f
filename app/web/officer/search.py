"""Officers' search: any declaration by reference, LRN, UCR, party, container, e-lock or case
number, whatever its status; a declaration's own page (with or without a case); saved
filters of the queue and the search. Read-only pages read through ``app.cases.queries``."""
from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from app.cases import queries as case_queries
from app.cases import service as cases
from app.cases.service import CaseNotFound
from app.domain.cases import CaseRuleError
from app.domain.declaration import DeclarationStatus
from app.web import params
from app.web.auth import role_required
from app.web.context import db, services, unit_of_work
from app.web.declared import declared
from app.web.officer.forms import ActionForm, SaveSearchForm
from app.web.officer.views import EVERYONE, bp, control_point_choices
from app.web.plain import case_rule_message

STATUSES = tuple(status.value for status in DeclarationStatus)


def _day(name: str, errors: dict[str, str]) -> date | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw[:10])
    except ValueError:
        errors[name] = _("Enter the date as year-month-day, for example 2026-12-31.")
        return None


def _criteria(errors: dict[str, str]) -> case_queries.SearchCriteria:
    args = request.args

    def choice(name: str, allowed: tuple[str, ...]) -> str:
        value = args.get(name, "").strip().lower()
        return value if value in allowed else ""

    received_from, received_to = _day("from", errors), _day("to", errors)
    if received_from and received_to and received_to < received_from:
        errors["to"] = _("The end date must be on or after the start date.")
    return case_queries.SearchCriteria(
        text=args.get("q", "").strip()[:60], status=choice("status", STATUSES),
        case_state=choice("case", (*case_queries.CASE_STATES, case_queries.NO_CASE)),
        lane=choice("lane", ("green", "yellow", "red")), type_code=choice("type", ("im", "ex", "ts")).upper(),
        control_point=args.get("control_point", "").strip().upper()[:5],
        received_from=received_from, received_to=received_to)


@bp.get("/search")
@role_required(*EVERYONE)
def search() -> tuple[str, int]:
    errors: dict[str, str] = {}
    criteria = _criteria(errors)
    page = params.query_int("page", 1, 10_000, beyond="NOT_FOUND")
    found = case_queries.search(db(), criteria, page, services().settings.page_size)
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    query = urlencode(list(args.items()))
    return render_template(
        "officer/search.html", found=found, criteria=criteria, args=args, errors=errors,
        statuses=STATUSES, case_states=case_queries.CASE_STATES, control_points=control_point_choices(),
        saved=case_queries.saved_searches(db(), current_user.id),
        save_form=SaveSearchForm(page="search", query=query), action=ActionForm(),
    ), 400 if errors else 200


@bp.get("/declarations/<reference>")
@role_required(*EVERYONE)
def declaration(reference: str) -> str:
    """A declaration as officers see it, with or without a case (the case view links here)."""
    row = cases.get_declaration_view(db(), reference.strip().upper()[:16])
    if row is None:
        abort(404, description=_("No declaration %(id)s", id=reference[:16]))
    case = cases.case_for_declaration(db(), row.id)
    findings = [f for f in row.findings if f.version == row.version]
    return render_template("officer/declaration.html", declaration=row, case=case, findings=findings,
                           declared=declared(row, services().reference.pickers, str(get_locale() or "en")),
                           document_threads=cases.document_threads(db(), row.id))


def _saved_target(page: str, query: str) -> str:
    endpoint = "officer.search" if page == "search" else "officer.queue"
    target = url_for(endpoint)
    return f"{target}?{query}" if query else target


@bp.post("/saved-searches")
@role_required(*EVERYONE)
def save_search() -> Response:
    """Post/redirect/get: the filter is saved and the page it belongs to opens again."""
    form = SaveSearchForm()
    page = form.page.data if form.page.data in cases.SAVED_SEARCH_PAGES else "queue"
    query = form.query.data or ""
    if not form.validate():
        flash(_("Not saved: give the filter a name of 1 to 60 characters."), "error")
        return redirect(_saved_target(page, query))
    user = current_user._get_current_object()
    uow = unit_of_work().write_lock()
    try:
        cases.save_search(uow.session, user, page, form.name.data or "", query)
    except CaseRuleError as exc:
        uow.rollback()
        flash(_("Not saved: %(reason)s", reason=case_rule_message(exc)), "error")
        return redirect(_saved_target(page, query))
    uow.commit()
    flash(_("Filter “%(name)s” saved.", name=" ".join((form.name.data or "").split())))
    return redirect(_saved_target(page, query))


@bp.post("/saved-searches/<id:search_id>/delete")
@role_required(*EVERYONE)
def delete_search(search_id: int) -> Response:
    form = ActionForm()
    if not form.validate():
        abort(400)
    user = current_user._get_current_object()
    uow = unit_of_work().write_lock()
    try:
        saved = cases.delete_search(uow.session, user, search_id)
    except CaseNotFound:
        uow.rollback()
        abort(404, description=_("No saved filter %(id)s", id=search_id))
    uow.commit()
    flash(_("Filter “%(name)s” deleted.", name=saved.name))
    return redirect(_saved_target(saved.page, ""))
