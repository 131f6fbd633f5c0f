"""Duty and charge rates as the assessment reads them: dated rows (a change is a new row, never
an edit), schedules of them, and the non-dated rules (forms, declaration types, commodities).
Loaded and validated from ``rules/rates/*.toml`` by ``app.rules.rates``."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from types import MappingProxyType
from typing import Any, Generic, Literal, TypeVar


# ----------------------------------------------------------------------------- rows


@dataclass(frozen=True, slots=True)
class DatedRate:
    """What every rate row has: when it is in force and whether the figure is confirmed."""

    effective_from: date
    effective_until: date | None
    confirmed: bool

    def in_force(self, on: date) -> bool:
        return self.effective_from <= on and (self.effective_until is None or on <= self.effective_until)


@dataclass(frozen=True, slots=True)
class DeclarationChargeRate(DatedRate):
    """Charge on non-food imports and all exports: a first band, then a charge per step
    of value "or part", rounded up, capped; ``flat_charge`` is for food imports."""

    first_band_value: Decimal
    first_band_charge: Decimal
    step_value: Decimal
    step_charge: Decimal
    round_up_to: Decimal
    cap: Decimal | None  # None: no cap (before 1 Aug 2018)
    flat_charge: Decimal


@dataclass(frozen=True, slots=True)
class ClothingLevyRate(DatedRate):
    """Clothing Industry Training Levy: ``per_unit`` per ``unit_value`` of value.
    ``part_of_unit``: ``whole`` = a part of a unit is charged as a whole one,
    ``pro_rata`` = the exact share, rounded half-up to cents."""

    unit_value: Decimal
    per_unit: Decimal
    part_of_unit: Literal["whole", "pro_rata"]


@dataclass(frozen=True, slots=True)
class LiquorRate(DatedRate):
    """Ad valorem liquor duty in two tiers, above a strength threshold.

    Bottles up to ``per_litre_above_litres`` pay the tiers on the bottle's value; larger
    ones pay the tiers on the value per litre, times the litres. ``fallback_per_litre``
    is the specific rate where the value cannot be set (documented for quantities under
    ``fallback_below_litres``)."""

    strength_above_percent: Decimal
    first_tier_value: Decimal
    first_tier_percent: Decimal
    rest_percent: Decimal
    per_litre_above_litres: Decimal
    fallback_per_litre: Decimal | None
    fallback_below_litres: Decimal | None


@dataclass(frozen=True, slots=True)
class TobaccoRate(DatedRate):
    """Specific tobacco duty: per 1,000 sticks (cigarettes, with the long-stick rule)
    or per kg."""

    kind: str
    amount: Decimal
    per: Literal["1000_sticks", "kg"]
    long_stick_mm: Decimal | None


@dataclass(frozen=True, slots=True)
class HydrocarbonOilRate(DatedRate):
    kind: str
    per_litre: Decimal


@dataclass(frozen=True, slots=True)
class MethylAlcoholRate(DatedRate):
    """Per 100 litres, plus a further amount per 100 litres per 1% above a strength."""

    per_100_litres: Decimal
    strength_above_percent: Decimal
    per_100_litres_per_percent: Decimal


@dataclass(frozen=True, slots=True)
class ExchangeRate(DatedRate):
    currency: str
    hkd_per_unit: Decimal


R = TypeVar("R", bound=DatedRate)


@dataclass(frozen=True, slots=True)
class Schedule(Generic[R]):
    """The dated rows of one rate, oldest first."""

    kind: str
    rows: tuple[R, ...] = ()

    def rate_for(self, on: date) -> R | None:
        """The row in force ``on``: the latest started one, unless it has ended."""
        for row in reversed(self.rows):
            if row.effective_from <= on:
                return row if row.in_force(on) else None
        return None


# ----------------------------------------------------------------- non-dated rules


@dataclass(frozen=True, slots=True)
class FormRule:
    """A TDEC form: which declaration type it belongs to and how it is charged."""

    code: str
    declaration_type: str
    charge: Literal["scaled", "flat", "exempt"]
    clothing_levy: bool


@dataclass(frozen=True, slots=True)
class DeclarationTypeRule:
    """Per declaration type (IM/EX/TS): the form assumed when none is given, whether it
    is a trade declaration (TDEC) at all (transhipment cargo is an exempted article: no
    TDEC, so no declaration charge), and whether dutiable goods pay duty on it."""

    code: str
    default_form: str | None
    tdec: bool
    duty: bool


DutyMethod = Literal["liquor", "tobacco", "hydrocarbon_oil", "methyl_alcohol"]


@dataclass(frozen=True, slots=True)
class CommodityRule:
    """HS code prefix -> dutiable commodity and the duty method that applies."""

    hs_prefix: str
    commodity: str
    duty: DutyMethod


def frozen_map(values: Mapping[str, Any] | None = None) -> Mapping[str, Any]:
    return MappingProxyType(dict(values or {}))


@dataclass(frozen=True)
class RateTables:
    """All rate tables, validated. Every section is optional: a rate not in force on a
    date is reported by the assessment, not by the loader."""

    declaration_charge: Schedule[DeclarationChargeRate] = Schedule("declaration_charge")
    clothing_levy: Schedule[ClothingLevyRate] = Schedule("clothing_levy")
    liquor: Schedule[LiquorRate] = Schedule("liquor")
    methyl_alcohol: Schedule[MethylAlcoholRate] = Schedule("methyl_alcohol")
    tobacco: Mapping[str, Schedule[TobaccoRate]] = field(default_factory=frozen_map)
    hydrocarbon_oil: Mapping[str, Schedule[HydrocarbonOilRate]] = field(default_factory=frozen_map)
    exchange_rates: Mapping[str, Schedule[ExchangeRate]] = field(default_factory=frozen_map)
    forms: Mapping[str, FormRule] = field(default_factory=frozen_map)
    declaration_types: Mapping[str, DeclarationTypeRule] = field(default_factory=frozen_map)
    commodities: tuple[CommodityRule, ...] = ()
    count_units: frozenset[str] = frozenset()
    files: tuple[str, ...] = ()

    def schedule(self, kind: str) -> Schedule[Any]:
        """The schedule of ``kind``: ``declaration_charge``, ``clothing_levy``, ``liquor``,
        ``methyl_alcohol``, a tobacco kind (``cigarettes``...), a hydrocarbon oil type
        (``unleaded_petrol``...) or ``exchange:USD``. Unknown kinds raise ``KeyError``."""
        fixed: dict[str, Schedule[Any]] = {
            "declaration_charge": self.declaration_charge,
            "clothing_levy": self.clothing_levy,
            "liquor": self.liquor,
            "methyl_alcohol": self.methyl_alcohol,
        }
        if kind in fixed:
            return fixed[kind]
        if kind.startswith("exchange:"):
            return self.exchange_rates[kind.removeprefix("exchange:").upper()]
        if kind in self.tobacco:
            return self.tobacco[kind]
        if kind in self.hydrocarbon_oil:
            return self.hydrocarbon_oil[kind]
        raise KeyError(f"no rate table of kind {kind!r}")

    def rate_for(self, kind: str, on: date) -> DatedRate | None:
        """The row of ``kind`` in force on ``on`` (None when none is)."""
        return self.schedule(kind).rate_for(on)

    def exchange_rate(self, currency: str, on: date) -> ExchangeRate | None:
        schedule = self.exchange_rates.get(currency.upper())
        return schedule.rate_for(on) if schedule is not None else None

    def classify(self, hs_code: str) -> CommodityRule | None:
        """The commodity rule with the longest HS prefix matching ``hs_code``."""
        code = hs_code.strip().replace(".", "")
        for rule in self.commodities:  # longest prefix first
            if code.startswith(rule.hs_prefix):
                return rule
        return None


