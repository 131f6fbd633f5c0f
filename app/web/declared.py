"""What a declaration says, laid out for people: the trader's page and the officer's view show
the same sections (declaration, parties, transport, containers, goods), with codes named in
the reader's language and the code itself kept beside the name.

Built from the stored facts as plain rows of (label, value), so a richer declaration version
adds fields here and both pages show them without template changes.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _

from app.db import models
from app.portal.codelists import Code, CodeLists
from app.web.labels import DECLARATION_TYPES, PARTY_ROLES, REPRESENTATION, TRANSPORT_MODES, term, when


@dataclass(frozen=True, slots=True)
class Fact:
    label: str
    value: str


@dataclass(frozen=True, slots=True)
class PartyLine:
    role: str
    name: str
    identifier: str
    aeo_id: str
    address: str


@dataclass(frozen=True, slots=True)
class ContainerLine:
    container_id: str
    seals: str
    elock_id: str


@dataclass(frozen=True, slots=True)
class GoodsLine:
    sequence: int
    description: str
    hs_code: str
    tariff: str
    origin: str
    quantity: str
    net_mass: str
    gross_mass: str
    value: str
    packages: str
    details: list[Fact] = field(default_factory=list)
    documents: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Declared:
    header: list[Fact]
    transport: list[Fact]
    parties: list[PartyLine]
    containers: list[ContainerLine]
    goods: list[GoodsLine]
    total_value: list[str]


def _named(codes: tuple[Code, ...], code: str | None, locale: str) -> str:
    """"Lok Ma Chau Control Point (HKLMC)": the name in the reader's language and the code."""
    if not code:
        return "—"
    for entry in codes:
        if entry.code == code:
            return f"{entry.name(locale)} ({code})"
    return code


def _number(value: Decimal | int | None) -> str:
    if value is None:
        return ""
    if isinstance(value, int):
        return f"{value:,}"
    text = f"{value:,.6f}".rstrip("0").rstrip(".")
    return text or "0"


def _money(value: Decimal | None, currency: str | None) -> str:
    return "" if value is None else f"{value:,.2f} {currency or ''}".strip()


def declared(row: models.Declaration, codes: CodeLists, locale: str) -> Declared:
    """The declaration's content (loaded with its parties, goods and containers)."""
    tariff = {c.code: c for c in codes.hs_items}
    header = [
        Fact(_("Type"), f"{term(row.type_code, DECLARATION_TYPES)} ({row.type_code})"),
        Fact(_("Local reference (LRN)"), row.lrn),
        Fact(_("Unique consignment reference (UCR)"), row.ucr or "—"),
        Fact(_("TDEC form"), row.form_code or "—"),
        Fact(_("Issued"), when(row.issued_at)),
        Fact(_("Version"), str(row.version)),
    ]
    transport = [
        Fact(_("Transport mode"), f"{term(row.transport_mode, TRANSPORT_MODES)} ({row.transport_mode})"),
        Fact(_("Conveyance"), row.conveyance_id or "—"),
        Fact(_("Control point"), _named(codes.control_points, row.control_point, locale)),
        Fact(_("Departure"), _named(codes.locations, row.departure_location, locale)),
        Fact(_("Destination"), _named(codes.locations, row.destination_location, locale)),
        Fact(_("Arrival / departure"), when(row.movement_at) if row.movement_at else "—"),
    ]
    if row.particulars:
        _particulars(row.particulars, header, transport, codes, locale)
    parties = [PartyLine(term(p.role, PARTY_ROLES), p.name, p.identifier, p.aeo_id or "",
                         ", ".join(part for part in (p.address_line, p.city,
                                                     _named(codes.countries, p.country, locale) if p.country else "")
                                   if part))
               for p in row.parties]
    containers = [ContainerLine(e.container_id, " ".join(s.seal_id for s in e.seals), e.elock_id or "")
                  for e in row.equipment]
    goods = []
    totals: dict[str, Decimal] = {}
    for item in row.goods_items:
        details = []
        if item.alcohol_strength is not None:
            details.append(Fact(_("Alcohol"), f"{_number(item.alcohol_strength)} %"))
        if item.volume_litres is not None:
            details.append(Fact(_("Volume"), f"{_number(item.volume_litres)} l"))
        if item.stick_count is not None:
            details.append(Fact(_("Cigarette sticks"), _number(item.stick_count)))
        if item.length_mm is not None:
            details.append(Fact(_("Stick length"), f"{_number(item.length_mm)} mm"))
        details.extend(_item_particulars(item.particulars or {}))
        documents = [f"{d.get('type_code', '')} {d.get('id', '')}".strip() for d in item.documents or []]
        known = tariff.get(item.hs_code)
        packages = ""
        if item.package_count is not None or item.package_type:
            packages = f"{_number(item.package_count)} {_named(codes.package_types, item.package_type, locale)}".strip()
        goods.append(GoodsLine(
            sequence=item.sequence, description=item.description, hs_code=item.hs_code,
            tariff=known.name(locale) if known else "", origin=_named(codes.countries, item.origin_country, locale),
            quantity=f"{_number(item.quantity)} {_named(codes.units, item.quantity_unit, locale)}",
            net_mass=f"{_number(item.net_mass_kg)} kg", gross_mass=f"{_number(item.gross_mass_kg)} kg",
            value=_money(item.value, item.currency), packages=packages, details=details, documents=documents))
        totals[item.currency] = totals.get(item.currency, Decimal(0)) + (item.value or Decimal(0))
    return Declared(header, transport, parties, containers, goods,
                    [_money(amount, currency) for currency, amount in sorted(totals.items())])


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _particulars(record: dict[str, Any], header: list[Fact], transport: list[Fact], codes: CodeLists,
                 locale: str) -> None:
    """What a v2 or WCO declaration states beyond v1, in the header and transport sections."""
    if record.get("national_type_code"):
        header.append(Fact(_("Type as sent (WCO)"), _text(record["national_type_code"])))
    if record.get("representation_status"):
        status = _text(record["representation_status"])
        header.append(Fact(_("Representation"), f"{term(status, REPRESENTATION)} ({status})"))
    if record.get("delivery_terms"):
        place = _named(codes.locations, record.get("delivery_place"), locale) if record.get("delivery_place") else ""
        header.append(Fact(_("Delivery terms"), f"{record['delivery_terms']} {place}".strip()))
    if record.get("invoice_amount") is not None:
        header.append(Fact(_("Invoice amount"), _money(Decimal(str(record["invoice_amount"])),
                                                       _text(record.get("invoice_currency")))))
    if record.get("exchange_rate") is not None:
        header.append(Fact(_("Exchange rate"),
                           f"1 {_text(record.get('exchange_currency'))} = {record['exchange_rate']} HKD".strip()))
    if record.get("total_packages") is not None:
        header.append(Fact(_("Total packages"), _number(int(str(record["total_packages"])))))
    for information in record.get("additional_information", []):
        header.append(Fact(_("Additional information"),
                           " ".join(part for part in (_text(information.get("code")), _text(information.get("text")))
                                    if part)))
    for document in record.get("previous_documents", []):
        line = f" / {document['line']}" if document.get("line") else ""
        header.append(Fact(_("Previous document"), f"{document.get('type_code', '')} {document.get('id', '')}{line}"))
    countries = codes.countries
    for key, label in (("dispatch_country", _("Country of dispatch")),
                       ("destination_country", _("Country of destination"))):
        if record.get(key):
            transport.append(Fact(label, _named(countries, _text(record[key]), locale)))
    if record.get("routing_countries"):
        transport.append(Fact(_("Routing"), " → ".join(_text(c) for c in record["routing_countries"])))
    if record.get("inland_transport_mode"):
        mode = _text(record["inland_transport_mode"])
        transport.append(Fact(_("Inland transport mode"), f"{term(mode, TRANSPORT_MODES)} ({mode})"))
    means = " ".join(_text(record.get(key)) for key in ("transport_means_name", "transport_means_type")
                     if record.get(key))
    if record.get("transport_means_nationality"):
        means = f"{means} ({_named(countries, _text(record['transport_means_nationality']), locale)})".strip()
    if means:
        transport.append(Fact(_("Means of transport"), means))
    if record.get("goods_location"):
        transport.append(Fact(_("Location of goods"), _text(record["goods_location"])))
    for key, label in (("supervising_office", _("Supervising office")), ("exit_office", _("Exit office"))):
        if record.get(key):
            transport.append(Fact(label, _text(record[key])))
    for equipment in record.get("equipment", []):
        transport.append(Fact(_("Other equipment"),
                              f"{equipment.get('id', '')} {_text(equipment.get('type_code'))}".strip()))


def _item_particulars(record: dict[str, Any]) -> list[Fact]:
    facts = []
    if record.get("procedure_code"):
        previous = f" ← {record['previous_procedure_code']}" if record.get("previous_procedure_code") else ""
        facts.append(Fact(_("Customs procedure"), f"{record['procedure_code']}{previous}"))
    if record.get("valuation_method"):
        facts.append(Fact(_("Valuation method"), _text(record["valuation_method"])))
    if record.get("marks_numbers"):
        facts.append(Fact(_("Marks and numbers"), _text(record["marks_numbers"])))
    for information in record.get("additional_information", []):
        facts.append(Fact(_("Additional information"),
                          " ".join(part for part in (_text(information.get("code")), _text(information.get("text")))
                                   if part)))
    return facts


def context(row: models.Declaration, codes: CodeLists, locale: str) -> dict[str, Any]:
    return {"declared": declared(row, codes, locale)}
