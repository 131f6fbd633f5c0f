"""The trade declaration as plain data, and the rules of its lifecycle.

Built from a schema-valid document by ``app.intake.mapping``; nothing here knows about
XML, HTTP or the database.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal


class DeclarationType(str, enum.Enum):
    IMPORT = "IM"
    EXPORT = "EX"
    TRANSHIPMENT = "TS"


class FunctionCode(str, enum.Enum):
    ORIGINAL = "9"
    AMENDMENT = "13"


class DeclarationStatus(str, enum.Enum):
    """Where a declaration stands. ``accepted``: received, valid and stored, awaiting
    assessment; the later states are set by assessment, officers or the trader."""

    ACCEPTED = "accepted"
    UNDER_REVIEW = "under_review"
    RELEASED = "released"
    REFUSED = "refused"
    CANCELLED = "cancelled"


FINAL_STATUSES = frozenset(
    {DeclarationStatus.RELEASED, DeclarationStatus.REFUSED, DeclarationStatus.CANCELLED}
)


class PartyRole(str, enum.Enum):
    DECLARANT = "declarant"
    IMPORTER = "importer"
    EXPORTER = "exporter"
    CARRIER = "carrier"
    AGENT = "agent"
    BUYER = "buyer"
    SELLER = "seller"
    CONSIGNOR = "consignor"
    CONSIGNEE = "consignee"


class RepresentationStatus(str, enum.Enum):
    """WCO Agent. Function. Code: who lodges for whom. ``1``: the declarant lodges for itself;
    ``2``: an agent in the declarant's name (direct); ``3``: an agent in its own name for the
    declarant's account (indirect)."""

    SELF = "1"
    DIRECT = "2"
    INDIRECT = "3"


@dataclass(frozen=True, slots=True)
class Party:
    """``identifier``: a HK BR number, a foreign AEO or EORI-style id; "" for a party outside
    Hong Kong named only by name, address and country (schema v2 and WCO documents)."""

    role: PartyRole
    identifier: str
    name: str
    address_line: str | None = None
    city: str | None = None
    country: str | None = None
    aeo_id: str | None = None


@dataclass(frozen=True, slots=True)
class TransportEquipment:
    sequence: int
    container_id: str
    seal_ids: tuple[str, ...] = ()
    elock_id: str | None = None
    is_container: bool = True
    type_code: str | None = None


@dataclass(frozen=True, slots=True)
class AdditionalDocument:
    type_code: str
    identifier: str


@dataclass(frozen=True, slots=True)
class AdditionalInformation:
    """A coded statement with free text (WCO AdditionalInformation: StatementCode, StatementDescription)."""

    code: str | None
    text: str | None


@dataclass(frozen=True, slots=True)
class PreviousDocument:
    """A document the goods moved under before this declaration, so that customs can write the
    cargo off against it: a road cargo reference (``CRN``), a bill of lading (``BL``), an air
    waybill (``AWB``) or a manifest line (``MNL``), with the packages and gross mass this
    declaration covers of it (``None``: all of it)."""

    type_code: str
    identifier: str
    line: int | None = None
    package_count: int | None = None
    gross_mass: Decimal | None = None


@dataclass(frozen=True, slots=True)
class GoodsItem:
    sequence: int
    description: str
    hs_code: str
    origin_country: str
    quantity: Decimal
    quantity_unit: str
    net_mass: Decimal
    gross_mass: Decimal
    mass_unit: str
    value: Decimal
    currency: str
    alcohol_strength: Decimal | None = None
    volume_litres: Decimal | None = None
    stick_count: int | None = None
    length_mm: Decimal | None = None
    package_type: str | None = None
    package_count: int | None = None
    documents: tuple[AdditionalDocument, ...] = ()
    marks_numbers: str | None = None
    valuation_method: str | None = None
    procedure_code: str | None = None
    previous_procedure_code: str | None = None
    commodity_code: str | None = None
    additional_information: tuple[AdditionalInformation, ...] = ()


@dataclass(frozen=True, slots=True)
class Totals:
    """The trader's own totals, checked against the items by the rules."""

    goods_item_count: int
    gross_mass: Decimal
    value: Decimal
    currency: str


@dataclass(frozen=True, slots=True)
class IntakeNote:
    """Something intake did to a WCO document on the way in, for a rule to report: ``kind``
    ``outside-profile`` (an element kept in the stored document but not read), ``commodity-code``
    (a national code reduced to Hong Kong's 8 digits), ``type-code`` (a national declaration type
    read as CSW's), ``issue-date`` (no issue date: the acceptance date or receipt is used)."""

    kind: str
    path: str
    values: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Particulars:
    """What a WCO Data Model declaration (schema v2, a DEC-DMS document) says beyond v1: the
    trade terms, invoice and exchange rate, routing, transport means and offices. ``None`` on a
    v1 declaration. ``profile``: ``v2`` or ``dec-dms``."""

    profile: str
    path_root: str = ""
    reference: str | None = None
    representation_status: RepresentationStatus | None = None
    delivery_terms: str | None = None
    delivery_place: str | None = None
    invoice_amount: Decimal | None = None
    invoice_currency: str | None = None
    exchange_rate: Decimal | None = None
    exchange_currency: str | None = None
    total_packages: int | None = None
    goods_location: str | None = None
    dispatch_country: str | None = None
    destination_country: str | None = None
    routing_countries: tuple[str, ...] = ()
    inland_transport_mode: str | None = None
    transport_means_type: str | None = None
    transport_means_nationality: str | None = None
    transport_means_name: str | None = None
    supervising_office: str | None = None
    exit_office: str | None = None
    additional_information: tuple[AdditionalInformation, ...] = ()
    national_type_code: str | None = None
    notes: tuple[IntakeNote, ...] = ()


@dataclass(frozen=True, slots=True)
class Declaration:
    """One declaration as the trader stated it."""

    function_code: FunctionCode
    lrn: str
    type: DeclarationType
    issued_at: datetime
    parties: tuple[Party, ...]
    transport_mode: str
    goods_items: tuple[GoodsItem, ...]
    form_code: str | None = None
    ucr: str | None = None
    conveyance_id: str | None = None
    control_point: str | None = None
    departure_location: str | None = None
    destination_location: str | None = None
    movement_at: datetime | None = None
    equipment: tuple[TransportEquipment, ...] = field(default=())
    totals: Totals | None = None
    previous_documents: tuple[PreviousDocument, ...] = ()
    particulars: Particulars | None = None

    @property
    def declarant(self) -> Party:
        return next(p for p in self.parties if p.role is PartyRole.DECLARANT)


@dataclass(frozen=True, slots=True)
class ReceivedDeclaration:
    """A schema-valid document as received (its exact bytes are the legal record) and what it says."""

    body: bytes
    sha256: str
    namespace: str
    declaration: Declaration


class LifecycleError(Exception):
    """A change the declaration's current status does not allow."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def check_amendable(status: DeclarationStatus) -> None:
    """Amendments replace the whole document; not once the declaration is final."""
    if status in FINAL_STATUSES:
        raise LifecycleError(
            "AMENDMENT_NOT_ALLOWED",
            f"the declaration is {status.value}; a {status.value} declaration cannot be amended",
        )


def check_cancellable(status: DeclarationStatus) -> None:
    if status in FINAL_STATUSES:
        raise LifecycleError(
            "CANCELLATION_NOT_ALLOWED",
            f"the declaration is {status.value}; a {status.value} declaration cannot be cancelled",
        )


def _plain(value: object) -> object:
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, enum.Enum):
        return value.value
    return value


def particulars_record(declaration: Declaration) -> dict[str, object] | None:
    """What a v2 or WCO declaration says beyond v1, as JSON-ready data for storage and the
    status answer (None for v1). Absent elements are left out."""
    particulars = declaration.particulars
    if particulars is None:
        return None
    record: dict[str, object] = {}
    for name in ("profile", "national_type_code", "representation_status", "delivery_terms", "delivery_place",
                 "invoice_amount", "invoice_currency", "exchange_rate", "exchange_currency", "total_packages",
                 "goods_location", "dispatch_country", "destination_country", "inland_transport_mode",
                 "transport_means_type", "transport_means_nationality", "transport_means_name",
                 "supervising_office", "exit_office"):
        value = getattr(particulars, name)
        if value is not None:
            record[name] = _plain(value)
    if particulars.routing_countries:
        record["routing_countries"] = list(particulars.routing_countries)
    if particulars.additional_information:
        record["additional_information"] = [{"code": i.code, "text": i.text}
                                            for i in particulars.additional_information]
    if declaration.previous_documents:
        record["previous_documents"] = [
            {key: _plain(value) for key, value in (("type_code", d.type_code), ("id", d.identifier),
                                                    ("line", d.line), ("package_count", d.package_count),
                                                    ("gross_mass_kg", d.gross_mass)) if value is not None}
            for d in declaration.previous_documents]
    equipment = [{"sequence": e.sequence, "id": e.container_id, "type_code": e.type_code}
                 for e in declaration.equipment if not e.is_container or e.type_code]
    if equipment:
        record["equipment"] = [{k: v for k, v in e.items() if v is not None} for e in equipment]
    return record


def goods_item_particulars(item: GoodsItem) -> dict[str, object] | None:
    """A goods item's v2 elements (procedure, valuation method, marks and numbers, national
    commodity code, additional information) as JSON-ready data; None when it has none."""
    record: dict[str, object] = {name: value for name in (
        "procedure_code", "previous_procedure_code", "valuation_method", "marks_numbers", "commodity_code")
        if (value := getattr(item, name)) is not None}
    if item.additional_information:
        record["additional_information"] = [{"code": i.code, "text": i.text} for i in item.additional_information]
    return record or None
