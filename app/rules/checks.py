"""The checks behind the rules: small functions that yield hits and never raise.

A rule in ``rules/packs/*.toml`` names a check and gives its parameters; the engine turns
each ``Hit`` into a finding with the rule's code, severity and messages. Every check
declares the parameters it takes and the message fields it provides, so a pack that
names an unknown check, lacks a parameter or uses an unknown ``{field}`` in a message is
refused when it is loaded, not when a declaration arrives.
"""
from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from operator import attrgetter
from typing import Any

from stdnum import iso6346

from app.domain.declaration import Declaration, DeclarationType, PartyRole
from app.domain.forms import EXEMPT_FORMS, effective_form, forms_for, is_levied_clothing, stated_form
from app.domain.time import HONG_KONG, hong_kong_date
from app.domain import paths
from app.reference.codelists import CodeLists
from app.domain.aeo import AeoStandingView



@dataclass(frozen=True, slots=True)
class CheckContext:
    """What a check may know besides the declaration: code lists, when it arrived, its value
    in HKD, and the AEO registry's standing of each party id it names."""

    code_lists: CodeLists
    received_at: datetime
    value_hkd: Decimal | None = None
    aeo: Mapping[str, AeoStandingView] = field(default_factory=dict)
    #: The cargo lines customs know among those the declaration names, (kind, id) -> when they
    #: moved (None: not yet); None when they were not looked up (no check then).
    cargo_lines: Mapping[tuple[str, str], datetime | None] | None = None
    #: The movement date the declarant stated, when the cargo's recorded movement replaced it.
    stated_movement_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Hit:
    """Where a rule is broken and the values its message quotes; ``charge``: an amount in HKD
    the finding adds to the declaration's charges (the late-lodgement penalty)."""

    path: str | None
    values: Mapping[str, object] = field(default_factory=dict)
    charge: Decimal | None = None


CheckFunction = Callable[[Declaration, Mapping[str, Any], CheckContext], Iterator[Hit]]


@dataclass(frozen=True, slots=True)
class CheckSpec:
    """A check and what a rule must give it: ``params`` maps names to types (``list[str]``
    for lists), ``choices`` limits values, ``validate`` says what else is wrong (or None)."""

    function: CheckFunction
    params: Mapping[str, Any]
    fields: frozenset[str]
    choices: Mapping[str, frozenset[str]] = field(default_factory=dict)
    validate: Callable[[Mapping[str, Any]], str | None] | None = None


CHECKS: dict[str, CheckSpec] = {}


def check(name: str, params: Mapping[str, Any] | None = None, fields: tuple[str, ...] = (),
          choices: Mapping[str, frozenset[str]] | None = None,
          validate: Callable[[Mapping[str, Any]], str | None] | None = None,
          ) -> Callable[[CheckFunction], CheckFunction]:
    def register(function: CheckFunction) -> CheckFunction:
        CHECKS[name] = CheckSpec(function, dict(params or {}), frozenset(fields), dict(choices or {}), validate)
        return function
    return register


# --- code lists -------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class CodeField:
    """A coded field: its values in a declaration, the path of the value at a position (asked
    only of a value that is not on its list) and whether a code is on the list."""

    values: Callable[[Declaration], Iterable[str | None]]
    path: Callable[[Declaration, int], str]
    known: Callable[[CodeLists, str], bool]


def _goods_field(attribute: str, tail: str, known: Callable[[CodeLists, str], bool]) -> CodeField:
    value = attrgetter(attribute)
    return CodeField(lambda declaration: map(value, declaration.goods_items),
                     lambda declaration, index: paths.goods_item(declaration, index, tail), known)


def _consignment_field(attribute: str, tail: str, known: Callable[[CodeLists, str], bool]) -> CodeField:
    value = attrgetter(attribute)
    path = f"{paths.CONSIGNMENT}/{tail}"
    return CodeField(lambda declaration: (value(declaration),), lambda declaration, index: path, known)


def _party_country_path(declaration: Declaration, index: int) -> str:
    return f"/Declaration/{declaration.parties[index].role.value.capitalize()}/Address/CountryCode"


CODE_FIELDS: dict[str, CodeField] = {
    # An 8-digit code is refused only when its HS6 is no HS 2022 subheading; a national item the
    # list lacks under an existing subheading is R111's warning (``hs_national_item``).
    "hs_code": _goods_field("hs_code", "Commodity/Classification/ID",
                            lambda lists, code: lists.hs_code_known(code) or (
                                len(code) == 8 and code.isdigit() and lists.hs6_known(code))),
    "origin_country": _goods_field("origin_country", "Origin/CountryCode", lambda lists, code: code in lists.countries),
    "currency": _goods_field("currency", "CustomsValueAmount", lambda lists, code: code in lists.currencies),
    "quantity_unit": _goods_field("quantity_unit", "GoodsMeasure/TariffQuantity",
                                  lambda lists, code: code in lists.units),
    "package_type": _goods_field("package_type", "Packaging/TypeCode", lambda lists, code: code in lists.package_types),
    "control_point": _consignment_field("control_point", "ControlPointID",
                                        lambda lists, code: code in lists.control_points),
    "departure_location": _consignment_field("departure_location", "DepartureLocationID",
                                             lambda lists, code: code in lists.locations),
    "destination_location": _consignment_field("destination_location", "DestinationLocationID",
                                               lambda lists, code: code in lists.locations),
    "party_country": CodeField(lambda declaration: (party.country for party in declaration.parties),
                               _party_country_path, lambda lists, code: code in lists.countries),
}


@check("known_code", params={"field": str}, fields=("value",), choices={"field": frozenset(CODE_FIELDS)})
def known_code(declaration: Declaration, params: Mapping[str, Any], context: CheckContext) -> Iterator[Hit]:
    """A coded value must be on its code list (HS codes, countries, currencies, units ...)."""
    coded = CODE_FIELDS[params["field"]]
    known, lists = coded.known, context.code_lists
    for index, value in enumerate(coded.values(declaration)):
        if value is not None and not known(lists, value):
            yield Hit(coded.path(declaration, index), {"value": value})


@check("hs_national_item", fields=("value", "subheading"))
def hs_national_item(declaration: Declaration, params: Mapping[str, Any], context: CheckContext) -> Iterator[Hit]:
    """An 8-digit code under an HS 2022 subheading whose national item the tariff list does not
    name: the goods exist, only the last two digits cannot be confirmed (a warning, not a refusal)."""
    for index, item in enumerate(declaration.goods_items):
        value = item.hs_code
        if value is not None and context.code_lists.hs_item_unlisted(value):
            yield Hit(paths.goods_item(declaration, index, "Commodity/Classification/ID"),
                      {"value": value, "subheading": value[:6]})


# --- identifiers ------------------------------------------------------------------------

_PLAIN_CONTAINER = re.compile(r"[A-Z]{3}[UJZR][0-9]{7}")
_ISO6346_VALUES = {character: value for value, character in enumerate("0123456789A BCDEFGHIJK LMNOPQRSTU VWXYZ")
                   if character != " "}


def container_number_valid(number: str) -> bool:
    """``iso6346.is_valid``: worked out here for a number written plainly (owner code,
    category, serial and check digit, nothing to clean), as python-stdnum's cleaning cost
    more than the rest of the check; anything else is left to python-stdnum."""
    if not _PLAIN_CONTAINER.fullmatch(number):
        return bool(iso6346.is_valid(number))
    weighted = sum(_ISO6346_VALUES[character] << position for position, character in enumerate(number[:10]))
    return str(weighted % 11 % 10) == number[10]


@check("container_check_digit", fields=("container", "expected"))
def container_check_digit(declaration: Declaration, params: Mapping[str, Any], context: CheckContext) -> Iterator[Hit]:
    """ISO 6346: the 11th character of a container number is a check digit."""
    for index, equipment in enumerate(declaration.equipment):
        if equipment.is_container and not container_number_valid(equipment.container_id):
            try:
                expected = iso6346.calc_check_digit(equipment.container_id[:10])
            except Exception:  # noqa: BLE001 - a malformed owner code has no check digit
                expected = "?"
            yield Hit(paths.equipment(declaration, index, "ID"),
                      {"container": equipment.container_id, "expected": expected})


BR_NUMBER = re.compile(r"\d{8}")
ROLE_ZH = {"declarant": "報關人", "importer": "進口商", "exporter": "出口商", "carrier": "承運人", "agent": "代理人",
           "buyer": "買方", "seller": "賣方", "consignor": "發貨人", "consignee": "收貨人"}


@check("party_identifier", fields=("identifier", "role", "role_zh"))
def party_identifier(declaration: Declaration, params: Mapping[str, Any], context: CheckContext) -> Iterator[Hit]:
    """A party is a HK company (8-digit BR number) or a foreign AEO whose id starts with
    the ISO code of a country other than Hong Kong."""
    for party in declaration.parties:
        identifier = party.identifier
        if not identifier or BR_NUMBER.fullmatch(identifier):
            continue
        country = identifier[:2]
        if country == "HK" or country not in context.code_lists.countries:
            yield Hit(f"/Declaration/{party.role.value.capitalize()}/ID",
                      {"identifier": identifier, "role": party.role.value, "role_zh": ROLE_ZH[party.role.value]})


# --- arithmetic -------------------------------------------------------------------------

@check("totals_match", params={"mass_tolerance_kg": float, "value_tolerance": float},
       fields=("what", "what_zh", "declared", "computed"))
def totals_match(declaration: Declaration, params: Mapping[str, Any], context: CheckContext) -> Iterator[Hit]:
    """Declared totals must equal the sum of the goods items."""
    totals = declaration.totals
    if totals is None:
        return
    items = declaration.goods_items
    if totals.goods_item_count != len(items):
        yield Hit("/Declaration/Totals/GoodsItemQuantity",
                  {"what": "goods item count", "what_zh": "貨品項目數目", "declared": totals.goods_item_count,
                   "computed": len(items)})
    gross = sum((item.gross_mass for item in items), Decimal(0))
    if abs(gross - totals.gross_mass) > Decimal(str(params["mass_tolerance_kg"])):
        yield Hit("/Declaration/Totals/GrossMassMeasure",
                  {"what": "gross mass (kg)", "what_zh": "毛重（公斤）", "declared": _plain(totals.gross_mass),
                   "computed": _plain(gross)})
    if all(item.currency == totals.currency for item in items):
        value = sum((item.value for item in items), Decimal(0))
        if abs(value - totals.value) > Decimal(str(params["value_tolerance"])):
            yield Hit("/Declaration/Totals/CustomsValueAmount",
                      {"what": f"value ({totals.currency})", "what_zh": f"價值（{totals.currency}）",
                       "declared": _plain(totals.value),
                       "computed": _plain(value)})


def _plain(number: Decimal) -> str:
    return format(number.normalize(), "f")


@check("gross_not_below_net", fields=("sequence", "net", "gross"))
def gross_not_below_net(declaration: Declaration, params: Mapping[str, Any], context: CheckContext) -> Iterator[Hit]:
    for index, item in enumerate(declaration.goods_items):
        if item.gross_mass < item.net_mass:
            yield Hit(paths.goods_item(declaration, index, "GoodsMeasure/GrossMassMeasure"),
                      {"sequence": item.sequence, "net": _plain(item.net_mass), "gross": _plain(item.gross_mass)})


@check("mass_plausible", params={"max_kg": float}, fields=("sequence", "which", "which_zh", "mass", "max_kg"))
def mass_plausible(declaration: Declaration, params: Mapping[str, Any], context: CheckContext) -> Iterator[Hit]:
    """No goods item weighs more than the largest ship carries: such a mass is a keying error
    (often tonnes for kilograms), and stays within what every store holds exactly."""
    limit = Decimal(str(params["max_kg"]))
    for index, item in enumerate(declaration.goods_items):
        for which, which_zh, mass, tail in (("net", "淨重", item.net_mass, "GoodsMeasure/NetMassMeasure"),
                                            ("gross", "毛重", item.gross_mass, "GoodsMeasure/GrossMassMeasure")):
            if mass > limit:
                yield Hit(paths.goods_item(declaration, index, tail), {
                    "sequence": item.sequence, "which": which, "which_zh": which_zh, "mass": _plain(mass),
                    "max_kg": _plain(limit)})


@check("duplicate_goods_items", fields=("sequence", "first"))
def duplicate_goods_items(declaration: Declaration, params: Mapping[str, Any], context: CheckContext) -> Iterator[Hit]:
    """Two goods items alike in every declared fact are usually a keying error."""
    seen: dict[tuple[object, ...], int] = {}
    for index, item in enumerate(declaration.goods_items):
        key = (item.hs_code, item.description.casefold(), item.origin_country, item.quantity,
               item.quantity_unit, item.net_mass, item.value, item.currency)
        if key in seen:
            yield Hit(paths.goods_item(declaration, index), {"sequence": item.sequence, "first": seen[key]})
        else:
            seen[key] = item.sequence


# --- dates ------------------------------------------------------------------------------

def _hong_kong_time(moment: datetime) -> str:
    """A moment as people in Hong Kong read it: ``2026-11-21 10:11:00 HKT`` (no UTC, no microseconds)."""
    try:
        local = moment.astimezone(HONG_KONG)
    except OverflowError:
        local = moment
    clock = f"{local.hour:02d}:{local.minute:02d}:{local.second:02d}"
    return f"{local.year:04d}-{local.month:02d}-{local.day:02d} {clock}" + (" HKT" if local is not moment else "")


@check("issue_date_not_future", params={"tolerance_minutes": int}, fields=("issued", "received"))
def issue_date_not_future(declaration: Declaration, params: Mapping[str, Any], context: CheckContext) -> Iterator[Hit]:
    if declaration.issued_at > context.received_at + timedelta(minutes=params["tolerance_minutes"]):
        yield Hit("/Declaration/IssueDateTime",
                  {"issued": _hong_kong_time(declaration.issued_at), "received": _hong_kong_time(context.received_at)})


@check("issue_date_not_long_past", params={"max_age_days": int}, fields=("issued", "received", "max_age_days"))
def issue_date_not_long_past(declaration: Declaration, params: Mapping[str, Any],
                             context: CheckContext) -> Iterator[Hit]:
    """A declaration is issued shortly before it is lodged; one issued years earlier (or in
    year 1) is a keying or system error, not a date to record."""
    if declaration.issued_at < context.received_at - timedelta(days=params["max_age_days"]):
        yield Hit("/Declaration/IssueDateTime",
                  {"issued": _hong_kong_time(declaration.issued_at), "received": _hong_kong_time(context.received_at),
                   "max_age_days": params["max_age_days"]})


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _three_penalty_bands(params: Mapping[str, Any]) -> str | None:
    for name in ("penalties_up_to_threshold", "penalties_above_threshold"):
        if len(params[name]) != 3:
            return f"param {name} needs 3 amounts (within 1 month, within 2 months, later)"
    return None


@check("lodged_within", params={"days": int, "value_threshold": float, "penalties_up_to_threshold": list[float],
                                "penalties_above_threshold": list[float]},
       fields=("movement", "lodged", "days_late", "penalty"), validate=_three_penalty_bands)
def lodged_within(declaration: Declaration, params: Mapping[str, Any], context: CheckContext) -> Iterator[Hit]:
    """Import/export declarations are due within ``days`` of the movement; later ones carry
    a penalty by value band and lateness (within 1 month + 14 days, 2 months + 14 days, later)."""
    if declaration.movement_at is None:
        return
    movement = hong_kong_date(declaration.movement_at)
    lodged = hong_kong_date(context.received_at)
    days_late = (lodged - movement).days - params["days"]
    if days_late <= 0:
        return
    period = timedelta(days=params["days"])

    def lodged_within_months(months: int) -> bool:
        try:
            return lodged <= add_months(movement, months) + period
        except (OverflowError, ValueError):
            return True  # the band ends past the last date a calendar holds: not later than that

    value = context.value_hkd if context.value_hkd is not None else Decimal(0)
    bands = (params["penalties_up_to_threshold"] if value <= params["value_threshold"]
             else params["penalties_above_threshold"])
    if lodged_within_months(1):
        penalty = bands[0]
    elif lodged_within_months(2):
        penalty = bands[1]
    else:
        penalty = bands[2]
    amount = Decimal(str(penalty)).quantize(Decimal("0.01"))
    yield Hit(f"{paths.CONSIGNMENT}/MovementDateTime", {
        "movement": movement.isoformat(), "lodged": lodged.isoformat(),
        "days_late": days_late, "penalty": f"{amount:.2f}",
    }, charge=amount)


@check("movement_date_present")
def movement_date_present(declaration: Declaration, params: Mapping[str, Any], context: CheckContext) -> Iterator[Hit]:
    """An import or export declaration is due within 14 days after the goods moved (Cap 60E
    regs 4 and 5): without the date of the movement neither the period nor the penalty can
    be judged, so the date is required."""
    if declaration.movement_at is None:
        yield Hit(f"{paths.CONSIGNMENT}/MovementDateTime")


@check("movement_not_future", params={"tolerance_minutes": int}, fields=("movement", "received"))
def movement_not_future(declaration: Declaration, params: Mapping[str, Any], context: CheckContext) -> Iterator[Hit]:
    """A trade declaration is lodged after the goods moved; a movement dated after its
    receipt would put the lodgement period (and its penalty) out of reach."""
    movement = declaration.movement_at
    if movement is not None and movement > context.received_at + timedelta(minutes=params["tolerance_minutes"]):
        yield Hit(f"{paths.CONSIGNMENT}/MovementDateTime",
                  {"movement": movement.isoformat(), "received": context.received_at.isoformat()})



# --- previous documents: the cargo the goods moved under -------------------------------------

def _previous_path(index: int) -> str:
    return f"{paths.CONSIGNMENT}/PreviousDocument[{index + 1}]/ID"


@check("previous_document_known", params={"kinds": list[str]}, fields=("type", "id"))
def previous_document_known(declaration: Declaration, params: Mapping[str, Any],
                            context: CheckContext) -> Iterator[Hit]:
    """A cargo reference, bill of lading or air waybill the declaration names must be one
    customs hold: the cargo is written off against it. Whoever lodged the cargo, the declarant
    (often another party: the importer's broker, the forwarder's client) may name it."""
    if context.cargo_lines is None:
        return
    for index, document in enumerate(declaration.previous_documents):
        if document.type_code in params["kinds"] and (document.type_code, document.identifier) not in \
                context.cargo_lines:
            yield Hit(_previous_path(index), {"type": document.type_code, "id": document.identifier})


@check("movement_from_cargo", fields=("movement", "stated"))
def movement_from_cargo(declaration: Declaration, params: Mapping[str, Any], context: CheckContext) -> Iterator[Hit]:
    """The movement date is the cargo's recorded crossing or arrival, not the declarant's word:
    say so when the two differ (or the declarant stated none)."""
    movement = declaration.movement_at
    if movement is not None and context.cargo_lines is not None and movement != context.stated_movement_at:
        stated = context.stated_movement_at
        yield Hit(f"{paths.CONSIGNMENT}/MovementDateTime",
                  {"movement": movement.isoformat(), "stated": stated.isoformat() if stated else "-"})


# --- the form follows the goods ---------------------------------------------------------

TYPE_WORDS = {"IM": ("import", "進口"), "EX": ("export", "出口"), "TS": ("transhipment", "轉運")}
GOODS_CLASSES = frozenset({"food", "hk_clothing"})


def _form_of(declaration: Declaration, context: CheckContext) -> str | None:
    """The form the declaration is judged on: as stated, else as the goods call for."""
    lists = context.code_lists
    return effective_form(declaration, lists.is_food, lists.is_clothing_levy_goods)[0]


def _fits(goods: str, item: Any, context: CheckContext) -> bool:
    lists = context.code_lists
    if goods == "food":
        return lists.is_food(item.hs_code)
    return is_levied_clothing(item, lists.is_clothing_levy_goods)


@check("form_matches_type", fields=("form", "kind", "kind_zh", "expected", "expected_zh"))
def form_matches_type(declaration: Declaration, params: Mapping[str, Any], context: CheckContext) -> Iterator[Hit]:
    """Forms 1, 1A and 1B are import declarations, 2, 2A and 2B export declarations; a
    transhipment is not a trade declaration at all (an exempted article), so it has no form."""
    form = stated_form(declaration)
    allowed = forms_for(declaration.type)
    if form is None or form in allowed:
        return
    kind, kind_zh = TYPE_WORDS[declaration.type.value]
    if allowed:
        expected, expected_zh = f"one of {', '.join(sorted(allowed))}", f"須為 {'、'.join(sorted(allowed))} 其中之一"
    else:
        expected, expected_zh = "none: transhipment cargo needs no TDEC", "不適用：轉運貨物毋須遞交報關單"
    yield Hit("/Declaration/FormCode", {"form": form, "kind": kind, "kind_zh": kind_zh, "expected": expected,
                                        "expected_zh": expected_zh})


@check("form_goods_only", params={"form": str, "goods": str}, fields=("sequence", "hs_code", "origin", "form"),
       choices={"goods": GOODS_CLASSES})
def form_goods_only(declaration: Declaration, params: Mapping[str, Any], context: CheckContext) -> Iterator[Hit]:
    """A form for one class of goods (1A: food items; 2A: Hong Kong-made clothing and
    footwear) carries those goods only: each other item is named, so the charge cannot be
    lowered (1A is charged a flat fee) or the goods mixed under another form's terms."""
    if _form_of(declaration, context) != params["form"]:
        return
    for index, item in enumerate(declaration.goods_items):
        if not _fits(params["goods"], item, context):
            yield Hit(paths.goods_item(declaration, index, "Commodity/Classification/ID"), {
                "sequence": item.sequence, "hs_code": item.hs_code, "origin": item.origin_country,
                "form": params["form"]})


@check("form_required_for_goods", params={"form": str, "goods": str},
       fields=("sequence", "hs_code", "origin", "form", "given"), choices={"goods": GOODS_CLASSES})
def form_required_for_goods(declaration: Declaration, params: Mapping[str, Any],
                            context: CheckContext) -> Iterator[Hit]:
    """Goods of a class go on their own form (Hong Kong-made clothing and footwear on 2A,
    which carries the Clothing Industry Training Levy): each such item on another form is named."""
    form = _form_of(declaration, context)
    if form == params["form"]:
        return
    for index, item in enumerate(declaration.goods_items):
        if _fits(params["goods"], item, context):
            yield Hit(paths.goods_item(declaration, index, "Commodity/Classification/ID"), {
                "sequence": item.sequence, "hs_code": item.hs_code, "origin": item.origin_country,
                "form": params["form"], "given": form or "none"})


@check("charge_exemption_reason", params={"document_type": str},
       fields=("sequence", "hs_code", "form", "problem", "problem_zh"))
def charge_exemption_reason(declaration: Declaration, params: Mapping[str, Any],
                            context: CheckContext) -> Iterator[Hit]:
    """A charge-exempt form (1B, 2B) is for articles exempted from the declaration charge:
    every goods item states its reason as an AdditionalDocument of ``document_type`` whose
    ID is a code of ``rules/codelists/charge_exemptions.csv`` that covers the item (its
    declaration type and, for reasons limited to some goods, its HS code)."""
    form = stated_form(declaration)
    if form not in EXEMPT_FORMS:
        return
    reasons = context.code_lists.charge_exemptions
    known = ", ".join(sorted(reasons)) or "none"
    kind = declaration.type.value
    for index, item in enumerate(declaration.goods_items):
        given = [d for d in item.documents if d.type_code == params["document_type"]]
        path = paths.goods_item(declaration, index, "AdditionalDocument" if given else "")
        values: dict[str, object] = {"sequence": item.sequence, "hs_code": item.hs_code, "form": form}
        if not given:
            yield Hit(path, {**values,
                             "problem": f"no exemption reason (an AdditionalDocument of TypeCode "
                                        f"{params['document_type']} whose ID is one of: {known})",
                             "problem_zh": f"欠缺豁免理由（類型代碼 {params['document_type']} 的附加文件，"
                                           f"編號須為以下其中之一：{known}）"})
            continue
        for document in given:
            reason = reasons.get(document.identifier)
            if reason is None:
                yield Hit(path, {**values,
                                 "problem": f"{document.identifier} is not a charge exemption reason (known: {known})",
                                 "problem_zh": f"{document.identifier} 不是報關費豁免理由（可用：{known}）"})
            elif not reason.covers(item.hs_code, kind):
                yield Hit(path, {**values,
                                 "problem": f"reason {reason.code} ({reason.name_en}) does not cover these goods",
                                 "problem_zh": f"豁免理由 {reason.code}（{reason.name_zh}）不適用於此貨品"})


# --- licences ---------------------------------------------------------------------------

@check("licence_required", fields=("sequence", "hs_code", "category", "licence_type", "authority_en",
                                   "authority_zh"))
def licence_required(declaration: Declaration, params: Mapping[str, Any], context: CheckContext) -> Iterator[Hit]:
    """Controlled goods need a licence of the right type (its form: ``licence_reference_format``).
    An ``indicative`` control (the HS code only suggests the goods may be controlled, e.g.
    8517.62 covers both encryption appliances and smart watches) does not demand one."""
    for index, item in enumerate(declaration.goods_items):
        for control in context.code_lists.controls_for(item.hs_code, declaration.type.value):
            if not control.mandatory:
                continue
            if not any(document.type_code == control.licence_type for document in item.documents):
                yield Hit(paths.goods_item(declaration, index), {
                    "sequence": item.sequence, "hs_code": item.hs_code,
                    "category": control.category.replace("_", " "),
                    "licence_type": control.licence_type, "authority_en": control.authority_en,
                    "authority_zh": control.authority_zh})


@check("licence_reference_format", fields=("sequence", "licence_type", "licence_id"))
def licence_reference_format(declaration: Declaration, params: Mapping[str, Any],
                             context: CheckContext) -> Iterator[Hit]:
    """A licence reference must have the form its issuing authority uses."""
    for index, item in enumerate(declaration.goods_items):
        if not item.documents:
            continue
        controls = {c.licence_type: c for c in context.code_lists.controls_for(item.hs_code, declaration.type.value)}
        for position, document in enumerate(item.documents, 1):
            control = controls.get(document.type_code)
            if control is not None and not control.licence_id_pattern.fullmatch(document.identifier):
                tail = f"AdditionalDocument[{position}]" if len(item.documents) > 1 else "AdditionalDocument"
                yield Hit(paths.goods_item(declaration, index, tail),
                          {"sequence": item.sequence, "licence_type": document.type_code,
                           "licence_id": document.identifier})


# --- dutiable goods and transhipment ----------------------------------------------------

DUTIABLE_DETAILS = {
    "alcohol_strength": ("the alcoholic strength (AlcoholStrengthPercent)", "酒精濃度（AlcoholStrengthPercent）"),
    "volume_litres": ("the volume (VolumeMeasure)", "容量（VolumeMeasure）"),
    "stick_count": ("the number of sticks (StickQuantity)", "支數（StickQuantity）"),
}


@check("dutiable_details_present", params={"hs_prefixes": list[str], "require": list[str]},
       fields=("sequence", "hs_code", "missing", "missing_zh"),
       choices={"require": frozenset({"alcohol_strength", "volume_litres", "stick_count"})})
def dutiable_details_present(declaration: Declaration, params: Mapping[str, Any],
                             context: CheckContext) -> Iterator[Hit]:
    """Duty cannot be computed without the strength, volume or stick count."""
    prefixes = tuple(params["hs_prefixes"])
    for index, item in enumerate(declaration.goods_items):
        if item.hs_code.startswith(prefixes):
            missing = [name for name in params["require"] if getattr(item, name) is None]
            if missing:
                yield Hit(paths.goods_item(declaration, index, "Commodity"), {
                    "sequence": item.sequence, "hs_code": item.hs_code,
                    "missing": ", ".join(DUTIABLE_DETAILS[name][0] for name in missing),
                    "missing_zh": "、".join(DUTIABLE_DETAILS[name][1] for name in missing)})


@check("transhipment_under_elock", fields=("missing", "missing_zh"))
def transhipment_under_elock(declaration: Declaration, params: Mapping[str, Any],
                             context: CheckContext) -> Iterator[Hit]:
    """A transhipment moves sealed with an e-lock along a route between two clearance points."""
    if declaration.type is not DeclarationType.TRANSHIPMENT:
        return
    if not any(e.elock_id for e in declaration.equipment):
        yield Hit(f"{paths.CONSIGNMENT}/TransportEquipment",
                  {"missing": "an e-lock id (ELockID)", "missing_zh": "電子鎖編號（ELockID）"})
    if declaration.departure_location is None:
        yield Hit(f"{paths.CONSIGNMENT}/DepartureLocationID",
                  {"missing": "the origin clearance point", "missing_zh": "起運清關點"})
    if declaration.destination_location is None:
        yield Hit(f"{paths.CONSIGNMENT}/DestinationLocationID",
                  {"missing": "the destination clearance point", "missing_zh": "目的地清關點"})
    elif declaration.destination_location == declaration.departure_location:
        yield Hit(f"{paths.CONSIGNMENT}/DestinationLocationID",
                  {"missing": "a destination different from the origin", "missing_zh": "有別於起運地的目的地"})


@check("party_present", params={"role": str}, fields=("role", "role_zh"),
       choices={"role": frozenset(role.value for role in PartyRole)})
def party_present(declaration: Declaration, params: Mapping[str, Any], context: CheckContext) -> Iterator[Hit]:
    """E.g. an import names its importer, an export its exporter."""
    if not any(party.role.value == params["role"] for party in declaration.parties):
        yield Hit("/Declaration", {"role": params["role"], "role_zh": ROLE_ZH[params["role"]]})


# --- Authorized Economic Operators -------------------------------------------------------

def _aeo_claims(declaration: Declaration) -> Iterator[tuple[Any, str, str]]:
    """(party, claimed or registered id, path) for every party that is or claims to be an AEO."""
    for party in declaration.parties:
        role = party.role.value.capitalize()
        if party.aeo_id is not None:
            yield party, party.aeo_id, f"/Declaration/{role}/AEOCertificateID"
        else:
            yield party, party.identifier, f"/Declaration/{role}/ID"


AEO_STATUS_WORDS = {
    "suspended": ("suspended", "已暫停"),
    "revoked": ("revoked", "已撤銷"),
    "expired": ("expired", "已過期"),
    "withdrawn": ("withdrawn", "已撤回"),
}


def _unrecognised_reason(standing: AeoStandingView | None) -> tuple[str, str]:
    if standing is None:
        return "not in the AEO registry", "不在認可經濟營運商名冊內"
    if standing.status in AEO_STATUS_WORDS:
        return AEO_STATUS_WORDS[standing.status]
    return standing.reason, "未獲認可：有效期已過或其經濟體並無生效的互認安排"


@check("aeo_claim_valid", fields=("role", "role_zh", "aeo_id", "reason", "reason_zh"))
def aeo_claim_valid(declaration: Declaration, params: Mapping[str, Any], context: CheckContext) -> Iterator[Hit]:
    """An AEO certificate claimed in the declaration must be in force in the registry
    (and, for a partner's AEO, under an MRA in force); otherwise no benefit and a hold."""
    for party in declaration.parties:
        if party.aeo_id is None:
            continue
        standing = context.aeo.get(party.aeo_id)
        if standing is None or not standing.recognised:
            reason, reason_zh = _unrecognised_reason(standing)
            yield Hit(f"/Declaration/{party.role.value.capitalize()}/AEOCertificateID", {
                "role": party.role.value, "role_zh": ROLE_ZH[party.role.value], "aeo_id": party.aeo_id,
                "reason": reason, "reason_zh": reason_zh})


@check("aeo_recognised", fields=("role", "role_zh", "aeo_id", "tier"))
def aeo_recognised(declaration: Declaration, params: Mapping[str, Any], context: CheckContext) -> Iterator[Hit]:
    """Records each party the registry recognises as an AEO, and at which tier."""
    for party, aeo_id, path in _aeo_claims(declaration):
        standing = context.aeo.get(aeo_id)
        if standing is not None and standing.recognised:
            yield Hit(path, {"role": party.role.value, "role_zh": ROLE_ZH[party.role.value], "aeo_id": aeo_id,
                             "tier": standing.tier})


# --- the WCO Data Model's elements (schema v2 and WCO DEC-DMS documents) ------------------

_PARTY_PATHS = {
    "declarant": "/Declaration/Declarant", "importer": "/Declaration/GoodsShipment/Importer",
    "exporter": "/Declaration/Exporter", "carrier": "/Declaration/Consignment/Carrier",
    "agent": "/Declaration/Agent", "buyer": "/Declaration/GoodsShipment/Buyer",
    "seller": "/Declaration/GoodsShipment/Seller", "consignee": "/Declaration/GoodsShipment/Consignee",
    "consignor": "/Declaration/GoodsShipment/Consignment/Consignor",
}
NOTE_KINDS = frozenset({"outside-profile", "commodity-code", "type-code", "issue-date"})


@check("intake_note", params={"kind": str}, fields=("element", "code", "mapped", "reduced", "hs6", "used"),
       choices={"kind": NOTE_KINDS})
def intake_note(declaration: Declaration, params: Mapping[str, Any], context: CheckContext) -> Iterator[Hit]:
    """What intake did to a WCO document on the way in (an element it did not read, a national
    code it reduced or mapped), so the sender and officers see it."""
    particulars = declaration.particulars
    if particulars is None:
        return
    blank = dict.fromkeys(("element", "code", "mapped", "reduced", "hs6", "used"), "")
    for note in particulars.notes:
        if note.kind == params["kind"]:
            yield Hit(note.path, {**blank, **dict(note.values)})


def _money(amount: Decimal) -> str:
    return f"{amount:,.2f}"


@check("invoice_matches_items", params={"tolerance_percent": float},
       fields=("invoice", "currency", "items", "items_currency", "rate"))
def invoice_matches_items(declaration: Declaration, params: Mapping[str, Any], context: CheckContext) -> Iterator[Hit]:
    """The invoice total against the goods items' values: directly in one currency, or at the
    declared exchange rate when the items are valued in Hong Kong dollars."""
    particulars = declaration.particulars
    if particulars is None or particulars.invoice_amount is None or not declaration.goods_items:
        return
    currencies = {item.currency for item in declaration.goods_items}
    if len(currencies) != 1:
        return
    items_currency = next(iter(currencies))
    items = sum((item.value for item in declaration.goods_items), Decimal(0))
    invoice, rate = particulars.invoice_amount, Decimal(1)
    if items_currency != particulars.invoice_currency:
        if items_currency != "HKD" or particulars.exchange_rate is None:
            return
        rate = particulars.exchange_rate
    expected = invoice * rate
    tolerance = Decimal(str(params["tolerance_percent"])) / 100
    if abs(items - expected) > expected * tolerance + Decimal("0.01"):
        yield Hit("/Declaration/InvoiceAmount", {
            "invoice": _money(invoice), "currency": particulars.invoice_currency or "", "items": _money(items),
            "items_currency": items_currency, "rate": _plain(rate)})


@check("cif_basis", params={"terms": list[str]}, fields=("terms",))
def cif_basis(declaration: Declaration, params: Mapping[str, Any], context: CheckContext) -> Iterator[Hit]:
    """Import values are CIF: delivery terms that leave out freight or insurance to Hong Kong
    (EXW, FCA, FOB, CFR ...) mean the declared values need them added."""
    particulars = declaration.particulars
    if particulars is None or particulars.delivery_terms is None:
        return
    if particulars.delivery_terms not in params["terms"]:
        yield Hit("/Declaration/GoodsShipment/TradeTerms/ConditionCode", {"terms": particulars.delivery_terms})


_MODE_WORDS = {"1": ("sea", "海運"), "3": ("road", "陸路"), "4": ("air", "空運")}


@check("previous_document_for_mode", params={"sea": list[str], "road": list[str], "air": list[str]},
       fields=("mode", "mode_zh", "expected"))
def previous_document_for_mode(declaration: Declaration, params: Mapping[str, Any],
                               context: CheckContext) -> Iterator[Hit]:
    """Goods that crossed by road, sea or air moved under a road cargo reference, a bill of
    lading or an air waybill: the declaration names it, so customs can write the cargo off.
    Asked of declarations that can name one (schema v2, WCO documents) or that name any."""
    if declaration.particulars is None and not declaration.previous_documents:
        return
    mode = {"1": "sea", "3": "road", "4": "air"}.get(declaration.transport_mode)
    if mode is None:
        return
    expected = params[mode]
    if not any(document.type_code in expected for document in declaration.previous_documents):
        english, chinese = _MODE_WORDS[declaration.transport_mode]
        yield Hit("/Declaration/GoodsShipment/PreviousDocument",
                  {"mode": english, "mode_zh": chinese, "expected": " / ".join(expected)})


@check("representation_consistent", fields=("problem", "problem_zh"))
def representation_consistent(declaration: Declaration, params: Mapping[str, Any],
                              context: CheckContext) -> Iterator[Hit]:
    """An agent lodges with a representation status (2 direct, 3 indirect), and a status of
    representation names its agent."""
    particulars = declaration.particulars
    if particulars is None:
        return
    agent = next((party for party in declaration.parties if party.role is PartyRole.AGENT), None)
    status = particulars.representation_status
    if agent is not None and (status is None or status.value == "1"):
        yield Hit("/Declaration/Agent/FunctionCode", {
            "problem": "an agent is named but the representation status is not 2 (direct) or 3 (indirect)",
            "problem_zh": "已列明代理人，但代理身分並非 2（直接代理）或 3（間接代理）"})
    if agent is not None and not agent.identifier:
        yield Hit("/Declaration/Agent/ID", {
            "problem": "the agent is not identified by its id", "problem_zh": "未有列明代理人的識別號碼"})


@check("total_packages_match", fields=("declared", "computed"))
def total_packages_match(declaration: Declaration, params: Mapping[str, Any], context: CheckContext) -> Iterator[Hit]:
    """The total number of packages equals the goods items' packages, when every item states them."""
    particulars = declaration.particulars
    if particulars is None or particulars.total_packages is None:
        return
    counts = [item.package_count for item in declaration.goods_items]
    if any(count is None for count in counts):
        return
    computed = sum(count for count in counts if count is not None)
    if computed != particulars.total_packages:
        yield Hit("/Declaration/TotalPackageQuantity", {"declared": particulars.total_packages, "computed": computed})


@check("party_identified", fields=("role", "role_zh"))
def party_identified(declaration: Declaration, params: Mapping[str, Any], context: CheckContext) -> Iterator[Hit]:
    """A party without an id (one outside Hong Kong) is named by its name, address and country."""
    for party in declaration.parties:
        if party.identifier or party.role is PartyRole.AGENT:
            continue
        if not (party.name and party.address_line and party.country):
            yield Hit(_PARTY_PATHS[party.role.value], {"role": party.role.value, "role_zh": ROLE_ZH[party.role.value]})


@check("destination_consistent", fields=("country", "kind", "kind_zh"))
def destination_consistent(declaration: Declaration, params: Mapping[str, Any], context: CheckContext) -> Iterator[Hit]:
    """Goods imported are destined for Hong Kong, and goods exported leave it."""
    particulars = declaration.particulars
    if particulars is None or particulars.destination_country is None:
        return
    country = particulars.destination_country
    if declaration.type is DeclarationType.IMPORT and country != "HK":
        yield Hit("/Declaration/GoodsShipment/Destination/CountryCode",
                  {"country": country, "kind": "an import", "kind_zh": "進口"})
    elif declaration.type is DeclarationType.EXPORT and country == "HK":
        yield Hit("/Declaration/GoodsShipment/Destination/CountryCode",
                  {"country": country, "kind": "an export", "kind_zh": "出口"})
