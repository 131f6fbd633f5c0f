"""The declaration form's checks, in one round and in plain words.

Before lodging: the form's values are normalised as a person means them (codes in capitals,
a country's name to its code, a day-first date to ISO), then missing values are named. The
problems of every step -- required fields, the schema, the business rules -- are shown
together: when the document breaks the schema, the values at fault are replaced by harmless
stand-ins and the document is assessed anyway, so a trader also sees the rule findings of
everything else instead of meeting them in a later round. Findings about anything replaced
are left out (they would be about the stand-ins).
"""
from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from lxml import etree

from app.domain.problems import Problem, Rejection
from app.portal.codelists import CodeLists
from app.portal.document import build_declaration, field_for_path, fields_with_invalid_characters, item_present
from app.web.plain import (
    Message,
    finding_message,
    is_schema_problem,
    lodging_message,
    refine_field,
    rejection_summary,
    schema_message,
)

Errors = dict[str, list[Message]]

REQUIRED_HEADER = ("type_code", "lrn", "issued_at", "transport_mode")
REQUIRED_ITEM = ("description", "hs_code", "origin_country", "quantity", "net_mass", "gross_mass", "value",
                 "currency")
_UPPER_HEADER = ("departure_location", "destination_location", "control_point", "conveyance_id", "ucr",
                 "invoice_currency", "delivery_terms")
_UPPER_ITEM = ("currency", "package_type")
_DAY_FIRST = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})(?:[ T,]+(\d{1,2}):(\d{2})(?::(\d{2}))?)?$")
_ISO_SPACE = re.compile(r"^(\d{4}-\d{2}-\d{2})[ ](\d{2}:\d{2}(?::\d{2})?)$")


def _local_datetime(text: str) -> str:
    """"31/12/2026 10:00" (Hong Kong's day-first way) or "2026-12-31 10:00" -> the form's
    ``2026-12-31T10:00``; anything else is left for the checks to name."""
    text = text.strip()
    if match := _DAY_FIRST.match(text):
        day, month, year, hour, minute, second = match.groups()
        try:
            moment = datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0))
        except ValueError:
            return text
        return moment.strftime("%Y-%m-%dT%H:%M:%S" if second else "%Y-%m-%dT%H:%M")
    if match := _ISO_SPACE.match(text):
        return f"{match.group(1)}T{match.group(2)}"
    return text


def normalise(data: dict[str, Any], codes: CodeLists) -> dict[str, Any]:
    """The form's values as the trader meant them, so what the page shows is what is sent:
    codes in capitals ("cn" -> "CN"), a country's name to its code ("china" -> "CN"),
    HS codes without dots or spaces, dates written day first to ISO."""
    data = copy.deepcopy(data)

    def upper(row: dict[str, Any], name: str) -> None:
        if isinstance(row.get(name), str):
            row[name] = row[name].strip().upper()

    def country(row: dict[str, Any], name: str) -> None:
        value = row.get(name)
        if isinstance(value, str) and value.strip():
            row[name] = codes.country_code(value) or value.strip()

    for name in _UPPER_HEADER:
        upper(data, name)
    for name in ("issued_at", "movement_at"):
        if isinstance(data.get(name), str):
            data[name] = _local_datetime(data[name])
    for role in ("importer", "exporter", "carrier"):
        party = data.get(role)
        if isinstance(party, dict):
            country(party, "country")
            upper(party, "identifier")
            upper(party, "aeo_id")
    upper(data, "declarant_aeo_id")
    for row in data.get("equipment") or []:
        if isinstance(row, dict):
            for name in ("container_id", "seals", "elock_id"):
                upper(row, name)
    for item in data.get("items") or []:
        if not isinstance(item, dict):
            continue
        country(item, "origin_country")
        for name in _UPPER_ITEM:
            upper(item, name)
        if isinstance(item.get("hs_code"), str):
            item["hs_code"] = re.sub(r"[\s.]", "", item["hs_code"])
        for name in ("quantity", "net_mass", "gross_mass", "value", "volume", "alcohol_strength", "length_mm"):
            if isinstance(item.get(name), str):
                item[name] = item[name].strip().replace(",", "")
    return data


def value_of(data: Mapping[str, Any], field_id: str) -> str | None:
    """The value the trader entered in ``items-2-hs_code`` (or ``importer-country``, ``lrn``)."""
    node: Any = data
    for part in field_id.split("-"):
        if isinstance(node, list) and part.isascii() and part.isdigit():
            index = int(part)
            node = node[index] if index < len(node) else None
        elif isinstance(node, Mapping):
            node = node.get(part)
        else:
            return None
    return node if isinstance(node, str) else None


def precheck(data: dict[str, Any]) -> Errors:
    """What is missing, and what XML cannot carry."""
    errors: Errors = {}
    required = Message(_("This is required."), "required")
    for field in fields_with_invalid_characters(data):
        errors.setdefault(field, []).append(Message(_("Remove the control characters from this field."),
                                                    "xml-characters"))
    for name in REQUIRED_HEADER:
        if not str(data.get(name) or "").strip():
            errors.setdefault(name, []).append(required)
    items = data.get("items") or []
    if not any(item_present(item) for item in items):
        errors.setdefault("items-0-description", []).append(Message(_("Declare at least one goods item."),
                                                                    "goods-item-required"))
    for index, item in enumerate(items):
        if not item_present(item):
            continue
        for name in REQUIRED_ITEM:
            if not str(item.get(name) or "").strip():
                errors.setdefault(f"items-{index}-{name}", []).append(required)
    if data.get("type_code") == "TS" and not any(str(e.get("elock_id") or "").strip()
                                                 for e in data.get("equipment") or []):
        errors.setdefault("equipment", []).append(Message(
            _("A transhipment travels under e-lock: add a container with its e-lock."), "transhipment-elock"))
    return errors


def problems_by_field(problems: list[Problem], data: Mapping[str, Any]) -> tuple[Errors, list[Message],
                                                                                list[Message]]:
    """Problems that refuse the declaration, by form field (from their paths), those about the
    declaration as a whole, and the notices (holds, warnings, information) apart."""
    by_field: Errors = {}
    general: list[Message] = []
    notices: list[Message] = []
    for problem in problems:
        if problem.severity not in (None, "reject"):
            notices.append(finding_message(problem))
            continue
        field = field_for_path(problem.path)
        if field is not None and is_schema_problem(problem):
            field = refine_field(field, problem)
            message = schema_message(field, problem, value_of(data, field))
        elif is_schema_problem(problem):
            message = schema_message(problem.path or "", problem)
        else:
            message = lodging_message(problem)
        if field is None:
            general.append(message)
        elif message.text not in (m.text for m in by_field.get(field, [])):
            by_field.setdefault(field, []).append(message)
    return by_field, general, notices


def merge(first: Errors, then: Errors) -> Errors:
    """``first``'s messages, and ``then``'s for fields ``first`` says nothing about."""
    merged = {field: list(messages) for field, messages in first.items()}
    for field, messages in then.items():
        merged.setdefault(field, list(messages))
    return merged


# --- assessing a document the schema refused ----------------------------------------------

# Stand-ins for values at fault: valid for the schema, and their findings are dropped.
_STAND_INS = {
    "hs_code": "00000000", "origin_country": "HK", "country": "HK", "currency": "HKD", "quantity": "1",
    "net_mass": "1", "gross_mass": "1", "value": "0", "description": "-", "name": "-", "identifier": "00000000",
    "address_line": "-", "lrn": "CHECK", "quantity_unit": "H87", "net_mass_unit": "KGM", "gross_mass_unit": "KGM",
    "volume_unit": "LTR", "container_id": "CSQU3054383",
}
# A stand-in here would change what every rule sees: no assessment without the real value.
_ESSENTIAL = {"type_code", "transport_mode", "issued_at", "declarant", "items", "equipment"}
_HARMLESS = {"lrn", "ucr"}


def _scope(field_id: str | None) -> str:
    """What a finding is about: one goods item, one container, one party, or the header."""
    if field_id is None:
        return "header"
    parts = field_id.split("-")
    if parts[0] in ("items", "equipment", "previous") and len(parts) > 1:
        return f"{parts[0]}-{parts[1]}"
    if parts[0] in ("importer", "exporter", "carrier"):
        return parts[0]
    return "header"


def _stand_in(data: dict[str, Any], field_id: str) -> bool:
    parts = field_id.split("-")
    if field_id in _ESSENTIAL or len(parts) == 2 and parts[1].isdigit():
        return False
    node: Any = data
    for part in parts[:-1]:
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict) and isinstance(node.get(part), dict | list):
            node = node[part]
        else:
            return False
    if not isinstance(node, dict):
        return False
    node[parts[-1]] = _STAND_INS.get(parts[-1], "")
    return True


def assess_anyway(data: dict[str, Any], at_fault: set[str], declarant: tuple[str, str], function_code: str,
                  receive: Callable[[bytes], Any], assess: Callable[[Any], list[Problem]]) -> list[Problem]:
    """Rule findings of a document the schema refused, for the parts that are not at fault
    (empty when the faults are too central to assess around)."""
    if not at_fault or at_fault & _ESSENTIAL:
        return []
    repaired = copy.deepcopy(data)
    if not all(_stand_in(repaired, field) for field in at_fault):
        return []
    try:
        received = receive(build_declaration(repaired, declarant[0], declarant[1], function_code))
    except (Rejection, etree.LxmlError, ValueError):
        return []
    skipped = {_scope(field) for field in at_fault if field not in _HARMLESS}
    findings = []
    for problem in assess(received.declaration):
        if _scope(field_for_path(problem.path)) in skipped or (problem.path is None and skipped):
            continue
        findings.append(problem)
    return findings


def summary_line(rejection: Rejection) -> Message:
    return rejection_summary(rejection)


__all__ = ["Errors", "assess_anyway", "merge", "normalise", "precheck", "problems_by_field", "summary_line",
           "value_of"]
