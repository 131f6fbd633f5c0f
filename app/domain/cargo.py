"""Advance cargo information for road cargo (ROCARS): what the shipper, forwarder or carrier
says of a consignment before the truck crosses, and the cargo reference it gets back.

In Hong Kong the cargo is cleared on this information (risk-profiled before arrival, the
driver told at the kiosk to proceed or to go for inspection); the trade declaration follows
within 14 days after the goods have moved and refers to the cargo by this reference."""
from __future__ import annotations

import enum
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from stdnum.iso7064 import mod_37_36

from app.domain.declaration import Declaration, DeclarationType, FunctionCode, GoodsItem, Party, PartyRole

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_RANDOM_LENGTH = 10
_REFERENCE = re.compile(r"HK\d{2}C[0-9A-Z]{%d}[0-9A-Z]" % _RANDOM_LENGTH)


def new_cargo_reference(now: datetime) -> str:
    """``HK`` + two-digit year + ``C`` + 10 random characters + an ISO 7064 MOD 37,36 check
    character: unguessable, and a mistyped reference is caught before any look-up."""
    body = f"HK{now.year % 100:02d}C" + "".join(secrets.choice(ALPHABET) for _ in range(_RANDOM_LENGTH))
    return body + mod_37_36.calc_check_digit(body)


def is_valid_cargo_reference(reference: str) -> bool:
    return bool(_REFERENCE.fullmatch(reference)) and mod_37_36.is_valid(reference)


class CargoStatus(str, enum.Enum):
    """``lodged``: may be amended or cancelled until a driver bundles it to a vehicle;
    ``cancelled`` by its lodger; ``moved``: the truck carrying it crossed."""

    LODGED = "lodged"
    CANCELLED = "cancelled"
    MOVED = "moved"


@dataclass(frozen=True, slots=True)
class Address:
    line: str
    city: str
    country: str


@dataclass(frozen=True, slots=True)
class CargoParty:
    """A consignor or consignee: by name and address; ``identifier`` when it has one."""

    name: str
    address: Address
    identifier: str | None = None


@dataclass(frozen=True, slots=True)
class CargoInformation:
    """The electronic cargo information of one consignment, as its lodger stated it."""

    function_code: str
    lrn: str
    submitter_id: str
    submitter_name: str
    direction: str
    control_point: str
    expected_crossing_at: datetime
    consignor: CargoParty
    consignee: CargoParty
    package_count: int
    package_type: str
    marks: str | None
    goods_description: str
    gross_mass_kg: Decimal | None
    hs_code: str | None
    origin_country: str | None


@dataclass(frozen=True, slots=True)
class ReceivedCargo:
    """A schema-valid cargo document as received (its bytes are the record) and what it says."""

    body: bytes
    sha256: str
    namespace: str
    cargo: CargoInformation


def as_declaration(cargo: CargoInformation, issued_at: datetime) -> Declaration:
    """The cargo in the shape the risk model reads: one goods item (the consignment), its
    parties, its route. No value is known before the trade declaration, so none is claimed:
    the profile rests on the goods, the parties, the origin and the history."""
    importing = cargo.direction == DeclarationType.IMPORT.value
    trader, foreign = (cargo.consignee, cargo.consignor) if importing else (cargo.consignor, cargo.consignee)
    parties = (
        Party(PartyRole.DECLARANT, cargo.submitter_id, cargo.submitter_name),
        Party(PartyRole.IMPORTER if importing else PartyRole.EXPORTER, trader.identifier or "", trader.name,
              trader.address.line, trader.address.city, trader.address.country),
    )
    mass = cargo.gross_mass_kg or Decimal(0)
    item = GoodsItem(
        sequence=1, description=cargo.goods_description, hs_code=(cargo.hs_code or "").ljust(8, "0"),
        origin_country=cargo.origin_country or foreign.address.country, quantity=Decimal(cargo.package_count),
        quantity_unit="PCE", net_mass=mass, gross_mass=mass, mass_unit="KGM", value=Decimal(0), currency="HKD",
        package_type=cargo.package_type, package_count=cargo.package_count)
    return Declaration(function_code=FunctionCode.ORIGINAL, lrn=cargo.lrn, type=DeclarationType(cargo.direction),
                       issued_at=issued_at, parties=parties, transport_mode="3", goods_items=(item,),
                       control_point=cargo.control_point, movement_at=cargo.expected_crossing_at)
