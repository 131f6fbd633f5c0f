"""Write-off: customs reconcile each cargo line (a road cargo reference, a bill of lading, an
air waybill) against the trade declarations that cover it. Pure: the figures in, the status
and findings' facts out; the thresholds come from ``rules/writeoff/rules.toml``."""
from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal


class LineStatus(str, enum.Enum):
    """``open``: no declaration yet; ``partial``: declarations cover part of it; ``written_off``:
    fully covered; ``over``: declarations claim more than the line carried; ``closed``: an
    exempt line whose e-lock journey ended released; ``cancelled``: withdrawn before moving."""

    OPEN = "open"
    PARTIAL = "partial"
    WRITTEN_OFF = "written_off"
    OVER = "over"
    CLOSED = "closed"
    CANCELLED = "cancelled"


FOLLOWED_UP = frozenset({LineStatus.OPEN.value, LineStatus.PARTIAL.value})


@dataclass(frozen=True, slots=True)
class Cover:
    """What one declaration says it covers of a line; ``None``: all of it."""

    package_count: int | None
    gross_mass: Decimal | None


@dataclass(frozen=True, slots=True)
class Reconciled:
    status: LineStatus
    packages_declared: int
    mass_declared: Decimal


def reconcile(package_count: int, gross_mass: Decimal, covers: Iterable[Cover],
              mass_tolerance_percent: Decimal) -> Reconciled:
    """Packages decide; the gross mass, when the line states one, may not be exceeded by more
    than the tolerance (scales and packing differ). A cover without packages covers the whole
    line; one without mass is taken as its share of the line's mass by packages."""
    packages, mass, any_cover = 0, Decimal(0), False
    for cover in covers:
        any_cover = True
        count = package_count if cover.package_count is None else cover.package_count
        packages += count
        if cover.gross_mass is not None:
            mass += cover.gross_mass
        elif package_count:
            mass += gross_mass * count / package_count
    if not any_cover:
        return Reconciled(LineStatus.OPEN, 0, Decimal(0))
    allowance = gross_mass * (1 + mass_tolerance_percent / 100)
    if packages > package_count or (gross_mass > 0 and mass > allowance):
        status = LineStatus.OVER
    elif packages < package_count:
        status = LineStatus.PARTIAL
    else:
        status = LineStatus.WRITTEN_OFF
    return Reconciled(status, packages, mass.quantize(Decimal("0.001")))


def follow_up_due(moved_at: datetime, period_days: int) -> datetime:
    """When a line still open or partial is followed up: the end of the period to declare."""
    return moved_at + timedelta(days=period_days)


#: The previous documents a declaration is written off against, and whose movement it takes.
LINE_KINDS = frozenset({"CRN", "BL", "AWB"})


def cargo_movement(previous: Iterable[tuple[str, str]], moved: Mapping[tuple[str, str], datetime | None]
                   ) -> datetime | None:
    """The goods' actual movement as customs recorded it (the truck's crossing, the vessel's
    or aircraft's arrival or departure): the earliest among the lines the declaration names,
    None when none of them has moved on record."""
    dates = [when for key in previous if (when := moved.get(key)) is not None]
    return min(dates) if dates else None
