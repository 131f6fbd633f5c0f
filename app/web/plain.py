"""Plain-language messages for people, in their language.

The intake, the rules and the services say what is wrong in machine terms (a rejection
code, a schema rule such as ``xsd:pattern``, an element path, a rule number). The API keeps
those. Pages show what this module makes of them: the field named by its label, what is
wrong with the value entered, and what is accepted -- in English or Traditional Chinese.
The machine code and path stay available in a ``details`` element (``Message.rule`` and
``Message.path``).
"""
from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import current_app, has_app_context
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.domain.cases import CaseRuleError
from app.domain.problems import Problem, Rejection
from app.web.labels import LANES, term


@dataclass(frozen=True, slots=True)
class Message:
    """One message for a person; ``rule`` and ``path`` are the machine's words for it."""

    text: str
    rule: str | None = None
    path: str | None = None
    severity: str | None = None

    def __str__(self) -> str:
        return self.text

    def __html__(self) -> str:  # rendered as text, escaped by Jinja
        from markupsafe import escape  # noqa: PLC0415 - markupsafe comes with Jinja

        return str(escape(self.text))


def _zh() -> bool:
    return str(get_locale() or "en") == "zh_Hant"


# What each form field accepts, by the field's own name (the last part of its id, so
# ``items-3-hs_code`` and ``hs_code`` read the same). Generic: a new form version adds names.
ACCEPTED: dict[str, Any] = {
    "hs_code": _l("8 digits, for example 84713000"),
    "origin_country": _l("a two-letter country code such as CN (China) or JP (Japan), or the country's name"),
    "country": _l("a two-letter country code such as CN (China) or JP (Japan), or the country's name"),
    "currency": _l("a three-letter currency code such as HKD or USD"),
    "control_point": _l("a control point from the list"),
    "departure_location": _l("a five-character UN/LOCODE such as CNSZX (Shenzhen) or HKHKG (Hong Kong)"),
    "destination_location": _l("a five-character UN/LOCODE such as CNSZX (Shenzhen) or HKHKG (Hong Kong)"),
    "container_id": _l("4 letters then 7 digits (ISO 6346), for example CSQU3054383"),
    "seals": _l("seal numbers of capital letters, digits and hyphens, separated by spaces"),
    "elock_id": _l("the e-lock number: capital letters, digits and hyphens"),
    "conveyance_id": _l("the vehicle, vessel or flight: capital letters, digits, spaces and hyphens, "
                        "for example ZA1234"),
    "lrn": _l("up to 35 letters, digits and - _ / . starting with a letter or digit, for example PO-2026-0042"),
    "ucr": _l("up to 35 capital letters, digits, hyphens and brackets"),
    "identifier": _l("an 8-digit BR number, or an AEO id: a country code and 4 to 33 letters or digits"),
    "aeo_id": _l("an AEO id: a country code and 4 to 33 letters or digits, for example HKAEO00012"),
    "declarant_aeo_id": _l("an AEO id: a country code and 4 to 33 letters or digits, for example HKAEO00012"),
    "quantity": _l("a number greater than 0, for example 100"),
    "net_mass": _l("a number greater than 0, for example 20.5"),
    "gross_mass": _l("a number greater than 0, for example 24.5"),
    "volume": _l("a number greater than 0, for example 0.75"),
    "length_mm": _l("a number greater than 0, for example 84"),
    "value": _l("an amount of 0 or more, for example 1200.00"),
    "alcohol_strength": _l("a percentage from 0 to 100, for example 40"),
    "package_count": _l("a whole number greater than 0"),
    "stick_count": _l("a whole number greater than 0"),
    "issued_at": _l("a date and time, for example 2026-12-31 10:00"),
    "movement_at": _l("a date and time, for example 2026-12-31 10:00"),
    "description": _l("a description of 1 to 512 characters"),
    "name": _l("a name of 1 to 140 characters"),
    "address_line": _l("an address of 1 to 140 characters"),
    "city": _l("a city of 1 to 140 characters"),
    "documents": _l("one document per line: its type code, a space and its number, for example DC DC-2026-000123"),
    "package_type": _l("a package type from the list"),
    "quantity_unit": _l("a unit from the list"),
    "type_code": _l("import, export or transhipment"),
    "transport_mode": _l("a transport mode from the list"),
    "form_code": _l("a TDEC form from the list"),
    "agent_name": _l("a name of 1 to 140 characters"),
    "agent_id": _l("an 8-digit BR number, or an AEO id: a country code and 4 to 33 letters or digits"),
    "representation": _l("a representation status from the list"),
    "delivery_terms": _l("a three-letter Incoterms code such as CIF or FOB"),
    "delivery_place": _l("a five-character UN/LOCODE such as CNSZX (Shenzhen) or HKHKG (Hong Kong)"),
    "invoice_amount": _l("an amount of 0 or more, for example 1200.00"),
    "invoice_currency": _l("a three-letter currency code such as HKD or USD"),
    "exchange_rate": _l("Hong Kong dollars for one unit of the invoice currency, for example 7.8"),
    "previous_type": _l("a document type from the list"),
    "previous_id": _l("the document's number: letters, digits and - _ / ., for example CSLYTNHKG2611081"),
    "previous_packages": _l("a whole number greater than 0"),
}
_ATTRIBUTE_FIELDS = {"currencyID": "currency", "unitCode": "quantity_unit"}
_FOUND = re.compile(r"\(found '(?P<value>.*)'\)\s*$")
_INVALID_VALUE = re.compile(r"invalid (?:value|datetime string) '(?P<value>[^']*)'", re.IGNORECASE)
_ATTRIBUTE = re.compile(r"attribute (?P<name>\w+)='(?P<value>[^']*)'")


def field_name(field_id: str) -> str:
    """``items-3-hs_code`` -> ``hs_code``; ``importer-country`` -> ``country``."""
    return field_id.rsplit("-", 1)[-1]


def refine_field(field_id: str, problem: Problem) -> str:
    """A problem with an attribute of a field's element (the value's currency, the quantity's
    unit) belongs to the field that holds the attribute."""
    match = _ATTRIBUTE.search(problem.message)
    if match and match.group("name") in _ATTRIBUTE_FIELDS:
        attribute_field = _ATTRIBUTE_FIELDS[match.group("name")]
        if attribute_field == "currency" and field_name(field_id) == "invoice_amount":
            return "invoice_currency"
        if attribute_field == "quantity_unit" and field_name(field_id) in ("net_mass", "gross_mass", "volume"):
            attribute_field = f"{field_name(field_id)}_unit"
        prefix = field_id.rsplit("-", 1)[0] if "-" in field_id else ""
        return f"{prefix}-{attribute_field}" if prefix else attribute_field
    return field_id


def _value_in(problem: Problem) -> str | None:
    for pattern in (_ATTRIBUTE, _FOUND, _INVALID_VALUE):
        match = pattern.search(problem.message)
        if match:
            return match.group("value")
    return None


def schema_message(field_id: str, problem: Problem, entered: str | None = None) -> Message:
    """A schema problem about one form field in plain words: what is wrong with the value
    entered, and what the field accepts."""
    value = entered if entered is not None else _value_in(problem)
    value = (value or "").strip()
    accepted = ACCEPTED.get(field_name(field_id))
    rule = problem.rule or ""
    if not value:
        text = _("This is required.")
    elif rule in ("xsd:minExclusive", "xsd:minInclusive"):
        text = _("“%(value)s” is too small.", value=value[:60])
    elif rule in ("xsd:maxExclusive", "xsd:maxInclusive"):
        text = _("“%(value)s” is too large.", value=value[:60])
    elif rule == "xsd:maxLength":
        text = _("This is too long.")
    elif rule in ("xsd:totalDigits", "xsd:fractionDigits"):
        text = _("“%(value)s” has too many digits.", value=value[:60])
    elif rule == "xsd:unique":
        text = _("“%(value)s” is entered twice.", value=value[:60])
    else:
        text = _("“%(value)s” is not accepted here.", value=value[:60])
    if accepted is not None:
        text = _("%(problem)s Enter %(accepted)s.", problem=text, accepted=accepted)
    return Message(text, problem.rule, problem.path, problem.severity)


def finding_message(problem: Problem) -> Message:
    """A business-rule finding: the rule pack's own sentence, in the reader's language (the
    rule number goes to the details)."""
    text = problem.message_zh if _zh() and problem.message_zh else problem.message
    return Message(text, problem.rule, problem.path, problem.severity)


def is_schema_problem(problem: Problem) -> bool:
    return bool(problem.rule and problem.rule.startswith("xsd:"))


REJECTION_SUMMARIES: dict[str, Any] = {
    "SCHEMA_INVALID": _l("Some entries are missing or not in the form the declaration needs; nothing was lodged."),
    "RULES_REJECTED": _l("The declaration breaks the rules listed below; nothing was lodged."),
    "XML_MALFORMED": _l("The file is not a readable XML document."),
    "XML_FORBIDDEN": _l("The file uses XML features this service refuses for safety (such as entities)."),
    "ENCODING_INVALID": _l("The file's characters are not valid UTF-8 text."),
    "EMPTY_BODY": _l("The file is empty."),
    "UNKNOWN_SCHEMA": _l("The file is not a declaration this service knows (unknown XML namespace)."),
    "DUPLICATE_LRN": _l("You already lodged a different declaration with this local reference (LRN); nothing was "
                        "lodged."),
    "LRN_MISMATCH": _l("An amendment keeps the declaration's local reference (LRN)."),
    "DECLARANT_MISMATCH": _l("The declarant must be your own company."),
    "WRONG_FUNCTION_CODE": _l("A new declaration has FunctionCode 9; an amendment has FunctionCode 13 and names the "
                              "declaration it amends."),
    "AMENDMENT_NOT_ALLOWED": _l("This declaration can no longer be amended."),
    "CANCELLATION_NOT_ALLOWED": _l("This declaration can no longer be cancelled."),
    "NOT_FOUND": _l("There is no such declaration among your company's."),
    "INVALID_REFERENCE": _l("That is not a declaration reference: it looks like HK26D followed by 11 letters "
                            "or digits."),
    "BODY_TOO_LARGE": _l("The file is too large."),
    "VALUE_OUT_OF_RANGE": _l("A number or date is outside what the service can record."),
    "REASON_REQUIRED": _l("Give a reason of 3 to 500 characters."),
    "INVALID_ANSWER": _l("The answer cannot be sent as it is."),
    "NO_FILE": _l("Choose the declaration XML file to upload."),
    "TRANSIT_REJECTED": _l("The transhipment cannot travel under e-lock as declared; nothing was lodged."),
    "INVALID_PARAMETER": _l("A value is not accepted."),
}


def _match(pattern: str, problem: Problem) -> dict[str, str]:
    found = re.search(pattern, problem.message)
    return found.groupdict() if found else {}


# Problems of the lodging steps after the schema (storage, e-lock transit), by rule: their
# own messages are English for the API; here they are said in the reader's language.
_RULE_PROBLEMS: dict[str, Callable[[Problem], str]] = {
    "lrn-unique-per-declarant": lambda p: _(
        "You already used this LRN for declaration %(id)s: use a new LRN, or amend that declaration.",
        id=_match(r"declaration (?P<id>\S+)", p).get("id", "")),
    "amendment-same-lrn": lambda p: _("An amendment keeps the declaration's LRN (%(lrn)s).",
                                      lrn=_match(r"expected (?P<lrn>\S+)", p).get("lrn", "")),
    "declarant-is-client-party": lambda p: _("The declarant must be your company (%(id)s).",
                                             id=_match(r"expected (?P<id>\S+)", p).get("id", "")),
    "function-code": lambda p: _("Use FunctionCode 9 for a new declaration and 13 for an amendment."),
    "approved-route": lambda p: _("There is no approved e-lock route between these places through this control "
                                  "point. Approved routes: %(routes)s.",
                                  routes=_match(r"approved: (?P<routes>.*)$", p).get("routes", "")),
    "vehicle-registered": lambda p: _("Vehicle %(mark)s is not registered for the e-lock scheme.",
                                      mark=_match(r"vehicle (?P<mark>.*) is not", p).get("mark", "")),
    "elock-registered": lambda p: _("E-lock %(id)s is not registered.",
                                    id=_match(r"e-lock (?P<id>\S+)", p).get("id", "")),
    "elock-available": lambda p: _("E-lock %(id)s is not available: it is in use on another journey or out of "
                                   "service.", id=_match(r"e-lock (?P<id>\S+)", p).get("id", "")),
    "elock-one-journey": lambda p: _("E-lock %(id)s is named twice: each container needs its own e-lock.",
                                     id=_match(r"e-lock (?P<id>\S+)", p).get("id", "")),
}


def lodging_message(problem: Problem) -> Message:
    """A problem raised when lodging, after the schema: said plainly when known."""
    plain = _RULE_PROBLEMS.get(problem.rule or "")
    if plain is not None:
        return Message(plain(problem), problem.rule, problem.path, problem.severity)
    return finding_message(problem)


def rejection_summary(rejection: Rejection) -> Message:
    """One sentence saying what happened, for the top of the error summary."""
    found = REJECTION_SUMMARIES.get(rejection.code)
    if found is not None:
        return Message(str(found), rejection.code)
    return Message(_("The declaration was not accepted."), rejection.code)


# --- problems outside forms (answers, cancellations, key names) ---------------------------

_SIMPLE_PROBLEMS: dict[str, Any] = {
    "message-length": _l("Write a message of 1 to 2,000 characters."),
    "attachment-size": _l("The attachment is larger than 2 MB: attach a smaller file."),
    "attachment-type": _l("Attach a PDF, PNG or JPEG file."),
    "reason-length": _l("Give a reason of 3 to 500 characters."),
    "name-length": _l("Name the system in 2 to 100 characters."),
    "name-taken": _l("A live key already has this name: choose another name, or revoke that key first."),
    "file-required": _l("Choose the declaration XML file to upload."),
}


def problem_message(problem: Problem) -> Message:
    """A problem with a simple field (not the declaration form) in plain words."""
    found = _SIMPLE_PROBLEMS.get(problem.rule or "")
    if found is not None:
        return Message(str(found), problem.rule, problem.path)
    if is_schema_problem(problem):
        return schema_message(problem.path or "", problem)
    return lodging_message(problem)


# --- officers' case rules -------------------------------------------------------------------

_CASE_RULES: dict[str, Callable[[CaseRuleError], str]] = {
    "ALREADY_CLAIMED": lambda e: _("Another officer claimed this case a moment ago: %(holder)s.",
                                   holder=getattr(e, "holder", "")),
    "NOT_CLAIMABLE": lambda e: _("This case cannot be claimed now: it is no longer open."),
    "NOT_YOUR_CASE": lambda e: _("Claim the case first: only the officer holding it can do this."),
    "NOT_RELEASABLE": lambda e: _("This case cannot go back to the queue while it waits for documents or an "
                                  "inspection."),
    "CASE_CLOSED": lambda e: _("The case is closed."),
    "REASON_REQUIRED": lambda e: _("Reason: give a reason for this decision."),
    "UNKNOWN_OFFICER": lambda e: _("Assign to: choose an active officer from the list."),
    "DECLARATION_CHANGED": lambda e: _("The trader amended the declaration after you opened it: review the new "
                                       "version, then decide again."),
    "NO_INSPECTION": lambda e: _("Order a physical inspection before recording its outcome."),
    "AMOUNT_INVALID": lambda e: _("Revenue recovered: enter an amount of 0 or more; with no discrepancy it "
                                  "must be 0."),
    "NOTE_EMPTY": lambda e: _("Note: write the note first."),
    "NOTE_TOO_LONG": lambda e: _("Note: at most 4,000 characters."),
    "DECISION_NOT_ALLOWED": lambda e: _("That decision is not possible in the case's present state."),
    "LANE_INVALID": lambda e: _("New lane: choose green, yellow or red."),
    "LANE_UNCHANGED": lambda e: _("New lane: the case is already in that lane; choose another."),
    "SEARCH_NAME_INVALID": lambda e: _("Name: give the filter a name of 1 to 60 characters."),
    "SEARCH_TOO_LONG": lambda e: _("The filter is too long to save."),
    "TOO_MANY_SEARCHES": lambda e: _("You have 50 saved filters: delete one first."),
}


def case_rule_message(error: CaseRuleError) -> str:
    """An officer's refused action, said plainly in the officer's language."""
    plain = _CASE_RULES.get(error.code)
    if plain is not None:
        return plain(error)
    return error.message


__all__ = ["ACCEPTED", "Message", "case_rule_message", "field_name", "finding_message", "is_schema_problem",
           "lodging_message", "problem_message", "refine_field", "rejection_summary", "schema_message"]


# --- stored notes and charge explanations -------------------------------------------------

def _lane(code: str) -> str:
    return term(code, LANES)


def _held_reason(reason: str) -> str:
    reason = reason.strip()
    if reason == "the seal was opened or tampered with en route":
        return _("the seal was opened or tampered with on the way")
    if reason == "risk scoring put the declaration in the red lane":
        return _("risk scoring put the declaration in the red lane")
    if match := re.fullmatch(r"the journey raised alerts \((?P<kinds>.*)\)", reason):
        return _("the journey raised alerts: %(kinds)s",
                 kinds=", ".join(term(kind.strip()) for kind in match.group("kinds").split(",")))
    return reason


def _held(match: re.Match[str]) -> str:
    return _("Held for officers: %(reasons)s.", reasons="; ".join(
        _held_reason(reason) for reason in match.group("reasons").split(";")))


_GENERATED_NOTES: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    (re.compile(r"^physical inspection ordered$"), lambda m: _("Physical inspection ordered.")),
    (re.compile(r"^documents requested: (?P<documents>.*) \((?P<reason>.*)\)$", re.DOTALL),
     lambda m: _("Documents requested: %(documents)s.", documents=m.group("documents"))
     + (" " + m.group("reason") if m.group("reason").strip() else "")),
    (re.compile(r"^lane (?P<before>\w+) -> (?P<after>\w+): (?P<reason>.*)$", re.DOTALL),
     lambda m: _("Lane changed from %(before)s to %(after)s.", before=_lane(m.group("before")),
                 after=_lane(m.group("after"))) + (" " + m.group("reason") if m.group("reason").strip() else "")),
    (re.compile(r"^re-routed to the green lane: (?P<reason>.*)$", re.DOTALL),
     lambda m: _("Re-routed to the green lane.") + (" " + m.group("reason") if m.group("reason").strip() else "")),
    (re.compile(r"^held for officers: (?P<reasons>.*)$", re.DOTALL), _held),
    (re.compile(r"^released without re-inspection under mutual recognition .*?: sealed by partner customs at "
                r"(?P<origin>\w+), arrived at (?P<destination>\w+) with the seal intact and no alerts.*$", re.DOTALL),
     lambda m: _("Released without re-inspection under mutual recognition: sealed by partner customs at "
                 "%(origin)s, arrived at %(destination)s with the seal intact and no alerts.",
                 origin=m.group("origin"), destination=m.group("destination"))),
    (re.compile(r"^released: sealed at (?P<origin>\w+), arrived at (?P<destination>\w+) with the seal intact and "
                r"no alerts.*$", re.DOTALL),
     lambda m: _("Released: sealed at %(origin)s, arrived at %(destination)s with the seal intact and no alerts.",
                 origin=m.group("origin"), destination=m.group("destination"))),
    (re.compile(r"^journey (?P<journey>\S+): (?P<note>.*)$", re.DOTALL),
     lambda m: _("E-lock journey %(journey)s: %(note)s", journey=m.group("journey"), note=m.group("note"))),
]


def event_note(note: str | None) -> str:
    """A history note: the system's own wording said in the reader's language; a person's
    own words (a reason, a note) as written."""
    if not note:
        return ""
    for pattern, plain in _GENERATED_NOTES:
        match = pattern.match(note)
        if match:
            return plain(match)
    return note


# How charges were reached, and risk reasons, AEO effects and e-lock alerts: the services write
# English sentences; Chinese readers get them phrase by phrase (amounts, dates and codes
# unchanged), by the tables of ``phrases_zh.toml``.
_PHRASES_ZH: dict[str, list[list[str]]] = tomllib.loads(
    Path(__file__).with_name("phrases_zh.toml").read_text(encoding="utf-8"))


def _compiled(table: str) -> list[tuple[re.Pattern[str], str]]:
    """One table of ``phrases_zh.toml`` (English pattern, Chinese replacement), in its order."""
    return [(re.compile(pattern), replacement) for pattern, replacement in _PHRASES_ZH[table]]


_CHARGE_PHRASES_ZH = _compiled("charges")
_RISK_PHRASES_ZH = _compiled("risk")


def charge_text(text: str | None) -> str:
    """A charge line's base or rate (or a charges note) in the reader's language."""
    if not text or not _zh():
        return text or ""
    for pattern, replacement in _CHARGE_PHRASES_ZH:
        text = pattern.sub(replacement, text)
    return text


def risk_text(text: str | None) -> str:
    """A risk reason or alert message (the risk and transit modules write English): the
    Chinese reader gets its fixed phrases translated, data values unchanged."""
    if not text or not _zh():
        return text or ""
    for pattern, replacement in _data_phrases_zh():
        text = pattern.sub(replacement, text)
    for pattern, replacement in _RISK_PHRASES_ZH:
        text = pattern.sub(replacement, text)
    return text


def _data_phrases_zh() -> list[tuple[re.Pattern[str], str]]:
    """The risk analysts' reasons (``rules/risk/*.csv``) with their Chinese, longest first, as
    whole phrases; none when the risk module is not loaded."""
    engine = current_app.extensions["csw"].reference.risk if has_app_context() else None
    if engine is None:
        return []
    phrases: dict[str, str] = engine.factors.phrases_zh
    key = hash(frozenset(phrases.items()))
    if _DATA_PHRASES.get("key") != key:
        _DATA_PHRASES.clear()
        _DATA_PHRASES.update(key=key, compiled=[
            (re.compile(r"(?<![\w-])" + re.escape(english) + r"(?![\w-])"), chinese.replace("\\", r"\\"))
            for english, chinese in sorted(phrases.items(), key=lambda pair: len(pair[0]), reverse=True)])
    compiled: list[tuple[re.Pattern[str], str]] = _DATA_PHRASES["compiled"]
    return compiled


_DATA_PHRASES: dict[str, Any] = {}


def aeo_reason(text: str | None) -> str:
    """An AEO effect explained (the AEO module writes English)."""
    return risk_text(text)


def account_message(field: str, message: str) -> str:
    """An account change refused (``app.users.service.AccountError``), said plainly."""
    if field == "username":
        if "taken" in message:
            return _("Username: this username is taken; choose another.")
        return _("Username: 2 to 60 characters: lower-case letters, digits, “.”, “_” or “-”, starting with a "
                 "letter.")
    if field == "password":
        return _("Password: at least 10 characters.")
    if field == "reason":
        return _("Reason: say why the account is changed (it is kept on the account's history).")
    if field == "party":
        if "no party" in message:
            return _("Company's BR number: no company with this number is known.")
        return _("Company's BR number: a trader account needs its company's BR number; officers' accounts have "
                 "none.")
    if field == "role":
        if "already" in message:
            return _("Role: the account already has this role.")
        return _("Role: roles change only among officer, supervisor and administrator.")
    if field == "active":
        if "last active administrator" in message:
            return _("The last active administrator cannot be deactivated or given another role.")
        if "their own account" in message:
            return _("Administrators cannot deactivate their own account.")
        if "already" in message:
            return _("The account is already in that state.")
    return message


def page_error_message(status: int | None) -> str:
    """What a refused page says (its technical description goes to the details)."""
    messages = {
        400: _("The request could not be understood: go back and try again."),
        403: _("This page is not for your account."),
        404: _("There is no such page or record, or it belongs to another company."),
        409: _("This was changed by someone else meanwhile: reload the page and try again."),
        413: _("The file is too large."),
        422: _("Some of what was sent is not accepted."),
    }
    return messages.get(status or 400, messages[400])


def own_description(exc: Any) -> str | None:
    """An error's description when the page wrote it (in the reader's language), not a web
    framework default nor a role check's English."""
    description = getattr(exc, "description", None)
    if not description or getattr(exc, "code", None) == 403 or description == type(exc).description:
        return None
    return str(description)
