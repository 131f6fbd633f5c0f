"""Conveyance trips and their manifest decision (ROCARS): pure data and rules, no I/O.

A trip is one truck crossing one land control point; its consignments are the cargo
references the driver or carrier bundles to it (trips linked before cargo references carry
declarations, still read the same way). The kiosk at the control point reads the manifest
decision: ``cleared`` (every consignment released), ``inspection`` (at least one consignment
selected, named), ``pending`` (anything else, including an empty trip).
"""
from __future__ import annotations

import enum
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from stdnum.iso7064 import mod_37_36

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_TRIP_FORMAT = re.compile(r"HK\d{2}T[0-9A-Z]{11}")


class ManifestDecision(str, enum.Enum):
    PENDING = "pending"
    CLEARED = "cleared"
    INSPECTION = "inspection"


@dataclass(frozen=True, slots=True)
class ConsignmentState:
    """What the kiosk needs to know about one consignment (one declaration)."""

    declaration_id: str
    status: str
    lane: str | None


@dataclass(frozen=True, slots=True)
class SelectionPolicy:
    """Which declaration states stop a truck (from ``rules/routing/manifest.toml``)."""

    selected_lanes: frozenset[str]
    selected_statuses: frozenset[str]
    released_status: str = "released"


@dataclass(frozen=True, slots=True)
class Verdict:
    decision: ManifestDecision
    selected: tuple[str, ...]  # declaration ids that send the truck to inspection


HELD = "held"


def cargo_state(reference: str, lane: str | None, control_decision: str | None,
                policy: SelectionPolicy) -> ConsignmentState:
    """A bundled cargo reference as the kiosk reads it. Cargo is cleared on its advance
    information: a lane that selects nothing releases it, an officer's release clears a
    selected one, an officer's hold stops the truck whatever the lane; no lane yet (not
    profiled) keeps the trip pending."""
    if control_decision == HELD:
        return ConsignmentState(reference, HELD, lane)
    if control_decision == policy.released_status or (lane is not None and lane not in policy.selected_lanes):
        return ConsignmentState(reference, policy.released_status, lane)
    return ConsignmentState(reference, "lodged", lane)


def is_selected(consignment: ConsignmentState, policy: SelectionPolicy) -> bool:
    """Selected for inspection: a refused/cancelled declaration or held cargo, or one the risk
    lane picked that has not been released since."""
    if consignment.status in policy.selected_statuses or consignment.status == HELD:
        return True
    return consignment.status != policy.released_status and consignment.lane in policy.selected_lanes


def manifest_decision(consignments: Iterable[ConsignmentState], policy: SelectionPolicy) -> Verdict:
    """The kiosk's answer for a trip carrying ``consignments``."""
    items = list(consignments)
    selected = tuple(sorted(c.declaration_id for c in items if is_selected(c, policy)))
    if selected:
        return Verdict(ManifestDecision.INSPECTION, selected)
    if items and all(c.status == policy.released_status for c in items):
        return Verdict(ManifestDecision.CLEARED, ())
    return Verdict(ManifestDecision.PENDING, ())


def linking_deadline(expected_crossing_at: datetime, cutoff_minutes: int) -> datetime:
    """The last moment a consignment may be linked to a trip."""
    return expected_crossing_at - timedelta(minutes=cutoff_minutes)


def late_linking_reason(now: datetime, expected_crossing_at: datetime, cutoff_minutes: int) -> str | None:
    """Why linking now is refused, or None when it is in time."""
    deadline = linking_deadline(expected_crossing_at, cutoff_minutes)
    if now > deadline:
        return (f"consignments must be linked at least {cutoff_minutes} minutes before the expected crossing "
                f"({expected_crossing_at.isoformat()}); the deadline was {deadline.isoformat()}")
    return None


def new_trip_reference(now: datetime) -> str:
    """``HK`` + yy + ``T`` + 10 random characters + ISO 7064 MOD 37,36 check character."""
    body = f"HK{now.year % 100:02d}T" + "".join(secrets.choice(ALPHABET) for _ in range(10))
    return body + mod_37_36.calc_check_digit(body)


def is_valid_trip_reference(reference: str) -> bool:
    return bool(_TRIP_FORMAT.fullmatch(reference)) and mod_37_36.is_valid(reference)
