"""Duty, declaration charge, clothing levy and penalties of one declaration.

Pure: a declaration, the rate tables (``app.rules.rates.RateTables``) and the assessment
date in, an ``Assessment`` out; no I/O, no clock. Money is ``Decimal``: duty and the levy
are rounded half-up to cents once per charge line; the declaration charge rounds UP to
10 cents as its schedule says. Values in other currencies are converted to HKD at the
rate in force on the assessment date.

Odd input never raises: whatever cannot be assessed (missing volume, zero quantity, a
currency without an exchange rate, no rate in force) becomes a note and its line is
left out, so an officer sees exactly what is missing instead of a wrong figure.
"""
from __future__ import annotations

import decimal
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from functools import partial
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any, Protocol

from app.domain.declaration import Declaration, GoodsItem

if TYPE_CHECKING:
    from app.domain.rates import (
        ClothingLevyRate,
        DatedRate,
        DeclarationChargeRate,
        FormRule,
        LiquorRate,
        RateTables,
    )

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
HKD = "HKD"
DECLARATION_CHARGE = "declaration_charge"
CLOTHING_LEVY = "clothing_levy"
DUTY = "duty"
PENALTY = "penalty"

# quantity units that are themselves a volume, for goods declared without VolumeMeasure
_LITRES_PER_UNIT = {"LTR": Decimal(1), "CLT": Decimal("0.01"), "MLT": Decimal("0.001"), "MTQ": Decimal(1000)}
_STICKS_PER_UNIT = {"MIL": 1000}  # UN/ECE Rec 20 MIL = thousand (of cigarettes)


@dataclass(frozen=True, slots=True)
class ChargeLine:
    """One amount and how it was reached, in words an officer or trader can check."""

    kind: str  # "declaration_charge" | "clothing_levy" | "duty" | "penalty"
    goods_item_sequence: int | None
    commodity: str | None  # e.g. "liquor", "cigarettes", "unleaded_petrol"
    base: str  # e.g. "1,200 bottles x 0.7 L at HK$306.00 per bottle"
    rate: str  # e.g. "100% of first HK$200 + 10% of the rest per bottle (from 2024-10-16)"
    amount: Decimal  # HKD


@dataclass(frozen=True, slots=True)
class Assessment:
    """Everything payable on a declaration, in HKD. ``value_hkd`` is the declared value
    of all goods items in HKD (None when some item could not be converted); ``penalty`` the
    penalties the rules levy (late lodgement), part of ``total``."""

    lines: tuple[ChargeLine, ...]
    duty_total: Decimal
    declaration_charge: Decimal
    clothing_levy: Decimal
    total: Decimal
    value_hkd: Decimal | None = None
    currency: str = HKD
    notes: tuple[str, ...] = ()
    penalty: Decimal = ZERO

    def duty_by_commodity(self) -> dict[str, Decimal]:
        """The duty of each dutiable commodity (liquor, cigarettes, ...), in HKD."""
        result: dict[str, Decimal] = {}
        for line in self.lines:
            if line.kind == DUTY and line.commodity:
                result[line.commodity] = result.get(line.commodity, ZERO) + line.amount
        return result


class Levy(Protocol):
    """A finding that may levy an amount (``app.domain.findings.Finding``)."""

    @property
    def code(self) -> str: ...

    @property
    def message_en(self) -> str: ...

    @property
    def charge(self) -> Decimal | None: ...


def with_penalties(assessment: Assessment, findings: Sequence[Levy]) -> Assessment:
    """The assessment with a penalty line for each finding that levies one (R302: the
    late-lodgement penalty), counted in the total."""
    lines = [ChargeLine(PENALTY, None, None, finding.message_en, f"rule {finding.code}", _cents(charge))
             for finding in findings if (charge := finding.charge)]
    if not lines:
        return assessment
    with decimal.localcontext() as context:
        context.prec = 60  # totals may be as large as any declared value
        added = sum((line.amount for line in lines), ZERO)
        return replace(assessment, lines=(*assessment.lines, *lines), penalty=assessment.penalty + added,
                       total=(assessment.total + added).quantize(CENT))


@dataclass(frozen=True, slots=True)
class _Value:
    """A goods item's value in HKD (None when it cannot be had) and, when converted,
    the exchange rate used (e.g. "HK$7.78 per USD (from 2026-01-01)")."""

    hkd: Decimal | None
    declared: str = ""  # e.g. "USD 100.00"
    exchange: str | None = None

    @property
    def conversion(self) -> str | None:
        return f"{self.declared} at {self.exchange}" if self.exchange else None


def assess(declaration: Declaration, rates: RateTables, on: date, *, assumed_form: str | None = None) -> Assessment:
    """Assess ``declaration`` under the rates in force ``on`` (the assessment date).
    ``assumed_form``: the form the goods call for (``app.domain.forms.goods_form``), charged
    when the declaration states none; without it the type's ``default_form``."""
    notes: list[str] = []
    lines: list[ChargeLine] = []
    with decimal.localcontext() as context:
        context.prec = 60  # room for any declared value before rounding to cents
        values = [_value(item, rates, on, notes) for item in declaration.goods_items]
        lines.extend(_charges(declaration, values, rates, on, notes, assumed_form))
        lines.extend(_duties(declaration, values, rates, on, notes))

        def total(kind: str) -> Decimal:
            return sum((line.amount for line in lines if line.kind == kind), ZERO).quantize(CENT)

        known = [v.hkd for v in values if v.hkd is not None]
        value_hkd = _cents(sum(known, ZERO)) if len(known) == len(values) else None
        duty, charge, levy = total(DUTY), total(DECLARATION_CHARGE), total(CLOTHING_LEVY)
        return Assessment(
            lines=tuple(lines),
            duty_total=duty,
            declaration_charge=charge,
            clothing_levy=levy,
            total=(duty + charge + levy).quantize(CENT),
            value_hkd=value_hkd,
            notes=tuple(notes),
        )


# ------------------------------------------------------------ declaration charge


def _charges(declaration: Declaration, values: Sequence[_Value], rates: RateTables, on: date,
             notes: list[str], assumed_form: str | None = None) -> list[ChargeLine]:
    """Declaration charge and clothing levy, by declaration type and form."""
    type_code = str(getattr(declaration.type, "value", declaration.type))
    type_rule = rates.declaration_types.get(type_code)
    if type_rule is None:
        notes.append(f"declaration type {type_code} has no charge rules; no declaration charge assessed")
        return []
    if not type_rule.tdec:
        notes.append(f"a {type_code} declaration is not a trade declaration (TDEC): transhipment cargo is an "
                     "exempted article, so no declaration charge applies")
        return []
    given = str(declaration.form_code or "").strip().upper() or None
    form_code = given or assumed_form or type_rule.default_form
    if form_code is None:
        notes.append(f"no form code on this {type_code} declaration and none assumed; "
                     "no declaration charge assessed")
        return []
    form = rates.forms.get(form_code)
    if form is None:
        notes.append(f"form {form_code} is not a known TDEC form; no declaration charge assessed")
        return []
    if form.declaration_type != type_code:
        notes.append(f"form {form_code} is for {form.declaration_type} declarations, "
                     f"this one is {type_code}; charged as form {form_code}")
    if given:
        form_text = f"form {form_code}"
    elif assumed_form:
        form_text = f"form {form_code} (the form the goods call for: no form code given)"
    else:
        form_text = f"form {form_code} (assumed: no form code given)"
    if form.charge == "exempt":
        return [ChargeLine(DECLARATION_CHARGE, None, None, f"{form_text}: charge-exempt", "exempt", ZERO)]
    result: list[ChargeLine] = []
    charge = _guard(notes, "declaration charge",
                    lambda: _declaration_charge(form, form_text, values, declaration, rates, on, notes))
    if charge is not None:
        result.append(charge)
    if form.clothing_levy:
        levy = _guard(notes, "clothing levy",
                      lambda: _clothing_levy(form_text, values, declaration, rates, on, notes))
        if levy is not None:
            result.append(levy)
    return result


def _declaration_charge(form: FormRule, form_text: str, values: Sequence[_Value],
                        declaration: Declaration, rates: RateTables, on: date,
                        notes: list[str]) -> ChargeLine | None:
    rate = rates.declaration_charge.rate_for(on)
    if rate is None:
        notes.append(f"no declaration charge rate in force on {on}; declaration charge not assessed")
        return None
    if form.charge == "flat":
        return ChargeLine(DECLARATION_CHARGE, None, None, f"{form_text}: flat charge",
                          f"flat {_rate_money(rate.flat_charge)} per declaration{_since(rate)}",
                          _cents(rate.flat_charge))
    known, missing = _declared_total(values, declaration)
    amount, steps = _scaled_charge(known, rate)
    if missing and (rate.cap is None or amount < rate.cap):
        notes.append(f"declaration charge not assessed: the value of goods item(s) {missing} "
                     "is not known in HKD")
        return None
    base = f"{form_text}: declared value {_hkd(known)}"
    if missing:
        base += f" without goods item(s) {missing} (already at the cap)"
    if steps:
        base += (f" = first {_rate_money(rate.first_band_value)} + {steps:,} x "
                 f"{_rate_money(rate.step_value)} or part")
    cap = f", max {_rate_money(rate.cap)}" if rate.cap is not None else ""
    text = (f"{_rate_money(rate.first_band_charge)} on the first {_rate_money(rate.first_band_value)} + "
            f"{_rate_money(rate.step_charge)} per further {_rate_money(rate.step_value)} or part, "
            f"rounded up to {_rate_money(rate.round_up_to)}{cap}{_since(rate)}")
    return ChargeLine(DECLARATION_CHARGE, None, None, base + _conversions(values), text, amount)


def _scaled_charge(value: Decimal, rate: DeclarationChargeRate) -> tuple[Decimal, int]:
    """The charge on ``value`` and the number of further steps charged."""
    steps = Decimal(0)
    if value > rate.first_band_value:
        steps = ((value - rate.first_band_value) / rate.step_value).to_integral_value(ROUND_CEILING)
    charge = rate.first_band_charge + steps * rate.step_charge
    charge = (charge / rate.round_up_to).to_integral_value(ROUND_CEILING) * rate.round_up_to
    return _cents(charge if rate.cap is None else min(charge, rate.cap)), int(steps)


def _clothing_levy(form_text: str, values: Sequence[_Value], declaration: Declaration,
                   rates: RateTables, on: date, notes: list[str]) -> ChargeLine | None:
    rate: ClothingLevyRate | None = rates.clothing_levy.rate_for(on)
    if rate is None:
        notes.append(f"no clothing levy rate in force on {on}; clothing levy not assessed")
        return None
    known, missing = _declared_total(values, declaration)
    if missing:
        notes.append(f"clothing levy not assessed: the value of goods item(s) {missing} is not known in HKD")
        return None
    units = known / rate.unit_value
    if rate.part_of_unit == "whole":
        units = units.to_integral_value(ROUND_CEILING)
        base = f"{form_text}: declared value {_hkd(known)} = {_n(units)} x {_rate_money(rate.unit_value)} or part"
        text = f"{_rate_money(rate.per_unit)} per {_rate_money(rate.unit_value)} or part{_since(rate)}"
    else:
        base = f"{form_text}: declared value {_hkd(known)}"
        text = f"{_rate_money(rate.per_unit)} per {_rate_money(rate.unit_value)}, pro rata{_since(rate)}"
    return ChargeLine(CLOTHING_LEVY, None, None, base + _conversions(values), text,
                      _cents(units * rate.per_unit))


def _declared_total(values: Sequence[_Value], declaration: Declaration) -> tuple[Decimal, str]:
    """Sum of the values known in HKD, and the sequences of the items that are not."""
    known = sum((v.hkd for v in values if v.hkd is not None), Decimal(0))
    missing = ", ".join(str(item.sequence) for item, v in zip(declaration.goods_items, values) if v.hkd is None)
    return known, missing


def _conversions(values: Sequence[_Value]) -> str:
    """The exchange rates used, once each (a declaration may have hundreds of items)."""
    used = sorted({v.exchange for v in values if v.exchange and v.hkd is not None})
    return f" (converted to HKD at {'; '.join(used)})" if used else ""


# ------------------------------------------------------------------------ values


def _value(item: GoodsItem, rates: RateTables, on: date, notes: list[str]) -> _Value:
    """The item's value in HKD, noting why when there is none."""
    value = _number(item.value)
    if value is None or value < 0:
        notes.append(f"goods item {item.sequence}: value {item.value} is not a usable amount")
        return _Value(None)
    currency = str(item.currency or "").strip().upper()
    if currency == HKD:
        return _Value(value)
    if not currency:
        notes.append(f"goods item {item.sequence}: no currency given for the value")
        return _Value(None)
    rate = rates.exchange_rate(currency, on)
    if rate is None:
        notes.append(f"goods item {item.sequence}: no {currency} to HKD exchange rate in force on {on}; "
                     "charges that depend on its value are not assessed")
        return _Value(None)
    flag = "" if rate.confirmed else ", unconfirmed"
    exchange = f"{_rate_money(rate.hkd_per_unit)} per {currency} (from {rate.effective_from.isoformat()}{flag})"
    return _Value(value * rate.hkd_per_unit, f"{currency} {_money(value)}", exchange)


# --------------------------------------------------------------------------- duty


def _duties(declaration: Declaration, values: Sequence[_Value], rates: RateTables, on: date,
            notes: list[str]) -> list[ChargeLine]:
    type_code = str(getattr(declaration.type, "value", declaration.type))
    type_rule = rates.declaration_types.get(type_code)
    dutiable = [(item, value, rule) for item, value in zip(declaration.goods_items, values)
                if (rule := rates.classify(str(item.hs_code or ""))) is not None]
    if not dutiable:
        return []
    items = ", ".join(f"{item.sequence} ({rule.commodity})" for item, _, rule in dutiable)
    if type_rule is None:
        notes.append(f"declaration type {type_code} has no duty rules; duty on goods item(s) {items} not assessed")
        return []
    if not type_rule.duty:
        notes.append(f"goods item(s) {items} are dutiable commodities; "
                     f"duty is not charged on {type_code} declarations")
        return []
    methods: dict[str, Callable[[GoodsItem, str, _Value, RateTables, date, list[str]], ChargeLine | None]] = {
        "liquor": _liquor,
        "tobacco": _tobacco,
        "hydrocarbon_oil": _hydrocarbon_oil,
        "methyl_alcohol": _methyl_alcohol,
    }
    lines: list[ChargeLine] = []
    for item, value, rule in dutiable:
        method = methods.get(rule.duty)
        if method is None:
            notes.append(f"goods item {item.sequence} ({rule.commodity}): no duty method {rule.duty!r}")
            continue
        line = _guard(notes, f"goods item {item.sequence} ({rule.commodity}) duty",
                      partial(method, item, rule.commodity, value, rates, on, notes))
        if line is not None:
            lines.append(line)
    return lines


def _liquor(item: GoodsItem, commodity: str, value: _Value, rates: RateTables, on: date,
            notes: list[str]) -> ChargeLine | None:
    """Ad valorem in two tiers per bottle (per litre for bottles over 1 L) above 30% abv."""
    label = f"goods item {item.sequence} ({commodity})"
    rate = rates.liquor.rate_for(on)
    if rate is None:
        notes.append(f"{label}: no liquor duty rate in force on {on}; duty not assessed")
        return None
    strength = _number(item.alcohol_strength)
    if strength is None:
        notes.append(f"{label}: alcohol strength not declared, so it cannot be told whether it is above "
                     f"{_n(rate.strength_above_percent)}% abv; duty not assessed")
        return None
    if strength <= rate.strength_above_percent:
        return ChargeLine(DUTY, item.sequence, commodity, f"{_n(strength)}% abv",
                          f"nil at {_n(rate.strength_above_percent)}% abv or less{_since(rate)}", ZERO)
    bottle, why = _bottle_litres(item, rates.count_units)
    if bottle is not None:
        if value.hkd is None:
            notes.append(f"{label}: value not known in HKD; liquor duty not assessed")
            return None
        if value.hkd > 0:
            return _liquor_ad_valorem(item, commodity, value, bottle, rate)
        why = "no value declared"
    return _liquor_fallback(item, commodity, strength, why, rate, on, notes)


def _liquor_ad_valorem(item: GoodsItem, commodity: str, value: _Value, bottle: Decimal,
                       rate: LiquorRate) -> ChargeLine:
    assert value.hkd is not None
    count = Decimal(item.quantity)
    per_bottle = value.hkd / count
    tiers = _tiers_text(rate)
    base = f"{_n(count)} {'bottle' if count == 1 else 'bottles'} x {_n(bottle)} L at {_hkd(per_bottle)} per bottle"
    if bottle <= rate.per_litre_above_litres:
        duty_per_bottle = _tiers(per_bottle, rate)
        text = f"{tiers} per bottle{_since(rate)}"
    else:
        per_litre = per_bottle / bottle
        duty_per_litre = _tiers(per_litre, rate)
        duty_per_bottle = duty_per_litre * bottle
        base += f" = {_hkd(per_litre)} per litre, duty {_hkd(duty_per_litre)} per litre"
        text = (f"{tiers} of the value per litre, times the litres, for bottles over "
                f"{_n(rate.per_litre_above_litres)} L{_since(rate)}")
    if value.conversion:
        base += f" (converted: {value.conversion})"
    return ChargeLine(DUTY, item.sequence, commodity, base, text, _cents(duty_per_bottle * count))


def _liquor_fallback(item: GoodsItem, commodity: str, strength: Decimal, why: str, rate: LiquorRate,
                     on: date, notes: list[str]) -> ChargeLine | None:
    """The per-litre rate where the value per bottle cannot be set."""
    label = f"goods item {item.sequence} ({commodity})"
    if rate.fallback_per_litre is None:
        notes.append(f"{label}: {why}; no per-litre fallback rate is in force on {on}; duty not assessed")
        return None
    litres = _litres(item)
    if litres is None:
        notes.append(f"{label}: {why}; without a volume the per-litre fallback cannot apply either; "
                     "duty not assessed")
        return None
    notes.append(f"{label}: {why}; duty charged at the fallback "
                 f"{_rate_money(rate.fallback_per_litre)} per litre")
    if rate.fallback_below_litres is not None and litres >= rate.fallback_below_litres:
        notes.append(f"{label}: the per-litre fallback is documented for quantities under "
                     f"{_n(rate.fallback_below_litres)} L and this item has {_n(litres)} L; "
                     "the amount is provisional, for an officer to confirm")
    return ChargeLine(DUTY, item.sequence, commodity, f"{_n(litres)} L at {_n(strength)}% abv",
                      f"{_rate_money(rate.fallback_per_litre)} per litre where the value cannot be set"
                      f"{_since(rate)}", _cents(litres * rate.fallback_per_litre))


def _tiers(value: Decimal, rate: LiquorRate) -> Decimal:
    first = min(value, rate.first_tier_value)
    rest = max(value - rate.first_tier_value, Decimal(0))
    return (first * rate.first_tier_percent + rest * rate.rest_percent) / 100


def _tiers_text(rate: LiquorRate) -> str:
    if rate.first_tier_percent == rate.rest_percent:
        return f"{_n(rate.rest_percent)}% of the value"
    return (f"{_n(rate.first_tier_percent)}% of first {_rate_money(rate.first_tier_value)} + "
            f"{_n(rate.rest_percent)}% of the rest")


def _bottle_litres(item: GoodsItem, count_units: frozenset[str]) -> tuple[Decimal | None, str]:
    """Litres per bottle = item volume / number of bottles, or why it cannot be derived."""
    volume = _number(item.volume_litres)
    unit = str(item.quantity_unit or "").strip().upper()
    quantity = _number(item.quantity)
    if volume is None or volume <= 0:
        return None, "no volume declared, so the bottle size cannot be derived"
    if unit not in count_units:
        return None, f"quantity unit {unit or '(none)'} is not a count of bottles, so the bottle size cannot be derived"
    if quantity is None or quantity <= 0:
        return None, "the number of bottles is zero, so the bottle size cannot be derived"
    return volume / quantity, ""


def _litres(item: GoodsItem) -> Decimal | None:
    """The item's volume: VolumeMeasure, or a quantity declared in a volume unit."""
    volume = _number(item.volume_litres)
    if volume is not None and volume > 0:
        return volume
    factor = _LITRES_PER_UNIT.get(str(item.quantity_unit or "").strip().upper())
    quantity = _number(item.quantity)
    if factor is not None and quantity is not None and quantity > 0:
        return quantity * factor
    return None


def _rate_in_force(schedules: Mapping[str, Any], commodity: str, on: date, label: str,
                   notes: list[str]) -> Any:
    """The commodity's rate on ``on``, or None with a note saying duty was not assessed."""
    schedule = schedules.get(commodity)
    rate = schedule.rate_for(on) if schedule is not None else None
    if rate is None:
        notes.append(f"{label}: no {commodity} duty rate in force on {on}; duty not assessed")
    return rate


def _tobacco(item: GoodsItem, commodity: str, value: _Value, rates: RateTables, on: date,
             notes: list[str]) -> ChargeLine | None:
    """Specific duty per 1,000 sticks (long sticks count more) or per kg."""
    label = f"goods item {item.sequence} ({commodity})"
    rate = _rate_in_force(rates.tobacco, commodity, on, label, notes)
    if rate is None:
        return None
    if rate.per == "kg":
        kg = _number(item.net_mass)
        if kg is None or kg <= 0 or str(item.mass_unit or "KGM").upper() != "KGM":
            notes.append(f"{label}: no usable net mass in kg; duty not assessed")
            return None
        return ChargeLine(DUTY, item.sequence, commodity, f"{_n(kg)} kg net",
                          f"{_rate_money(rate.amount)} per kg{_since(rate)}", _cents(kg * rate.amount))
    sticks, source = _sticks(item)
    if sticks is None:
        notes.append(f"{label}: no usable number of sticks declared; duty not assessed")
        return None
    counted, base = sticks, f"{_n(sticks)} sticks{source}"
    length = _number(item.length_mm)
    if rate.long_stick_mm is not None and length is not None and length > rate.long_stick_mm:
        each = (length / rate.long_stick_mm).to_integral_value(ROUND_CEILING)
        counted = sticks * each
        base += (f" of {_n(length)} mm, counted as {_n(counted)} (one more per further "
                 f"{_n(rate.long_stick_mm)} mm or part)")
    return ChargeLine(DUTY, item.sequence, commodity, base,
                      f"{_rate_money(rate.amount)} per 1,000 sticks{_since(rate)}",
                      _cents(counted * rate.amount / 1000))


def _sticks(item: GoodsItem) -> tuple[Decimal | None, str]:
    """StickQuantity, or a quantity declared in thousands (MIL)."""
    sticks = _number(item.stick_count)
    if sticks is not None and sticks > 0:
        return sticks, ""
    unit = str(item.quantity_unit or "").strip().upper()
    quantity = _number(item.quantity)
    if unit in _STICKS_PER_UNIT and quantity is not None and quantity > 0:
        return quantity * _STICKS_PER_UNIT[unit], f" (from quantity {_n(quantity)} {unit})"
    return None, ""


def _hydrocarbon_oil(item: GoodsItem, commodity: str, value: _Value, rates: RateTables, on: date,
                     notes: list[str]) -> ChargeLine | None:
    label = f"goods item {item.sequence} ({commodity})"
    rate = _rate_in_force(rates.hydrocarbon_oil, commodity, on, label, notes)
    if rate is None:
        return None
    litres = _litres(item)
    if litres is None:
        notes.append(f"{label}: no volume in litres declared; duty not assessed")
        return None
    return ChargeLine(DUTY, item.sequence, commodity, f"{_n(litres)} L",
                      f"{_rate_money(rate.per_litre)} per litre{_since(rate)}", _cents(litres * rate.per_litre))


def _methyl_alcohol(item: GoodsItem, commodity: str, value: _Value, rates: RateTables, on: date,
                    notes: list[str]) -> ChargeLine | None:
    """Per 100 L, plus a further amount per 100 L per 1% of strength above 30% (pro rata)."""
    label = f"goods item {item.sequence} ({commodity})"
    rate = rates.methyl_alcohol.rate_for(on)
    if rate is None:
        notes.append(f"{label}: no methyl alcohol duty rate in force on {on}; duty not assessed")
        return None
    litres = _litres(item)
    strength = _number(item.alcohol_strength)
    if litres is None or strength is None:
        missing = "volume" if litres is None else "strength"
        notes.append(f"{label}: no {missing} declared; duty not assessed")
        return None
    above = max(strength - rate.strength_above_percent, Decimal(0))
    per_100 = rate.per_100_litres + rate.per_100_litres_per_percent * above
    return ChargeLine(
        DUTY, item.sequence, commodity,
        f"{_n(litres)} L at {_n(strength)}% ({_n(above)} points above {_n(rate.strength_above_percent)}%)"
        f" = {_hkd(per_100)} per 100 L",
        f"{_rate_money(rate.per_100_litres)} per 100 L + {_rate_money(rate.per_100_litres_per_percent)} "
        f"per 100 L per 1% above {_n(rate.strength_above_percent)}%{_since(rate)}",
        _cents(litres * per_100 / 100),
    )


# ------------------------------------------------------------------------ helpers


def _guard(notes: list[str], what: str, compute: Callable[[], ChargeLine | None]) -> ChargeLine | None:
    """Last line of defence for "never raise": arithmetic on odd input becomes a note."""
    try:
        return compute()
    except (ArithmeticError, TypeError, ValueError, AttributeError) as exc:
        notes.append(f"{what} could not be computed ({type(exc).__name__}); left for an officer")
        return None


def _number(value: Any) -> Decimal | None:
    """A finite Decimal, or None for anything else (None, NaN, text, booleans)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, Decimal) and value.is_finite():
        return value
    return None


def _cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def _n(value: Decimal | int) -> str:
    """A quantity for people: thousands separators, at most 4 decimals, no exponent."""
    number = Decimal(value)
    try:
        if number != number.to_integral_value():
            number = number.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)
        return f"{number.normalize():,f}"
    except ArithmeticError:
        return str(number)


def _money(amount: Decimal) -> str:
    return f"{_cents(amount):,}"


def _hkd(amount: Decimal) -> str:
    return f"HK${_money(amount)}"


def _rate_money(amount: Decimal) -> str:
    """A figure from the rate table as written there (HK$0.20, HK$46,000, HK$28.1)."""
    return f"HK${amount:,f}"


def _since(rate: DatedRate) -> str:
    return f" (from {rate.effective_from.isoformat()})" + ("" if rate.confirmed else " [unconfirmed]")
