"""Domain events: what one capability tells the others.

A service that changes its own rows emits an event; the unit of work hands it to every
handler registered for its type (``app.bootstrap.handler_table``) in the same transaction,
before the commit. Events carry what their handlers need, so a handler seldom re-reads what
the emitter already knew. Every field is plain data: no ORM rows, no sessions.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from app.domain.actors import Caller
from app.domain.charges import Assessment
from app.domain.declaration import Declaration
from app.domain.risk import RiskResult


@dataclass(frozen=True, slots=True)
class DeclarationFacts:
    """A declaration as it stands after a change: what notices are routed on and say.
    ``named_parties`` (role, identifier) when the emitter had the document at hand."""

    id: str
    status: str
    declarant_party_id: int
    type_code: str
    ucr: str | None
    lane: str | None
    version: int
    transport_mode: str | None
    conveyance_id: str | None
    control_point: str | None
    named_parties: tuple[tuple[str, str], ...] | None = None


# --- declarations ------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class DeclarationLodged:
    """A new declaration is stored (version 1). ``needs_officer``: its lane or a hold finding
    calls for a case."""

    declaration_id: str
    declaration: Declaration
    risk: RiskResult | None
    needs_officer: bool
    caller: Caller
    at: datetime
    conversation_id: str | None = None
    charges: Assessment | None = None


@dataclass(frozen=True, slots=True)
class DeclarationAmended:
    """The declarant replaced the document (a new version, re-assessed and re-scored)."""

    declaration_id: str
    version: int
    declaration: Declaration
    risk: RiskResult | None
    caller: Caller
    at: datetime
    conversation_id: str | None = None
    charges: Assessment | None = None


@dataclass(frozen=True, slots=True)
class DeclarationStatusChanged:
    """The declaration's status changed (released, refused, cancelled, under review).
    ``on_lodging``: the change is part of lodging the declaration (the green lane's release in
    the transaction that created it), so no trip can carry it yet (trips link stored ones)."""

    facts: DeclarationFacts
    status_from: str | None
    kind: str
    actor: str
    note: str | None
    at: datetime
    on_lodging: bool = False


@dataclass(frozen=True, slots=True)
class DeclarationLaneChanged:
    """An officer re-routed the declaration to another lane."""

    declaration_id: str
    lane_from: str | None
    lane_to: str
    actor: str
    note: str | None
    at: datetime


@dataclass(frozen=True, slots=True)
class DeclarationCancelled:
    """The declarant cancelled the declaration (its status change is announced separately)."""

    declaration_id: str
    reason: str
    caller: Caller
    at: datetime


# --- officers' decisions (cases) ---------------------------------------------------------

@dataclass(frozen=True, slots=True)
class OfficerDecision:
    """Fields every officer decision on a declaration carries."""

    case_id: int
    declaration_id: str
    note: str | None
    actor: str
    conversation_id: str | None
    at: datetime


@dataclass(frozen=True, slots=True)
class ReleaseDecided(OfficerDecision):
    """An officer released the declaration."""


@dataclass(frozen=True, slots=True)
class RefusalDecided(OfficerDecision):
    """An officer refused the declaration."""


@dataclass(frozen=True, slots=True)
class InspectionOrdered(OfficerDecision):
    """An officer ordered a physical inspection."""


@dataclass(frozen=True, slots=True)
class DocumentsRequested(OfficerDecision):
    """An officer asked the declarant for documents (``documents``: what is asked for;
    ``request_id``: the request the declarant answers)."""

    documents: str = ""
    request_id: int | None = None


@dataclass(frozen=True, slots=True)
class RerouteDecided(OfficerDecision):
    """An officer moved the declaration to another lane (green also releases it)."""

    lane_from: str | None = None
    lane_to: str = ""


@dataclass(frozen=True, slots=True)
class InspectionOutcomeRecorded:
    """What a physical inspection found; feeds the risk model's training data."""

    case_id: int
    declaration_id: str
    result: str
    revenue_recovered: Decimal
    random_sample: bool
    note: str | None
    actor: str
    at: datetime


# --- the traders' portal -----------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class DocumentsAnswered:
    """The declarant answered an officer's document request."""

    request_id: int
    declaration_id: str
    actor: str
    at: datetime


# --- e-lock transit ----------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class TransitAlertRaised:
    """An e-lock journey raised an alert (tampering, deviation, overdue, silence)."""

    alert_id: int
    journey_id: str
    declaration_id: str | None
    kind: str
    occurred_at: datetime
    evidence: dict[str, Any]
    actor: str


@dataclass(frozen=True, slots=True)
class JourneyReleased:
    """A journey ended released at its destination; ``all_released`` when it was the
    declaration's last journey still open."""

    journey_id: str
    declaration_id: str
    note: str
    all_released: bool
    caller: Caller
    at: datetime


# --- revenue: duty demands and payments ----------------------------------------------------

@dataclass(frozen=True, slots=True)
class DutyDemandRaised:
    """Duty is owed on a declaration: a demand to pay (or secure) before its goods are released."""

    demand_reference: str
    declaration_id: str
    declarant_party_id: int
    amount: Decimal
    actor: str
    at: datetime


@dataclass(frozen=True, slots=True)
class DutySettled:
    """A demand was settled (``how``: ``paid``, with the receipt number as ``detail``, or
    ``secured`` by the account or guarantee named in ``detail``), or a declaration's demands
    were withdrawn (``how`` ``not_owed``). ``all_settled``: nothing is due on the declaration
    any more, so a release waiting for the duty may go ahead."""

    demand_reference: str | None
    declaration_id: str
    declarant_party_id: int
    amount: Decimal
    how: str
    detail: str
    all_settled: bool
    actor: str
    at: datetime


@dataclass(frozen=True, slots=True)
class DutyRefunded:
    """Duty paid and no longer owed (a cancelled, refused or amended declaration) is refunded."""

    refund_reference: str
    demand_reference: str
    declaration_id: str
    declarant_party_id: int
    amount: Decimal
    reason: str
    actor: str
    at: datetime


# --- ROCARS trips -------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class ManifestConsignment:
    """One consignment on a trip's manifest: a cargo reference (``kind`` ``cargo``, the party
    that lodged it in ``declarant_party_id``) or, for trips linked before cargo references,
    a declaration (``kind`` ``declaration``); ``declaration_id`` holds the reference."""

    declaration_id: str
    ucr: str | None
    status: str
    lane: str | None
    declarant_party_id: int
    kind: str = "declaration"


@dataclass(frozen=True, slots=True)
class ManifestChanged:
    """A trip's manifest changed (a new kiosk decision, or consignments linked or unlinked
    once decided): its receivers need the new copy."""

    trip_id: str
    state_version: int
    vehicle_mark: str
    control_point: str
    boundary: str | None
    expected_crossing_at: datetime
    decision: str
    selected: tuple[str, ...] | None
    carrier_party_id: int
    consignments: tuple[ManifestConsignment, ...]
    at: datetime


# --- cargo lines and their write-off -------------------------------------------------------

@dataclass(frozen=True, slots=True)
class CargoLineLodged:
    """A line of cargo customs will write off against declarations: a road consignment's cargo
    reference (``kind`` ``CRN``) or a manifest's bill of lading (``BL``) or air waybill (``AWB``).
    Emitted again with the new figures when the line is amended. ``exempt``: transhipment on a
    through document, closed by its e-lock journey rather than by a declaration."""

    kind: str
    identifier: str
    package_count: int
    gross_mass: Decimal
    responsible_party_id: int
    exempt: bool
    caller: Caller
    at: datetime


@dataclass(frozen=True, slots=True)
class CargoLineCancelled:
    """The line was withdrawn before it moved: nothing is left to write off."""

    kind: str
    identifier: str
    caller: Caller
    at: datetime


@dataclass(frozen=True, slots=True)
class CargoMoved:
    """The goods crossed the boundary (road) or the conveyance arrived or departed (sea, air):
    the movement date of their import or export, from which the 14 days to declare run."""

    kind: str
    identifier: str
    moved_at: datetime
    caller: Caller
    at: datetime


@dataclass(frozen=True, slots=True)
class CargoControlDecided:
    """An officer decided on a road consignment before it crossed: ``released`` (examined, or
    the selection waived: the truck may proceed) or ``held`` (stop the truck at the kiosk)."""

    cargo_reference: str
    decision: str
    note: str | None
    actor: str
    at: datetime


@dataclass(frozen=True, slots=True)
class CargoLineOverdue:
    """A cargo line is still not (fully) covered by declarations when the period to declare
    after its movement has run out: officers follow it up and its party is told."""

    kind: str
    identifier: str
    responsible_party_id: int
    moved_at: datetime
    package_count: int
    packages_declared: int
    declarations: tuple[str, ...]
    actor: str
    at: datetime


# --- sea and air manifests -------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class ManifestLineDecision:
    """One consignment of a sea or air manifest, as its receivers are told of it."""

    document_kind: str
    document_number: str
    sequence: int
    package_count: int
    gross_mass: Decimal
    status: str
    containers: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CargoManifestDecided:
    """A sea or air manifest's clearance decision was taken or changed (lodged, amended, a line
    released by an officer): the terminal, the carrier and, for cargo to or from a partner's
    port, the partner customs need the new copy. ``boundary``: that partner's, if any."""

    manifest_id: str
    version: int
    mode: str
    direction: str
    control_point: str
    conveyance: str
    loading_location: str
    unloading_location: str
    scheduled_at: datetime
    decision: str
    boundary: str | None
    carrier_party_id: int
    lines: tuple[ManifestLineDecision, ...]
    at: datetime


# --- cargo selected before arrival: the officers' queue ------------------------------------

@dataclass(frozen=True, slots=True)
class SelectedCargo:
    """One consignment a lane selected (or an officer held) before it moved, as the officers'
    queue shows it. ``reference``: ``CRN:<cargo reference>`` for road cargo,
    ``MNL:<manifest>/<transport document>/<consignment>`` for a sea or air consignment."""

    reference: str
    lane: str | None
    risk_score: int
    control_point: str | None
    conveyance: str
    document: str
    consignment: str
    carrier: str
    reasons: tuple[tuple[str, str, str], ...]  # (code, English, Chinese)
    deadline_at: datetime | None


@dataclass(frozen=True, slots=True)
class CargoSelected:
    """Of the consignments ``references`` names (every consignment of a manifest, before and
    after an amendment, or one road cargo), those that need an officer now. Each selected one
    has one active case; an active case of the others closes (``closing`` says why)."""

    references: tuple[str, ...]
    selected: tuple[SelectedCargo, ...]
    closing: str
    actor: str
    at: datetime


@dataclass(frozen=True, slots=True)
class CargoSelectionClosed:
    """Selected cargo needs no officer any more: released (on the manifest page, through the
    API or from its case) or withdrawn: one consignment, or every consignment of a manifest."""

    references: tuple[str, ...]
    decision: str
    actor: str
    note: str | None
    at: datetime


@dataclass(frozen=True, slots=True)
class CargoCaseDecided:
    """An officer decided a cargo case in the queue (``release`` or ``inspect``): the cargo
    capability applies the decision through the same service as its own pages and API."""

    case_id: int
    reference: str
    decision: str
    note: str | None
    actor: str
    at: datetime
