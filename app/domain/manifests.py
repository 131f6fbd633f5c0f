"""Sea and air cargo manifests: what a carrier says of a vessel's voyage or an aircraft's flight
before it arrives in (or departs from) Hong Kong: each bill of lading or air waybill and the
consignments it carries.

Each consignment is risk-profiled before arrival like road cargo; each transport document is a
cargo line customs write off against the trade declarations that follow within 14 days of the
conveyance's actual arrival or departure."""
from __future__ import annotations

import enum
import re
import secrets
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal

from stdnum import iso6346
from stdnum.iso7064 import mod_37_36

from app.domain.cargo import ALPHABET, CargoInformation, CargoParty, as_declaration
from app.domain.declaration import Declaration

_RANDOM_LENGTH = 10
_REFERENCE = re.compile(r"HK\d{2}M[0-9A-Z]{%d}[0-9A-Z]" % _RANDOM_LENGTH)

SEA, AIR = "1", "4"
BILL_OF_LADING, AIR_WAYBILL = "BL", "AWB"
DOCUMENT_KIND_BY_MODE = {SEA: BILL_OF_LADING, AIR: AIR_WAYBILL}


def new_manifest_reference(now: datetime) -> str:
    """``HK`` + two-digit year + ``M`` + 10 random characters + an ISO 7064 MOD 37,36 check
    character, like a cargo reference (``C``) but for a manifest."""
    body = f"HK{now.year % 100:02d}M" + "".join(secrets.choice(ALPHABET) for _ in range(_RANDOM_LENGTH))
    return body + mod_37_36.calc_check_digit(body)


def is_valid_manifest_reference(reference: str) -> bool:
    return bool(_REFERENCE.fullmatch(reference)) and mod_37_36.is_valid(reference)


def is_valid_imo_number(number: str) -> bool:
    """IMO ship identification number: seven digits, the last the sum of the first six
    weighted 7..2, modulo 10."""
    if not re.fullmatch(r"\d{7}", number):
        return False
    total = sum(int(digit) * weight for digit, weight in zip(number[:6], range(7, 1, -1), strict=True))
    return total % 10 == int(number[6])


def is_valid_air_waybill(number: str) -> bool:
    """IATA air waybill: a three-digit airline prefix and an eight-digit serial whose last digit
    is the first seven modulo 7."""
    digits = number.replace("-", "").replace(" ", "")
    return bool(re.fullmatch(r"\d{11}", digits)) and int(digits[3:10]) % 7 == int(digits[10])


def is_valid_container_number(number: str) -> bool:
    """ISO 6346: owner code, category, serial number and check digit."""
    return bool(iso6346.is_valid(number))


class ManifestStatus(str, enum.Enum):
    """``lodged``: may be amended or cancelled until the conveyance arrives (or departs);
    ``arrived`` / ``departed`` when the carrier records it; ``cancelled`` by its carrier."""

    LODGED = "lodged"
    ARRIVED = "arrived"
    DEPARTED = "departed"
    CANCELLED = "cancelled"


class LineStatus(str, enum.Enum):
    """A consignment's clearance: ``cleared`` (green lane, or released by an officer) or
    ``selected`` for an officer's check (yellow or red lane)."""

    CLEARED = "cleared"
    SELECTED = "selected"


class ManifestDecision(str, enum.Enum):
    CLEARED = "cleared"
    INSPECTION = "inspection"


SELECTING_LANES = frozenset({"yellow", "red"})


def line_status(lane: str | None) -> LineStatus:
    """A lane that selects cargo holds it for an officer; without a risk engine nothing is."""
    return LineStatus.SELECTED if lane in SELECTING_LANES else LineStatus.CLEARED


def manifest_decision(statuses: list[str]) -> ManifestDecision:
    """Cleared when every consignment is cleared; inspection while any is selected."""
    return ManifestDecision.INSPECTION if LineStatus.SELECTED.value in statuses else ManifestDecision.CLEARED


@dataclass(frozen=True, slots=True)
class Conveyance:
    """The vessel (IMO number, name, voyage) or the flight (number and date)."""

    imo_number: str | None = None
    vessel_name: str | None = None
    voyage: str | None = None
    flight_number: str | None = None
    flight_date: date | None = None

    def label(self) -> str:
        if self.flight_number:
            return f"{self.flight_number} {self.flight_date.isoformat() if self.flight_date else ''}".strip()
        return f"IMO {self.imo_number} {self.vessel_name or ''} {self.voyage or ''}".replace("  ", " ").strip()


@dataclass(frozen=True, slots=True)
class Equipment:
    """A container (ISO 6346) and its seals."""

    number: str
    seals: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ManifestConsignment:
    sequence: int
    consignor: CargoParty
    consignee: CargoParty
    package_count: int
    package_type: str
    marks: str | None
    goods_description: str
    gross_mass_kg: Decimal
    hs_code: str | None
    origin_country: str | None
    equipment: tuple[Equipment, ...]


@dataclass(frozen=True, slots=True)
class TransportDocument:
    """A bill of lading or air waybill. ``transhipment``: a through document whose goods only
    pass through Hong Kong (no trade declaration; its e-lock journey closes it)."""

    kind: str
    number: str
    transhipment: bool
    consignments: tuple[ManifestConsignment, ...]

    @property
    def package_count(self) -> int:
        return sum(c.package_count for c in self.consignments)

    @property
    def gross_mass_kg(self) -> Decimal:
        return sum((c.gross_mass_kg for c in self.consignments), Decimal(0))


@dataclass(frozen=True, slots=True)
class Manifest:
    function_code: str
    lrn: str
    submitter_id: str
    submitter_name: str
    direction: str
    mode: str
    control_point: str
    conveyance: Conveyance
    loading_location: str
    unloading_location: str
    scheduled_at: datetime
    documents: tuple[TransportDocument, ...]


@dataclass(frozen=True, slots=True)
class ReceivedManifest:
    body: bytes
    sha256: str
    namespace: str
    manifest: Manifest


def step(name: str, index: int, count: int) -> str:
    """One step of a document path, numbered (1-based) only among repeated siblings, as the
    schema checker names them."""
    return f"{name}[{index + 1}]" if count > 1 else name


def document_path(manifest: Manifest, index: int) -> str:
    return "/Manifest/" + step("TransportDocument", index, len(manifest.documents))


def consignment_path(manifest: Manifest, document: int, consignment: int) -> str:
    count = len(manifest.documents[document].consignments)
    return f"{document_path(manifest, document)}/{step('Consignment', consignment, count)}"


def as_cargo(manifest: Manifest, document: TransportDocument, consignment: ManifestConsignment) -> CargoInformation:
    """One consignment as the cargo information of road cargo: what the cargo rules and the
    risk profile read."""
    return CargoInformation(
        function_code=manifest.function_code, lrn=f"{manifest.lrn}/{document.number}/{consignment.sequence}",
        submitter_id=manifest.submitter_id, submitter_name=manifest.submitter_name, direction=manifest.direction,
        control_point=manifest.control_point, expected_crossing_at=manifest.scheduled_at,
        consignor=consignment.consignor, consignee=consignment.consignee, package_count=consignment.package_count,
        package_type=consignment.package_type, marks=consignment.marks,
        goods_description=consignment.goods_description, gross_mass_kg=consignment.gross_mass_kg,
        hs_code=consignment.hs_code, origin_country=consignment.origin_country)


def consignment_as_declaration(manifest: Manifest, cargo: CargoInformation, issued_at: datetime) -> Declaration:
    """The consignment in the shape the risk model reads, by sea or air."""
    return replace(as_declaration(cargo, issued_at), transport_mode=manifest.mode)
