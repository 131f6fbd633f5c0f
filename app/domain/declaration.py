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


@dataclass(frozen=True, slots=True)
class Party:
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


@dataclass(frozen=True, slots=True)
class AdditionalDocument:
    type_code: str
    identifier: str


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


@dataclass(frozen=True, slots=True)
class Totals:
    """The trader's own totals, checked against the items by the rules."""

    goods_item_count: int
    gross_mass: Decimal
    value: Decimal
    currency: str


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
