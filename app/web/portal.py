"""The traders' portal (``/trader``): lodge by form or upload, track, amend, cancel, answer
officers' document requests, manage the party's API keys.

Thin: parse the form, call ``app.portal`` and the declaration services, commit, render. A
submitted form is turned into the declaration v1 document and goes through
``app.web.api.lodge`` -- the very pipeline of ``POST /api/v1/declarations``.
"""
from __future__ import annotations

import copy
import json
import re
import zlib
from dataclasses import asdict
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session
from functools import wraps
from typing import Any, ParamSpec, TypeVar

from flask import (Blueprint, Flask, Response, abort, flash, g, jsonify, redirect, render_template, request,
                   session, url_for)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.web.form_text import TranslatedForm
from app.web.kept import keep, keep_form, kept, restore_form, see_other
from flask_wtf.csrf import CSRFError
from flask_wtf.file import FileField
from wtforms import FieldList, Form, FormField, SelectChoice, SelectField, StringField, TextAreaField
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as WerkzeugResponse
from wtforms.validators import DataRequired, Length

from app.domain.problems import Problem, Rejection
from app.web import portal_checks as checks
from app.web.declared import declared
from app.web.labels import term
from app.web.plain import (Message, finding_message, is_schema_problem, page_error_message, problem_message,
                           refine_field, rejection_summary, schema_message)
from app.domain.time import HONG_KONG
from app.platform.clock import utcnow
from app.intake.service import require_text_reason
from app.portal import codelists
from app.portal import service as portal
from app.routing import notifications as lifecycle
from app.users import clients as api_clients
from app.portal.document import (ITEM_DEFAULTS, build_declaration, field_for_path, fields_with_invalid_characters,
                                 form_data_from_xml, without_invalid_characters)
from app.declarations import pipeline
from app.declarations import queries as declarations_queries
from app.revenue import queries as revenue_queries
from app.revenue import service as revenue
from app.declarations import service as declarations_service
from app.domain.assessment import Assessed
from app.domain.declaration import ReceivedDeclaration
from app.domain.risk import RiskResult
from app.domain.actors import Caller
from app.web.api import charges_payload
from app.web.auth import role_required
from app.web import params
from app.web.context import db, services, unit_of_work
from app.web.envelope import attachment_disposition
from app.platform.uow import after_commit

P = ParamSpec("P")
R = TypeVar("R")

#: What each lifecycle notification is called on the page.
NOTIFICATION_KINDS = {
    "accepted": _l("accepted"), "amended": _l("amendment accepted"),
    "documents_requested": _l("documents requested"), "documents_answered": _l("documents answered"),
    "inspection_ordered": _l("inspection ordered"), "inspection_outcome": _l("inspection outcome"),
    "rerouted": _l("lane changed"), "duty_demanded": _l("duty demanded"), "duty_settled": _l("duty settled"),
    "duty_refunded": _l("duty refunded"), "released": _l("released"), "refused": _l("refused"),
    "cancelled": _l("cancelled"),
}

bp = Blueprint("portal", __name__, url_prefix="/trader", static_folder="static/portal",
               static_url_path="/static")

def _options(pairs: list[tuple[str, Any]]) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


TYPE_CHOICES = [("IM", _l("Import")), ("EX", _l("Export")), ("TS", _l("Transhipment under e-lock"))]
FORM_CHOICES = [("", _l("(not stated)")), ("1", _l("1 · import, non-food")), ("1A", _l("1A · import, food")),
                ("1B", _l("1B · import, charge-exempt")), ("2", _l("2 · export / re-export")),
                ("2A", _l("2A · export of HK-made clothing")), ("2B", _l("2B · export, charge-exempt"))]
MODE_CHOICES = [("", _l("choose")), ("1", _l("1 · sea")), ("2", _l("2 · rail")), ("3", _l("3 · road")),
                ("4", _l("4 · air")), ("5", _l("5 · post")), ("7", _l("7 · fixed installation")),
                ("8", _l("8 · inland water")), ("9", _l("9 · not known"))]
MASS_UNITS = [("KGM", _l("kilograms (KGM)")), ("GRM", _l("grams (GRM)")), ("TNE", _l("tonnes (TNE)"))]
REPRESENTATION_CHOICES = [("", _l("(not stated)")), ("1", _l("1 · the declarant itself")),
                          ("2", _l("2 · direct representation")), ("3", _l("3 · indirect representation"))]
PREVIOUS_CHOICES = [("", _l("(not stated)")), ("CRN", _l("CRN · road cargo reference")),
                    ("BL", _l("BL · bill of lading")), ("AWB", _l("AWB · air waybill"))]
VOLUME_UNITS = [("LTR", _l("litres (LTR)")), ("MLT", _l("millilitres (MLT)"))]
STATUSES = ("accepted", "under_review", "released", "refused", "cancelled")
LANES = ("green", "yellow", "red")
# Labels of the fields, for error messages and the error summary.
FIELD_LABELS: dict[str, Any] = {
    "type_code": _l("Declaration type"), "form_code": _l("TDEC form"), "lrn": _l("Local reference (LRN)"),
    "ucr": _l("Unique consignment reference (UCR)"), "issued_at": _l("Issued (Hong Kong time)"),
    "declarant": _l("Declarant"), "declarant_aeo_id": _l("Declarant's AEO certificate"),
    "transport_mode": _l("Transport mode"), "conveyance_id": _l("Conveyance (vehicle, vessel, flight)"),
    "control_point": _l("Control point"), "departure_location": _l("Departure (UN/LOCODE)"),
    "destination_location": _l("Destination (UN/LOCODE)"), "movement_at": _l("Arrival / departure (Hong Kong time)"),
    "name": _l("Name"), "identifier": _l("ID (BR number or AEO id)"), "aeo_id": _l("AEO certificate"),
    "address_line": _l("Address"), "city": _l("City"), "country": _l("Country"),
    "container_id": _l("Container number"), "seals": _l("Seal numbers"), "elock_id": _l("E-lock"),
    "description": _l("Description"), "hs_code": _l("HS code"), "origin_country": _l("Origin"),
    "quantity": _l("Quantity"), "quantity_unit": _l("Unit"), "net_mass": _l("Net mass"),
    "net_mass_unit": _l("Net mass unit"), "gross_mass": _l("Gross mass"), "gross_mass_unit": _l("Gross mass unit"),
    "value": _l("Customs value"), "currency": _l("Currency"), "package_type": _l("Package type"),
    "package_count": _l("Packages"), "alcohol_strength": _l("Alcohol %"), "volume": _l("Volume"),
    "volume_unit": _l("Volume unit"), "stick_count": _l("Cigarette sticks"), "length_mm": _l("Stick length (mm)"),
    "documents": _l("Licences and permits"), "importer": _l("Importer"), "exporter": _l("Exporter"),
    "carrier": _l("Carrier"), "equipment": _l("Container"), "items": _l("Goods item"),
    "agent_name": _l("Agent's name"), "agent_id": _l("Agent's ID (BR number or AEO id)"),
    "representation": _l("Representation status"), "delivery_terms": _l("Delivery terms (Incoterms)"),
    "delivery_place": _l("Delivery place"), "invoice_amount": _l("Invoice amount"),
    "invoice_currency": _l("Invoice currency"), "exchange_rate": _l("Exchange rate to HKD"),
    "previous": _l("Previous document"), "previous_type": _l("Document type"),
    "previous_id": _l("Document number"), "previous_packages": _l("Packages it covers"),
}
MAX_ITEMS = 999
MAX_EQUIPMENT = 99
MAX_PREVIOUS = 9  # schema v2: up to nine previous documents on the goods shipment
ADD_COUNTS = (1, 5, 10, 25, 50)


def trader_required(view: Callable[P, R]) -> Callable[P, R | WerkzeugResponse]:
    """Signed-in trader bound to a party; ``g.caller`` is the party it acts for."""
    @role_required("trader")
    @wraps(view)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> R | WerkzeugResponse:
        if current_user.party_id is None:
            abort(403, description="this trader account is not bound to a party")
        g.caller = portal.trader_caller(db(), current_user)
        g.actor = g.caller.actor
        return view(*args, **kwargs)
    return guarded


def caller() -> Caller:
    return g.caller


def reads_done() -> None:
    """End the request's read transaction before queueing for the write gate. On SQLite every
    transaction holds the database's write lock, so queueing while holding it would deadlock
    with the writer inside the gate (the officers' pages take the gate before any read)."""
    unit_of_work().end_reads()


# --- forms --------------------------------------------------------------------------------

class PartySubform(Form):
    name = StringField(_l("Name"), validators=[Length(max=140)])
    identifier = StringField(_l("ID (BR number or AEO id)"), validators=[Length(max=35)])
    aeo_id = StringField(_l("AEO certificate"), validators=[Length(max=35)])
    address_line = StringField(_l("Address"), validators=[Length(max=140)])
    city = StringField(_l("City"), validators=[Length(max=140)])
    country = StringField(_l("Country"), validators=[Length(max=2)])


class EquipmentSubform(Form):
    container_id = StringField(_l("Container number"))
    seals = StringField(_l("Seal numbers"))
    elock_id = StringField(_l("E-lock"))


class PreviousDocumentSubform(Form):
    """A cargo document the goods moved under (road cargo reference, bill of lading, air
    waybill): a declaration may name several, e.g. one per truck or per bill of lading."""

    previous_type = SelectField(_l("Document type"), choices=_options(PREVIOUS_CHOICES), validate_choice=False)
    previous_id = StringField(_l("Document number"))
    previous_packages = StringField(_l("Packages it covers"))


class ItemSubform(Form):
    description = TextAreaField(_l("Description"))
    hs_code = StringField(_l("HS code"))
    origin_country = StringField(_l("Origin"))
    quantity = StringField(_l("Quantity"))
    quantity_unit = SelectField(_l("Unit"), choices=[], validate_choice=False)
    net_mass = StringField(_l("Net mass"))
    net_mass_unit = SelectField(_l("Net mass unit"), choices=_options(MASS_UNITS), validate_choice=False)
    gross_mass = StringField(_l("Gross mass"))
    gross_mass_unit = SelectField(_l("Gross mass unit"), choices=_options(MASS_UNITS), validate_choice=False)
    value = StringField(_l("Customs value"))
    currency = StringField(_l("Currency"))
    package_type = SelectField(_l("Package type"), choices=[], validate_choice=False)
    package_count = StringField(_l("Packages"))
    alcohol_strength = StringField(_l("Alcohol %"))
    volume = StringField(_l("Volume"))
    volume_unit = SelectField(_l("Volume unit"), choices=_options(VOLUME_UNITS), validate_choice=False)
    stick_count = StringField(_l("Cigarette sticks"))
    length_mm = StringField(_l("Stick length (mm)"))
    documents = TextAreaField(_l("Licences and permits"))


class DeclarationForm(TranslatedForm):
    type_code = SelectField(_l("Declaration type"), choices=_options(TYPE_CHOICES), validate_choice=False)
    form_code = SelectField(_l("TDEC form"), choices=_options(FORM_CHOICES), validate_choice=False)
    lrn = StringField(_l("Local reference (LRN)"))
    ucr = StringField(_l("Unique consignment reference (UCR)"))
    issued_at = StringField(_l("Issued (Hong Kong time)"))
    declarant_aeo_id = StringField(_l("Declarant's AEO certificate"))
    importer = FormField(PartySubform)
    exporter = FormField(PartySubform)
    carrier = FormField(PartySubform)
    transport_mode = SelectField(_l("Transport mode"), choices=_options(MODE_CHOICES), validate_choice=False)
    conveyance_id = StringField(_l("Conveyance (vehicle, vessel, flight)"))
    control_point = SelectField(_l("Control point"), choices=[], validate_choice=False)
    departure_location = StringField(_l("Departure (UN/LOCODE)"))
    destination_location = StringField(_l("Destination (UN/LOCODE)"))
    movement_at = StringField(_l("Arrival / departure (Hong Kong time)"))
    equipment = FieldList(FormField(EquipmentSubform), min_entries=0, max_entries=99)
    items = FieldList(FormField(ItemSubform), min_entries=1, max_entries=999)
    agent_name = StringField(_l("Agent's name"))
    agent_id = StringField(_l("Agent's ID (BR number or AEO id)"))
    representation = SelectField(_l("Representation status"), choices=_options(REPRESENTATION_CHOICES),
                                 validate_choice=False)
    delivery_terms = StringField(_l("Delivery terms (Incoterms)"))
    delivery_place = StringField(_l("Delivery place"))
    invoice_amount = StringField(_l("Invoice amount"))
    invoice_currency = StringField(_l("Invoice currency"))
    exchange_rate = StringField(_l("Exchange rate to HKD"))
    previous = FieldList(FormField(PreviousDocumentSubform), min_entries=1, max_entries=MAX_PREVIOUS)


class UploadForm(TranslatedForm):
    document = FileField(_l("Declaration XML file"))
    amends = StringField(_l("Reference of the declaration this file amends"))


class CancelForm(TranslatedForm):
    reason = TextAreaField(_l("Reason for cancelling"), validators=[DataRequired(), Length(min=3, max=500)])


class AnswerForm(TranslatedForm):
    message = TextAreaField(_l("Message to the officer"), validators=[DataRequired(), Length(max=2000)])
    attachment = FileField(_l("Attachment (PDF, PNG or JPEG, up to 2 MB)"))


class PayForm(TranslatedForm):
    amount = StringField(_l("Amount (HKD)"), validators=[Length(max=40)])
    payment_reference = StringField(_l("Your payment reference"), validators=[Length(max=35)])


class KeyForm(TranslatedForm):
    name = StringField(_l("System name"), validators=[DataRequired(), Length(min=2, max=100)])


# --- helpers ------------------------------------------------------------------------------

def _codes() -> codelists.CodeLists:
    return services().reference.pickers


def _locale() -> str:
    return str(get_locale() or "en")


def _choices(codes: tuple[codelists.Code, ...], blank: bool = False) -> list[SelectChoice]:
    locale = _locale()
    options = [(c.code, f"{c.name(locale)} ({c.code})") for c in codes]
    return _options([("", _("choose"))] + options if blank else options)


def _prepare(form: DeclarationForm) -> DeclarationForm:
    """Fill the pickers' choices (from the code lists, in the user's language)."""
    codes = _codes()
    form.control_point.choices = _choices(codes.control_points, blank=True)
    units = _choices(codes.units)
    packages = _choices(codes.package_types, blank=True)
    for entry in form.items:
        entry.form.quantity_unit.choices = units
        entry.form.package_type.choices = packages
    return form


def _now_local() -> str:
    return utcnow().astimezone(HONG_KONG).strftime("%Y-%m-%dT%H:%M")


def new_form_data(type_code: str) -> dict[str, Any]:
    return {"type_code": type_code if type_code in ("IM", "EX", "TS") else "IM", "issued_at": _now_local(),
            "transport_mode": "3", "items": [dict(ITEM_DEFAULTS)], "equipment": [],
            "importer": {}, "exporter": {}, "carrier": {}}


def _clean(data: dict[str, Any]) -> dict[str, Any]:
    """The form's values without the CSRF token, normalised as the trader meant them."""
    return checks.normalise({k: v for k, v in data.items() if k != "csrf_token"}, _codes())


def _label(field_id: str) -> str:
    """``items-2-hs_code`` -> "Goods item 3 · HS code"."""
    parts = field_id.split("-")
    if len(parts) == 3 and parts[1].isascii() and parts[1].isdigit():
        return f"{FIELD_LABELS.get(parts[0], parts[0])} {int(parts[1]) + 1} · {FIELD_LABELS.get(parts[2], parts[2])}"
    if len(parts) == 2 and parts[1].isascii() and parts[1].isdigit():
        return f"{FIELD_LABELS.get(parts[0], parts[0])} {int(parts[1]) + 1}"
    if len(parts) == 2:
        return f"{FIELD_LABELS.get(parts[0], parts[0])} · {FIELD_LABELS.get(parts[1], parts[1])}"
    return str(FIELD_LABELS.get(field_id, field_id))


def _render_form(form: DeclarationForm, errors: checks.Errors, general: list[Message], status: int,
                 draft_id: int | None, amending: Any = None, notices: list[Message] | None = None
                 ) -> tuple[str, int]:
    codes = _codes()
    summary = [(field, _label(field), message) for field, messages in errors.items() for message in messages]
    return render_template(
        "portal/form.html", form=_prepare(form), errors=errors, general=general, summary=summary,
        draft_id=draft_id, amending=amending, party=portal.party_of(db(), caller()), codes=codes,
        locale=_locale(), notices=notices or [], add_counts=ADD_COUNTS,
    ), status


def _form_from(data: dict[str, Any]) -> DeclarationForm:
    """The form filled with ``data``; a draft saved when the form had one previous document
    (its fields at the top level) opens with it as the first row."""
    flat = {name: data.pop(name) for name in ("previous_type", "previous_id", "previous_packages") if name in data}
    if flat and not data.get("previous"):
        data["previous"] = [flat]
    return DeclarationForm(formdata=None, data=data)


def _apply_row_action(action: str, data: dict[str, Any], count: int = 1) -> bool:
    """Add/remove goods items, containers and previous documents, fill a party with the
    trader's own details.
    Returns False when ``action`` is not a row action."""
    items: list[dict[str, Any]] = data.setdefault("items", [])
    equipment: list[dict[str, Any]] = data.setdefault("equipment", [])
    kind, _sep, index = action.partition(":")
    if kind == "add_item":
        previous = items[-1] if items else ITEM_DEFAULTS
        carried = {k: previous.get(k) for k in ("origin_country", "currency") if previous.get(k)}
        for _row in range(max(0, min(count, MAX_ITEMS - len(items)))):
            items.append({**ITEM_DEFAULTS, **carried})
    elif kind == "remove_item" and (row := _row_index(index, items)) is not None:
        items.pop(row)
        if not items:
            items.append(dict(ITEM_DEFAULTS))
    elif kind == "add_equipment":
        if len(equipment) < MAX_EQUIPMENT:
            equipment.append({})
    elif kind == "remove_equipment" and (row := _row_index(index, equipment)) is not None:
        equipment.pop(row)
    elif kind == "add_previous":
        documents: list[dict[str, Any]] = data.setdefault("previous", [])
        if len(documents) < MAX_PREVIOUS:
            documents.append({})
    elif kind == "remove_previous" and (row := _row_index(index, data.setdefault("previous", []))) is not None:
        data["previous"].pop(row)
    elif kind == "fill" and index in ("importer", "exporter", "carrier"):
        party = portal.party_of(db(), caller())
        data[index] = {**(data.get(index) or {}), "name": party.name, "identifier": party.identifier}
    else:
        return False
    return True


def _row_index(index: str, rows: list[dict[str, Any]]) -> int | None:
    """The row a remove button names (``remove_item:3``), None past the last row."""
    number = params.whole_number(index, "action", 0, MAX_ITEMS)
    return number if number < len(rows) else None


def _assess(declaration: Any) -> list[Problem]:
    """Every finding of the business rules on ``declaration``, nothing stored."""
    assessed = services().lodging.assess(db(), declaration, utcnow())
    return [Problem(message=f.message_en, message_zh=f.message_zh, path=f.path, rule=f.code,
                    severity=f.severity.value) for f in assessed.findings]


def _assess_anyway(data: dict[str, Any], at_fault: set[str], function_code: str) -> list[Problem]:
    party = portal.party_of(db(), caller())
    return checks.assess_anyway(data, at_fault, (party.identifier, party.name), function_code,
                                services().lodging.receive, _assess)


def _checked_without_lodging(data: dict[str, Any], body: bytes, function_code: str
                             ) -> tuple[checks.Errors, list[Message], list[Message]]:
    """Schema and rule problems of a form that cannot be lodged yet (values are missing)."""
    try:
        received = services().lodging.receive(body)
    except Rejection as rejection:
        by_field, general, notices = checks.problems_by_field(rejection.problems, data)
        more, more_general, more_notices = checks.problems_by_field(
            _assess_anyway(data, set(by_field), function_code), data)
        return checks.merge(by_field, more), general + more_general, notices + more_notices
    return checks.problems_by_field(_assess(received.declaration), data)


PROBLEMS_KEY = "_problems"


def _invalid_characters(data: dict[str, Any]) -> checks.Errors:
    """Fields with characters a declaration cannot carry: they are removed (the form is kept
    without them) and the field says so, for the trader to check what is left."""
    return {field: [Message(_("This field held control characters a declaration cannot carry; they were "
                              "removed: check what is left."), "xml-characters")]
            for field in fields_with_invalid_characters(data)}


def _keep(data: dict[str, Any], draft_id: int | None, amending: Any, errors: checks.Errors | None = None,
          general: list[Message] | None = None, notices: list[Message] | None = None,
          anchor: str | None = None) -> WerkzeugResponse:
    """Post/redirect/get for every answer to the form that is not a lodgement: the form as
    entered (and the problems found, if any) is kept as the trader's draft, and the browser is
    sent to it. Back then never meets "Confirm Form Resubmission", a reload re-posts nothing,
    and nothing typed is lost."""
    stored = dict(data)
    if errors or general or notices:
        stored[PROBLEMS_KEY] = {
            "errors": {field: [asdict(m) for m in messages] for field, messages in (errors or {}).items()},
            "general": [asdict(m) for m in general or []], "notices": [asdict(m) for m in notices or []]}
    unit_of_work().rollback()
    reads_done()
    uow = unit_of_work().write_lock()
    draft = portal.save_draft(uow.session, caller(), stored, draft_id, amending.id if amending is not None else None)
    uow.commit()
    return redirect(url_for("portal.draft", draft_id=draft.id,
                            _anchor=anchor or ("error-summary" if errors or general else None)))


def _problems_kept(kept: Any) -> tuple[checks.Errors, list[Message], list[Message]]:
    """The problems ``_keep`` stored with a draft (none for a draft saved on purpose)."""
    if not isinstance(kept, dict):
        return {}, [], []
    return ({field: [Message(**m) for m in messages] for field, messages in kept.get("errors", {}).items()},
            [Message(**m) for m in kept.get("general", [])], [Message(**m) for m in kept.get("notices", [])])


def _declaration_form(draft_id: int | None = None, amending: Any = None) -> Any:
    """The form's one handler: new declaration, resumed draft, or amendment of ``amending``."""
    party = portal.party_of(db(), caller())
    if request.method == "GET":
        if draft_id is not None:
            data = copy.deepcopy(portal.get_draft(db(), caller(), draft_id).data)
            errors, general, notices = _problems_kept(data.pop(PROBLEMS_KEY, None))
            return _render_form(_form_from(data), errors, general, 200, draft_id, amending, notices=notices)
        elif amending is not None:
            data = form_data_from_xml(portal.latest_document(db(), amending))
        else:
            data = new_form_data(request.args.get("type", "IM"))
        return _render_form(_form_from(data), {}, [], 200, draft_id, amending)
    form = DeclarationForm()
    data = _clean(form.data)
    action = request.form.get("action", "submit")
    kind, _sep, row = action.partition(":")
    if _apply_row_action(action, data, params.form_int("add_count", 1, MAX_ITEMS) or 1):
        anchor = {"add_item": f"items-{len(data.get('items') or []) - 1}", "add_equipment": "equipment",
                  "add_previous": "previous", "remove_previous": "previous",
                  "fill": row}.get(kind, "goods" if kind == "remove_item" else "transport")
        return _keep(data, draft_id, amending, anchor=anchor)
    function_code = "13" if amending is not None else "9"
    if action == "save_draft":
        uow = unit_of_work().write_lock()
        draft = portal.save_draft(uow.session, caller(), data, draft_id, amending.id if amending is not None else None)
        uow.commit()
        flash(_("Draft saved. You can resume it from your declarations."))
        return redirect(url_for("portal.draft", draft_id=draft.id))
    if action == "download":
        invalid = _invalid_characters(data)
        if invalid:
            return _keep(without_invalid_characters(data), draft_id, amending, invalid)
        body = build_declaration(data, party.identifier, party.name, function_code)
        filename = (re.sub(r"[^0-9A-Za-z._-]", "_", str(data.get("lrn") or "").strip())[:35] or "declaration") + ".xml"
        return Response(body, mimetype="application/xml",
                        headers={"Content-Disposition": f'attachment; filename="{filename}"'})
    missing = checks.precheck(data)
    if invalid := _invalid_characters(data):
        return _keep(without_invalid_characters(data), draft_id, amending, checks.merge(invalid, missing))
    body = build_declaration(data, party.identifier, party.name, function_code)
    if missing:
        # Not lodged: but the schema and the rules are run too, so every problem shows at once.
        by_field, general, notices = _checked_without_lodging(data, body, function_code)
        return _keep(data, draft_id, amending, checks.merge(missing, by_field), general, notices)
    trader = caller()

    lodging = (pipeline.amendment(amending.id, trader, g.conversation_id) if amending is not None
               else pipeline.submission(trader, g.conversation_id))

    def store(session: Session, received: ReceivedDeclaration, assessed: Assessed, now: datetime,
              risk: RiskResult | None) -> declarations_service.Outcome:
        outcome = lodging(session, received, assessed, now, risk)
        if draft_id is not None and not outcome.replay:
            portal.delete_draft(session, trader, draft_id)
        return outcome

    uow = unit_of_work()
    try:
        reads_done()
        outcome = pipeline.lodge(uow, services().lodging, body, store,
                                 amending.id if amending is not None else None).outcome
        uow.commit()
    except Rejection as rejection:
        uow.rollback()
        by_field, general, notices = checks.problems_by_field(rejection.problems, data)
        if rejection.code == "SCHEMA_INVALID":
            more, more_general, more_notices = checks.problems_by_field(
                _assess_anyway(data, set(by_field), function_code), data)
            by_field, general, notices = checks.merge(by_field, more), general + more_general, notices + more_notices
        return _keep(data, draft_id, amending, by_field, [rejection_summary(rejection), *general], notices)
    receipt = outcome.receipt
    if outcome.replay:
        flash(_("Declaration %(id)s was already lodged with this content.", id=receipt.id))
    elif amending is not None:
        flash(_("Amendment accepted: declaration %(id)s is now version %(version)s.", id=receipt.id,
                version=receipt.version))
    else:
        flash(_("Declaration %(id)s accepted.", id=receipt.id))
    return redirect(url_for("portal.declaration", reference=receipt.id))


# --- pages --------------------------------------------------------------------------------

@bp.get("/")
@trader_required
def declarations() -> str:
    args = request.args
    filters = portal.Filters(
        status=args.get("status", "") if args.get("status") in STATUSES else "",
        lane=args.get("lane", "") if args.get("lane") in LANES else "",
        type_code=args.get("type", "") if args.get("type") in ("IM", "EX", "TS") else "",
        search=args.get("q", "")[:40], page=params.query_int("page", 1, 100_000))
    listing = portal.track(db(), caller(), filters)
    return render_template("portal/declarations.html", listing=listing, filters=filters, statuses=STATUSES,
                           lanes=LANES, drafts=portal.list_drafts(db(), caller()),
                           party=portal.party_of(db(), caller()),
                           duty=revenue_queries.duty_status_of(db(), [row.id for row in listing.rows]))


@bp.route("/declarations/new", methods=["GET", "POST"])
@trader_required
def new_declaration() -> Any:
    return _declaration_form()


@bp.route("/drafts/<id:draft_id>", methods=["GET", "POST"])
@trader_required
def draft(draft_id: int) -> Any:
    try:
        found = portal.get_draft(db(), caller(), draft_id)
    except Rejection:
        # Back to a draft that was lodged meanwhile lands here: say so, not "not found".
        return render_template("portal/error.html", code="NOT_FOUND", message=None,
                               plain=_("This draft is no longer here: it was lodged or deleted."),
                               conversation_id=g.get("conversation_id")), 404
    amending = None
    if found.declaration_id is not None:
        amending = _found(lambda: declarations_queries.get_declaration(db(), found.declaration_id or "",
                                                                       caller().party_id))
    return _declaration_form(draft_id=draft_id, amending=amending)


@bp.post("/drafts/<id:draft_id>/delete")
@trader_required
def delete_draft(draft_id: int) -> WerkzeugResponse:
    uow = unit_of_work().write_lock()
    _found(lambda: portal.delete_draft(uow.session, caller(), draft_id))
    uow.commit()
    flash(_("Draft deleted."))
    return redirect(url_for("portal.declarations"))


def _found(look_up: Callable[[], R]) -> R:
    """The looked-up object, or a 404 page (another party's object is simply not found)."""
    try:
        return look_up()
    except Rejection as rejection:
        if rejection.code in ("NOT_FOUND", "INVALID_REFERENCE"):
            abort(404, description=rejection.message)
        raise


def _declaration_row(reference: str, with_history: bool = False, with_content: bool = False) -> Any:
    return _found(lambda: declarations_queries.get_declaration(db(), reference, caller().party_id,
                                                               with_history=with_history, with_content=with_content))


FINDING_ORDER = ("reject", "hold", "warn", "info")
FINDING_TITLES = {"reject": _l("To fix"), "hold": _l("Held for an officer to check"), "warn": _l("Warnings"),
                  "info": _l("For your information")}


def _blocked(row: Any, reason: str | None, amend: bool) -> str | None:
    """Why the trader cannot amend (or cancel) now, in the trader's language."""
    if reason is None:
        return None
    if amend:
        return _("This declaration is %(status)s, so it can no longer be amended.", status=term(row.status))
    return _("This declaration is %(status)s, so it can no longer be cancelled.", status=term(row.status))


@bp.get("/declarations/<reference>")
@trader_required
def declaration(reference: str) -> str:
    row = _declaration_row(reference, with_history=True, with_content=True)
    findings = [f for f in row.findings if f.version == row.version]
    groups = [(severity, [f for f in findings if f.severity == severity]) for severity in FINDING_ORDER]
    return render_template(
        "portal/declaration.html", row=row, finding_groups=[(s, g) for s, g in groups if g],
        finding_titles=FINDING_TITLES, declared=declared(row, _codes(), _locale()),
        charges=charges_payload(row.charges) if row.charges else None,
        threads=portal.request_threads(db(), row.id), versions=portal.document_versions(db(), row),
        release=portal.release_notice(db(), row), release_message=portal.release_message(db(), row),
        amend_blocked=_blocked(row, portal.why_not_amendable(row), amend=True),
        cancel_blocked=_blocked(row, portal.why_not_cancellable(row), amend=False), cancel_form=CancelForm(),
        answer_form=AnswerForm(), notifications=lifecycle.of_declaration(db(), row.declarant_party_id, row.id),
        notification_kinds=NOTIFICATION_KINDS,
        duty=revenue_queries.statement(db(), row.id, caller().party_id), pay_form=PayForm(), locale=_locale())


@bp.route("/declarations/<reference>/amend", methods=["GET", "POST"])
@trader_required
def amend(reference: str) -> Any:
    row = _declaration_row(reference)
    blocked = _blocked(row, portal.why_not_amendable(row), amend=True)
    if blocked:
        flash(blocked, "error")
        return redirect(url_for("portal.declaration", reference=row.id))
    return _declaration_form(amending=row)


@bp.get("/declarations/<reference>/documents/<id:version>")
@trader_required
def document(reference: str, version: int) -> Response:
    row = _declaration_row(reference)
    body = portal.document_body(db(), row, version)
    if body is None:
        abort(404)
    return Response(body, mimetype="application/xml", headers={
        "Content-Disposition": f'attachment; filename="{row.id}-v{version}.xml"'})


@bp.get("/declarations/<reference>/release-notice")
@trader_required
def release_notice(reference: str) -> Response:
    row = _declaration_row(reference)
    message = portal.release_message(db(), row)
    if message is None:
        abort(404, description=f"no release notice for {row.id}")
    extension = "json" if "json" in message.content_type else "xml"
    return Response(bytes(message.body), mimetype=message.content_type, headers={
        "Content-Disposition": f'attachment; filename="{row.id}-release-notice.{extension}"'})


@bp.post("/declarations/<reference>/cancel")
@trader_required
def cancel(reference: str) -> Any:
    row = _declaration_row(reference)
    form = CancelForm()
    try:
        reason = require_text_reason(form.reason.data)
        reads_done()
        uow = unit_of_work().write_lock()
        declarations_service.cancel(uow.session, row.id, reason, caller(), g.conversation_id)
        uow.commit()
    except Rejection as rejection:
        unit_of_work().rollback()
        reasons = [problem_message(p).text for p in rejection.problems] or [rejection_summary(rejection).text]
        flash(_("Not cancelled: %(reason)s", reason=" ".join(reasons)), "error")
        return redirect(url_for("portal.declaration", reference=row.id, _anchor="actions-title"))
    flash(_("Declaration %(id)s cancelled.", id=row.id))
    return redirect(url_for("portal.declaration", reference=row.id))


@bp.post("/declarations/<reference>/duty/pay")
@trader_required
def pay_duty(reference: str) -> Any:
    """Pay the duty due through the payment step (``services().payments``); the receipt follows."""
    row = _declaration_row(reference)
    form = PayForm()
    try:
        if not form.validate():
            raise Rejection("INVALID_PARAMETER", _("The form expired or is incomplete; try again."))
        reads_done()
        uow = unit_of_work().write_lock()
        recorded = revenue.pay(uow.session, row.id, caller(), form.amount.data or "",
                               form.payment_reference.data or "", services().payments)
        uow.commit()
    except Rejection as rejection:
        unit_of_work().rollback()
        problem = rejection.problems[0] if rejection.problems else None
        words = problem.message_zh if problem and problem.message_zh and _locale() == "zh_Hant" else rejection.message
        flash(_("Not paid: %(reason)s", reason=words))
        return redirect(url_for("portal.declaration", reference=row.id, _anchor="duty"))
    flash(_("Payment recorded: receipt %(receipt)s.", receipt=recorded.payment.receipt_number))
    return redirect(url_for("portal.receipt", number=recorded.payment.receipt_number))


@bp.get("/receipts/<number>")
@trader_required
def receipt(number: str) -> str:
    payment, demand = _found(lambda: revenue_queries.receipt(db(), number, caller().party_id))
    return render_template("portal/receipt.html", payment=payment, demand=demand,
                           party=portal.party_of(db(), caller()))


@bp.post("/declarations/<reference>/requests/<id:request_id>/answer")
@trader_required
def answer(reference: str, request_id: int) -> Any:
    """The answer's problems are shown inside the request they belong to (the page opens
    there), not at the top of the page."""
    row = _declaration_row(reference)
    form = AnswerForm()
    upload = form.attachment.data
    content = upload.read(portal.MAX_ATTACHMENT_BYTES + 1) if upload else None
    try:
        reads_done()
        uow = unit_of_work().write_lock()
        _found(lambda: portal.answer_request(uow.session, caller(), row.id, request_id, form.message.data or "",
                                             upload.filename if upload else None, content))
        uow.commit()
    except Rejection as rejection:
        unit_of_work().rollback()
        for message in [problem_message(p) for p in rejection.problems] or [rejection_summary(rejection)]:
            flash(message.text, f"request-{request_id}")
        return redirect(url_for("portal.declaration", reference=row.id, _anchor=f"request-{request_id}"))
    flash(_("Answer sent to the officer."))
    return redirect(url_for("portal.declaration", reference=row.id, _anchor=f"request-{request_id}"))


@bp.get("/declarations/<reference>/answers/<id:answer_id>/attachment")
@trader_required
def attachment(reference: str, answer_id: int) -> Response:
    row = _declaration_row(reference)
    found = _found(lambda: portal.get_attachment(db(), caller(), row.id, answer_id))
    return Response(found.content, mimetype=found.content_type or "application/octet-stream", headers={
        "Content-Disposition": attachment_disposition(found.filename), "Cache-Control": "private, no-store"})


def _source_lines(body: bytes, problems: list[Problem]) -> dict[int, str]:
    """The uploaded document's lines that problems point at, for the readable report."""
    lines = body.decode("utf-8", errors="replace").splitlines()
    wanted = {p.line for p in problems if p.line}
    return {n: lines[n - 1].strip()[:200] for n in sorted(wanted) if 0 < n <= len(lines)}


#: The refused file's report is kept in the session cookie (about 4 KB in all) for the page the
#: refusal redirects to: problems are kept while they fit this many compressed bytes.
UPLOAD_REPORT_BYTES = 2200


def _upload_refused(form: UploadForm, rejection: Rejection, body: bytes) -> WerkzeugResponse:
    """The refused file's problems as a table on the upload page (post/redirect/get): the field
    each is about (by its label), what is wrong in plain words; line, rule and path folded in a
    details element. As many problems as the session can carry are kept; the page says how
    many more there were."""
    lines = _source_lines(body, rejection.problems)
    rows: list[dict[str, Any]] = []
    for problem in rejection.problems:
        field = field_for_path(problem.path)
        if field is not None and is_schema_problem(problem):
            field = refine_field(field, problem)
            message = schema_message(field, problem)
        elif problem.severity in ("hold", "warn", "info"):
            message = finding_message(problem)
        else:
            message = problem_message(problem)
        row = {"severity": problem.severity or "reject", "line": problem.line,
               "label": _label(field) if field else None, "message": str(message), "rule": problem.rule,
               "path": problem.path,
               "source": lines.get(problem.line) if problem.line else None}
        if len(zlib.compress(json.dumps(rows + [row], ensure_ascii=False).encode())) > UPLOAD_REPORT_BYTES:
            break
        rows.append(row)
    keep("portal.upload", 422, code=rejection.code, summary=str(rejection_summary(rejection)), problems=rows,
         more=len(rejection.problems) - len(rows), file=(form.document.data.filename or "")[:120]
         if form.document.data else "", amends=(form.amends.data or "")[:16])
    return see_other(url_for("portal.upload", _anchor="error-summary"))


@bp.route("/upload", methods=["GET", "POST"])
@trader_required
def upload() -> Any:
    form = UploadForm()
    if request.method == "GET":
        report = kept("portal.upload")
        if report:
            form.amends.data = report.get("amends") or ""
        return render_template("portal/upload.html", form=form, report=report), (report or {}).get("status", 200)
    uploaded = form.document.data
    if not uploaded:
        rejection = Rejection("NO_FILE", _("Choose the declaration XML file to upload."),
                              [Problem(message=_("no file chosen"), path="document", rule="file-required")])
        return _upload_refused(form, rejection, b"")
    body = uploaded.read()
    amends = (form.amends.data or "").strip().upper()
    trader = caller()

    store = (pipeline.amendment(amends, trader, g.conversation_id) if amends
             else pipeline.submission(trader, g.conversation_id))
    uow = unit_of_work()
    try:
        reads_done()
        outcome = pipeline.lodge(uow, services().lodging, body, store, amends or None).outcome
        uow.commit()
    except Rejection as rejection:
        uow.rollback()
        return _upload_refused(form, rejection, body)
    flash(_("Declaration %(id)s accepted from %(file)s.", id=outcome.receipt.id, file=uploaded.filename))
    return redirect(url_for("portal.declaration", reference=outcome.receipt.id))


@bp.route("/keys", methods=["GET", "POST"])
@trader_required
def keys() -> Any:
    """Post/redirect/get: a created key is shown once on the page the POST redirects to (kept
    in the session until then), so reloading never creates a second key."""
    form = KeyForm()
    if request.method == "POST":
        try:
            uow = unit_of_work().write_lock()
            client, new_key = api_clients.create_key(uow.session, caller(), form.name.data or "")
            uow.commit()
        except Rejection as rejection:
            unit_of_work().rollback()
            keep_form("portal.keys", form, errors={"name": [
                str(m) for m in [problem_message(p) for p in rejection.problems] or [rejection_summary(rejection)]]})
            return see_other(url_for("portal.keys", _anchor="name"))
        session["new_key"] = {"id": client.id, "key": new_key}
        flash(_("API key “%(name)s” created.", name=client.name))
        return redirect(url_for("portal.keys", _anchor="new-key-card"))
    status = restore_form(form, kept("portal.keys"))
    created = session.pop("new_key", None)
    return render_template("portal/keys.html", form=form, new_key=created["key"] if created else None,
                           new_key_id=created["id"] if created else None,
                           clients=api_clients.list_keys(db(), caller()), revoke_form=TranslatedForm()), status


@bp.post("/keys/<id:client_id>/revoke")
@trader_required
def revoke_key(client_id: int) -> WerkzeugResponse:
    uow = unit_of_work().write_lock()
    client = _found(lambda: api_clients.revoke_key(uow.session, caller(), client_id))
    after_commit(uow.session, services().api_keys.clear)  # this worker refuses the key at once
    uow.commit()
    flash(_("API key “%(name)s” (starting %(prefix)s) revoked.", name=client.name, prefix=client.key_prefix))
    return redirect(url_for("portal.keys"))


@bp.get("/codes/hs")
@trader_required
def hs_codes() -> Any:
    """HS code search by code or everyday words in English or Chinese (best match first):
    JSON for scripts (``format=json``), a page otherwise (with related HS 2022 subheadings)."""
    query = request.args.get("q", "")[:60]
    found = _codes().search_hs(query, limit=50)
    locale = _locale()
    if request.args.get("format") == "json":
        return jsonify([{"code": c.code, "name": c.name(locale)} for c in found])
    return render_template("portal/hs_codes.html", query=query, found=found, locale=locale,
                           subheadings=_codes().search_subheadings(query))


@bp.errorhandler(403)
@bp.errorhandler(404)
@bp.errorhandler(413)
@bp.errorhandler(CSRFError)
def page_error(exc: HTTPException) -> tuple[str, int]:
    """Errors of the portal's pages as pages (the API keeps its XML/JSON envelope)."""
    code = {403: "FORBIDDEN", 404: "NOT_FOUND", 413: "BODY_TOO_LARGE"}.get(exc.code or 400, "CSRF_INVALID")
    return render_template("portal/error.html", code=code, message=None,
                           plain=page_error_message(exc.code),
                           conversation_id=g.get("conversation_id")), exc.code or 400


def install(app: Flask) -> None:
    """Register ``/trader`` (its messages are in the application's one catalogue), and send a
    trader who signs in without a destination to the portal, not the case queue."""
    app.register_blueprint(bp)

    @app.before_request
    def traders_home() -> WerkzeugResponse | None:
        if (request.endpoint == "officer.queue" and current_user.is_authenticated
                and getattr(current_user, "role", None) == "trader"):
            return redirect(url_for("portal.declarations"))
        return None
