"""Duty and charges: the worked examples of domain.md to the cent, the rate regimes by
date, and odd input that must become notes, never exceptions."""
from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from app.domain.charges import Assessment, ChargeLine, assess
from app.domain.declaration import (
    Declaration,
    DeclarationType,
    FunctionCode,
    GoodsItem,
    Party,
    PartyRole,
)
from app.rules.rates import RateTables, load_rate_tables

PROJECT_ROOT = Path(__file__).resolve().parents[2]
ON = date(2026, 11, 20)
HKT = timezone(timedelta(hours=8))
RATES = load_rate_tables(PROJECT_ROOT / "rules" / "rates")


def item(sequence: int = 1, hs_code: str = "85171300", value: str = "1000.00", currency: str = "HKD",
         quantity: str = "1", unit: str = "C62", **dutiable: object) -> GoodsItem:
    fields: dict[str, object] = {
        "sequence": sequence, "description": f"goods {sequence}", "hs_code": hs_code,
        "origin_country": "GB", "quantity": Decimal(quantity), "quantity_unit": unit,
        "net_mass": Decimal("1"), "gross_mass": Decimal("1.5"), "mass_unit": "KGM",
        "value": Decimal(value), "currency": currency,
    }
    fields.update(dutiable)
    return GoodsItem(**fields)  # type: ignore[arg-type]


def declaration(*items: GoodsItem, type: DeclarationType = DeclarationType.IMPORT,
                form: str | None = "1") -> Declaration:
    return Declaration(
        function_code=FunctionCode.ORIGINAL,
        lrn="LRN-CHARGES-1",
        type=type,
        issued_at=datetime(2026, 11, 20, 9, 30, tzinfo=HKT),
        parties=(Party(PartyRole.DECLARANT, "12345678", "Demo Trading Company Limited"),),
        transport_mode="1",
        goods_items=items or (item(),),
        form_code=form,
    )


def liquor(value: str, quantity: str, litres: str, strength: str = "40", hs_code: str = "22083000",
           currency: str = "HKD", unit: str = "C62", **kwargs: object) -> GoodsItem:
    """A liquor goods item (whisky at 40% unless told otherwise); kwargs override fields."""
    fields: dict[str, Any] = {"alcohol_strength": Decimal(strength), "volume_litres": Decimal(litres)}
    fields.update(kwargs)
    return item(hs_code=hs_code, value=value, currency=currency, quantity=quantity, unit=unit, **fields)


def duty_lines(result: Assessment) -> list[ChargeLine]:
    return [line for line in result.lines if line.kind == "duty"]


def only_duty(result: Assessment) -> ChargeLine:
    lines = duty_lines(result)
    assert len(lines) == 1, result
    return lines[0]


def charge_line(result: Assessment, kind: str = "declaration_charge") -> ChargeLine:
    (line,) = [line for line in result.lines if line.kind == kind]
    return line


# ------------------------------------------------------------ declaration charge


def test_worked_example_hk100000_non_food_import_pays_7_dollars() -> None:
    result = assess(declaration(item(value="100000.00")), RATES, ON)
    line = charge_line(result)
    assert line.amount == Decimal("7.00")  # 0.20 + 54 x 0.125 = 6.95, rounded up
    assert "54 x HK$1,000 or part" in line.base
    assert "rounded up to HK$0.10" in line.rate and "max HK$200" in line.rate
    assert result.declaration_charge == result.total == Decimal("7.00")
    assert result.value_hkd == Decimal("100000.00")
    assert result.notes == ()


@pytest.mark.parametrize(("value", "charge"), [
    ("0.00", "0.20"),
    ("46000.00", "0.20"),
    ("46000.01", "0.40"),      # one part of HK$1,000: 0.325 -> 0.40
    ("47000.00", "0.40"),
    ("47000.01", "0.50"),      # two: 0.45 -> 0.50
    ("444000.00", "50.00"),    # 398 steps: 49.95 -> 50.00 (the liquor sample)
    ("1644000.00", "200.00"),  # 1598 steps: 199.95 -> 200.00
])
def test_declaration_charge_bands_and_rounding_up(value: str, charge: str) -> None:
    assert assess(declaration(item(value=value)), RATES, ON).declaration_charge == Decimal(charge)


def test_declaration_charge_is_capped_at_200_for_a_huge_value() -> None:
    result = assess(declaration(item(value="987654321012345.67"), item(2, value="5000000.00")), RATES, ON)
    assert result.declaration_charge == Decimal("200.00")


def test_values_of_all_items_add_up_for_the_charge() -> None:
    result = assess(declaration(item(1, value="50000.00"), item(2, value="50000.00")), RATES, ON)
    assert result.declaration_charge == Decimal("7.00")


def test_export_form_2_pays_the_same_scale() -> None:
    result = assess(declaration(item(value="100000.00"), type=DeclarationType.EXPORT, form="2"), RATES, ON)
    assert result.declaration_charge == Decimal("7.00")
    assert result.clothing_levy == Decimal("0.00")


def test_food_import_form_1a_pays_a_flat_20_cents_whatever_the_value() -> None:
    result = assess(declaration(item(value="5000000.00"), form="1A"), RATES, ON)
    line = charge_line(result)
    assert line.amount == result.total == Decimal("0.20")
    assert "flat" in line.rate


@pytest.mark.parametrize(("type_", "form"), [
    (DeclarationType.IMPORT, "1B"),
    (DeclarationType.EXPORT, "2B"),
])
def test_charge_exempt_forms_pay_nothing(type_: DeclarationType, form: str | None) -> None:
    result = assess(declaration(item(value="900000.00"), type=type_, form=form), RATES, ON)
    line = charge_line(result)
    assert line.amount == Decimal("0.00") and line.rate == "exempt"
    assert result.total == Decimal("0.00")


@pytest.mark.parametrize("form", [None, "1"])
def test_a_transhipment_is_not_a_trade_declaration_and_has_no_declaration_charge(form: str | None) -> None:
    """Transhipment cargo is an exempted article (Cap 60E reg 3): no TDEC, so no charge line
    at all (not a charge-exempt TDEC), whatever form code is sent."""
    result = assess(declaration(item(value="900000.00"), type=DeclarationType.TRANSHIPMENT, form=form), RATES, ON)
    assert [line for line in result.lines if line.kind == "declaration_charge"] == []
    assert result.total == Decimal("0.00")
    assert any("not a trade declaration (TDEC)" in note for note in result.notes)


def test_without_a_form_code_the_form_the_goods_call_for_is_charged() -> None:
    result = assess(declaration(item(value="100000.00"), form=None), RATES, ON, assumed_form="1A")
    line = charge_line(result)
    assert line.amount == Decimal("0.20") and "the form the goods call for" in line.base
    levied = assess(declaration(item(value="1000.00"), type=DeclarationType.EXPORT, form=None), RATES, ON,
                    assumed_form="2A")
    assert levied.clothing_levy == Decimal("0.30")


@pytest.mark.parametrize(("on", "value", "charge"), [
    (date(2012, 7, 31), "100000.00", "14.00"),     # HK$0.50 + 54 x HK$0.25 = 14.00
    (date(2012, 8, 1), "100000.00", "7.00"),       # HK$0.20 + 54 x HK$0.125 = 6.95 -> 7.00
    (date(2018, 7, 31), "10000000.00", "1244.50"),  # no cap yet: 0.20 + 9954 x 0.125 = 1244.45 -> 1244.50
    (date(2018, 8, 1), "10000000.00", "200.00"),    # capped from 1 Aug 2018
])
def test_declaration_charge_regimes_by_date(on: date, value: str, charge: str) -> None:
    """domain.md: these rates from 1 Aug 2012 (before: HK$0.50 / HK$0.25), the cap from 1 Aug 2018."""
    result = assess(declaration(item(value=value)), RATES, on)
    assert result.declaration_charge == Decimal(charge)
    assert ("max HK$200" in charge_line(result).rate) == (on >= date(2018, 8, 1))


def test_food_form_before_august_2012_paid_50_cents() -> None:
    assert assess(declaration(item(value="5000.00"), form="1A"), RATES, date(2010, 1, 1)).total == Decimal("0.50")


def test_form_2a_pays_the_declaration_charge_and_the_clothing_levy() -> None:
    result = assess(declaration(item(hs_code="62052000", value="624000.00"),
                                type=DeclarationType.EXPORT, form="2A"), RATES, ON)
    assert result.declaration_charge == Decimal("72.50")  # 0.20 + 578 x 0.125 = 72.45 -> 72.50
    levy = charge_line(result, "clothing_levy")
    assert levy.amount == Decimal("187.20")  # 624 x 0.30
    assert "or part" in levy.rate
    assert result.total == Decimal("259.70")


@pytest.mark.parametrize(("value", "levy"), [
    ("0.00", "0.00"),
    ("999.99", "0.30"),
    ("1000.00", "0.30"),
    ("1000.01", "0.60"),  # a part of HK$1,000 counts as a whole one
    ("1164000.00", "349.20"),
])
def test_clothing_levy_charges_each_1000_or_part(value: str, levy: str) -> None:
    result = assess(declaration(item(value=value), type=DeclarationType.EXPORT, form="2A"), RATES, ON)
    assert result.clothing_levy == Decimal(levy)


def test_missing_form_code_is_charged_as_the_type_default() -> None:
    result = assess(declaration(item(value="100000.00"), form=None), RATES, ON)
    line = charge_line(result)
    assert line.amount == Decimal("7.00")
    assert "form 1 (assumed" in line.base


def test_unknown_form_is_a_note_not_an_error() -> None:
    result = assess(declaration(item(value="100000.00"), form="9Z"), RATES, ON)
    assert result.lines == () and result.total == Decimal("0.00")
    assert any("form 9Z" in note for note in result.notes)


# --------------------------------------------------------------------- liquor


def test_worked_example_one_07_litre_bottle_at_306_pays_210_60() -> None:
    line = only_duty(assess(declaration(liquor("306.00", "1", "0.7")), RATES, ON))
    assert line.amount == Decimal("210.60")  # 200 + 10% of 106
    assert line.commodity == "liquor" and line.goods_item_sequence == 1
    assert line.base == "1 bottle x 0.7 L at HK$306.00 per bottle"
    assert line.rate == "100% of first HK$200 + 10% of the rest per bottle (from 2024-10-16)"


def test_worked_example_one_15_litre_bottle_at_2250_pays_495() -> None:
    line = only_duty(assess(declaration(liquor("2250.00", "1", "1.5")), RATES, ON))
    assert line.amount == Decimal("495.00")  # P = 1,500/L, D = 200 + 130 = 330/L, x 1.5 L
    assert "HK$1,500.00 per litre, duty HK$330.00 per litre" in line.base
    assert "per litre" in line.rate


def test_liquor_sample_sized_item_is_taxed_per_bottle() -> None:
    # 1,200 bottles of 70 cl (840 L) for HK$216,000: HK$180 a bottle, all in the 100% tier
    line = only_duty(assess(declaration(liquor("216000.00", "1200", "840", unit="H87")), RATES, ON))
    assert line.amount == Decimal("216000.00")
    assert line.base.startswith("1,200 bottles x 0.7 L at HK$180.00 per bottle")


def test_liquor_duty_is_per_bottle_then_times_the_bottles() -> None:
    line = only_duty(assess(declaration(liquor("3672.00", "12", "9")), RATES, ON))
    assert line.amount == Decimal("2527.20")  # 12 x (200 + 10.60)


def test_exactly_one_litre_bottle_uses_the_per_bottle_rule() -> None:
    line = only_duty(assess(declaration(liquor("1200.00", "1", "1")), RATES, ON))
    assert line.amount == Decimal("300.00")  # 200 + 10% of 1,000


@pytest.mark.parametrize(("hs_code", "strength"), [
    ("22042100", "13.5"),  # wine
    ("22030000", "5"),     # beer
    ("22060000", "16"),    # sake
    ("22083000", "30"),    # liquor at exactly 30%: not above
])
def test_wine_and_liquor_at_or_below_30_percent_pay_nil(hs_code: str, strength: str) -> None:
    line = only_duty(assess(declaration(liquor("9000.00", "12", "9", strength, hs_code=hs_code)), RATES, ON))
    assert line.amount == Decimal("0.00")
    assert line.rate.startswith("nil at 30% abv or less")


def test_liquor_just_above_30_percent_pays() -> None:
    assert only_duty(assess(declaration(liquor("306.00", "1", "0.7", "30.1")), RATES, ON)).amount == Decimal("210.60")


def test_before_16_october_2024_liquor_paid_100_percent() -> None:
    line = only_duty(assess(declaration(liquor("306.00", "1", "0.7")), RATES, date(2024, 10, 15)))
    assert line.amount == Decimal("306.00")
    assert line.rate == "100% of the value per bottle (from 2008-02-27) [unconfirmed]"
    on_the_day = only_duty(assess(declaration(liquor("306.00", "1", "0.7")), RATES, date(2024, 10, 16)))
    assert on_the_day.amount == Decimal("210.60")


def test_liquor_value_in_usd_is_converted_first() -> None:
    line = only_duty(assess(declaration(liquor("100.00", "1", "0.7", currency="USD")), RATES, ON))
    assert line.amount == Decimal("257.80")  # USD 100 x 7.78 = HK$778: 200 + 57.80
    assert "USD 100.00 at HK$7.7800 per USD" in line.base


def test_bottle_size_unknown_uses_the_per_litre_fallback() -> None:
    result = assess(declaration(liquor("900.00", "6", "4.5", unit="LTR")), RATES, ON)
    line = only_duty(result)
    assert line.amount == Decimal("720.00")  # 4.5 L x HK$160
    assert "HK$160 per litre" in line.rate
    assert any("not a count of bottles" in note and "fallback" in note for note in result.notes)
    assert not any("provisional" in note for note in result.notes)


def test_fallback_on_12_litres_or_more_is_flagged_provisional() -> None:
    result = assess(declaration(liquor("9000.00", "0", "20")), RATES, ON)
    assert only_duty(result).amount == Decimal("3200.00")
    assert any("zero" in note for note in result.notes)
    assert any("under 12 L" in note and "provisional" in note for note in result.notes)


def test_liquor_declared_with_no_value_uses_the_fallback() -> None:
    result = assess(declaration(liquor("0.00", "2", "1.4")), RATES, ON)
    assert only_duty(result).amount == Decimal("224.00")
    assert any("no value declared" in note for note in result.notes)


def test_liquor_without_volume_or_strength_is_left_with_a_note() -> None:
    no_volume = assess(declaration(liquor("306.00", "1", "0.7", volume_litres=None)), RATES, ON)
    assert duty_lines(no_volume) == []
    assert any("no volume" in note for note in no_volume.notes)
    no_strength = assess(declaration(liquor("306.00", "1", "0.7", alcohol_strength=None)), RATES, ON)
    assert duty_lines(no_strength) == []
    assert any("strength not declared" in note for note in no_strength.notes)


def test_no_fallback_before_the_2024_regime() -> None:
    result = assess(declaration(liquor("900.00", "6", "4.5", unit="LTR")), RATES, date(2020, 1, 1))
    assert duty_lines(result) == []
    assert any("no per-litre fallback" in note for note in result.notes)


# --------------------------------------------------------------------- tobacco


def test_cigarettes_per_1000_sticks_at_the_2024_rate() -> None:
    line = only_duty(assess(declaration(item(hs_code="24022000", stick_count=100_000)), RATES, ON))
    assert line.amount == Decimal("330600.00")  # 100 x 3,306
    assert line.rate == "HK$3,306 per 1,000 sticks (from 2024-02-28) [unconfirmed]"


@pytest.mark.parametrize(("length", "counted", "amount"), [
    ("84", 1000, "3306.00"),
    ("90", 1000, "3306.00"),     # exactly 90 mm: not longer
    ("90.5", 2000, "6612.00"),   # a part of a further 90 mm counts
    ("180", 2000, "6612.00"),
    ("181", 3000, "9918.00"),
])
def test_long_cigarettes_count_one_more_per_further_90_mm_or_part(length: str, counted: int, amount: str) -> None:
    line = only_duty(assess(declaration(item(hs_code="24022000", stick_count=1000,
                                             length_mm=Decimal(length))), RATES, ON))
    assert line.amount == Decimal(amount)
    if counted > 1000:
        assert f"counted as {counted:,}" in line.base


@pytest.mark.parametrize(("on", "amount"), [
    (date(2023, 2, 21), "1906.00"),
    (date(2023, 2, 22), "2506.00"),
    (date(2024, 2, 27), "2506.00"),
    (date(2024, 2, 28), "3306.00"),
])
def test_cigarette_rate_follows_the_budget_dates(on: date, amount: str) -> None:
    line = only_duty(assess(declaration(item(hs_code="24022000", stick_count=1000)), RATES, on))
    assert line.amount == Decimal(amount)


def test_cigarettes_without_stick_count_use_a_quantity_in_thousands() -> None:
    line = only_duty(assess(declaration(item(hs_code="24022000", quantity="40", unit="MIL")), RATES, ON))
    assert line.amount == Decimal("132240.00")
    assert "from quantity 40 MIL" in line.base


def test_cigars_per_kg() -> None:
    line = only_duty(assess(declaration(item(hs_code="24021000", net_mass=Decimal("2.5"))), RATES, ON))
    assert line.amount == Decimal("10645.00")  # 2.5 kg x 4,258
    assert line.commodity == "cigars" and "per kg" in line.rate


def test_cigars_at_the_2014_rate() -> None:
    line = only_duty(assess(declaration(item(hs_code="24021000", net_mass=Decimal("2.5"))), RATES, date(2020, 6, 1)))
    assert line.amount == Decimal("6137.50")  # 2.5 x 2,455
    assert "[unconfirmed]" not in line.rate


def test_chinese_prepared_and_other_manufactured_tobacco_per_kg() -> None:
    result = assess(declaration(item(1, hs_code="24039910", net_mass=Decimal("10")),
                                item(2, hs_code="24031100", net_mass=Decimal("10"))), RATES, ON)
    chinese, other = duty_lines(result)
    assert (chinese.commodity, chinese.amount) == ("chinese_prepared_tobacco", Decimal("8110.00"))
    assert (other.commodity, other.amount) == ("other_manufactured_tobacco", Decimal("40050.00"))


# ------------------------------------------------------ hydrocarbon oil, methyl alcohol


def test_unleaded_petrol_per_litre() -> None:
    line = only_duty(assess(declaration(item(hs_code="27101211", volume_litres=Decimal("1000"))), RATES, ON))
    assert (line.commodity, line.amount) == ("unleaded_petrol", Decimal("6060.00"))
    assert line.rate == "HK$6.06 per litre (from 2000-01-01) [unconfirmed]"


def test_oil_volume_may_come_from_a_quantity_in_litres() -> None:
    line = only_duty(assess(declaration(item(hs_code="27101212", quantity="250.5", unit="LTR")), RATES, ON))
    assert line.amount == Decimal("1708.41")  # 250.5 x 6.82 = 1,708.41


def test_euro_v_diesel_pays_nil() -> None:
    line = only_duty(assess(declaration(item(hs_code="27101923", volume_litres=Decimal("30000"))), RATES, ON))
    assert line.amount == Decimal("0.00")


@pytest.mark.parametrize(("litres", "strength", "amount"), [
    ("100", "40", "1121.00"),     # 840 + 10 x 28.1
    ("200", "99.5", "5585.90"),   # 2 x (840 + 69.5 x 28.1)
    ("200", "25", "1680.00"),     # not above 30%: base rate only
])
def test_methyl_alcohol_per_100_litres_plus_strength_above_30(litres: str, strength: str, amount: str) -> None:
    line = only_duty(assess(declaration(item(hs_code="29051100", volume_litres=Decimal(litres),
                                             alcohol_strength=Decimal(strength))), RATES, ON))
    assert line.amount == Decimal(amount)


# ------------------------------------------------------------- currencies, totals


def test_non_hkd_value_is_converted_for_the_charge() -> None:
    result = assess(declaration(item(value="10000.00", currency="USD")), RATES, ON)
    assert result.value_hkd == Decimal("77800.00")  # 10,000 x 7.78 (row from 2026-01-01)
    assert result.declaration_charge == Decimal("4.20")  # 0.20 + 32 x 0.125 = 4.20
    assert "HK$7.7800 per USD" in charge_line(result).base
    earlier = assess(declaration(item(value="10000.00", currency="USD")), RATES, date(2025, 6, 1))
    assert earlier.value_hkd == Decimal("78100.00")  # the 2024 row


def test_unknown_currency_is_noted_and_dependent_lines_skipped() -> None:
    result = assess(declaration(item(1, value="1000.00"), liquor("300.00", "1", "0.7", currency="XYZ")), RATES, ON)
    assert duty_lines(result) == []
    assert result.declaration_charge == Decimal("0.00") and result.value_hkd is None
    assert any("no XYZ to HKD exchange rate" in note for note in result.notes)
    assert any("declaration charge not assessed" in note for note in result.notes)


def test_unknown_currency_does_not_matter_once_the_cap_is_reached() -> None:
    result = assess(declaration(item(1, value="2000000.00"), item(2, value="10.00", currency="XYZ")), RATES, ON)
    assert result.declaration_charge == Decimal("200.00")
    assert "already at the cap" in charge_line(result).base


def test_totals_add_up_over_duty_charge_and_levy() -> None:
    result = assess(declaration(liquor("306.00", "1", "0.7"), item(2, hs_code="24022000", stick_count=200),
                                item(3, value="100000.00")), RATES, ON)
    assert result.duty_total == Decimal("210.60") + Decimal("661.20")
    assert result.declaration_charge == Decimal("7.20")  # HK$101,306: 56 steps -> 7.20
    assert result.total == result.duty_total + result.declaration_charge + result.clothing_levy
    assert result.currency == "HKD"


def test_no_duty_on_exports_of_dutiable_goods() -> None:
    result = assess(declaration(liquor("306.00", "1", "0.7"), type=DeclarationType.EXPORT, form="2"), RATES, ON)
    assert duty_lines(result) == []
    assert any("duty is not charged on EX declarations" in note for note in result.notes)


def test_non_dutiable_goods_have_no_duty_line() -> None:
    assert duty_lines(assess(declaration(item(hs_code="85171300")), RATES, ON)) == []


# ------------------------------------------------------------------ odd input


ODD_ITEMS = [
    liquor("306.00", "0", "0", unit="C62"),                              # zero quantity and volume
    liquor("306.00", "1", "0.7", unit=""),                               # no unit
    item(hs_code="22083000", value="306.00"),                            # no strength, no volume
    item(hs_code="24022000", stick_count=0),                             # zero sticks
    item(hs_code="24021000", net_mass=Decimal("0")),                     # zero mass
    item(hs_code="27101211"),                                            # oil without volume
    item(hs_code="29051100", volume_litres=Decimal("10")),               # methyl alcohol, no strength
    item(value="NaN"),                                                   # not a number
    item(value="-5.00"),                                                 # negative
    item(currency=""),                                                   # no currency
    item(hs_code="", value="1.00"),                                      # no HS code
]


@pytest.mark.parametrize("odd", ODD_ITEMS, ids=lambda i: f"{i.hs_code}-{i.value}-{i.quantity}{i.quantity_unit}")
def test_odd_items_become_notes_never_exceptions(odd: GoodsItem) -> None:
    result = assess(declaration(odd), RATES, ON)
    assert isinstance(result, Assessment)
    assert result.total == sum((line.amount for line in result.lines), Decimal("0.00"))


def test_all_odd_items_together_still_assess() -> None:
    items = tuple(replace(odd, sequence=n) for n, odd in enumerate(ODD_ITEMS, start=1))
    result = assess(declaration(*items), RATES, ON)
    assert len(result.notes) >= len(ODD_ITEMS) - 1


def test_empty_rate_tables_give_notes_not_exceptions() -> None:
    result = assess(declaration(liquor("306.00", "1", "0.7")), RateTables(), ON)
    assert result.lines == () and result.total == Decimal("0.00")
    assert result.notes


def test_a_date_before_every_rate_gives_notes() -> None:
    result = assess(declaration(liquor("306.00", "1", "0.7"), item(2, hs_code="24022000", stick_count=10)),
                    RATES, date(1990, 1, 1))
    assert duty_lines(result) == []
    assert any("no liquor duty rate in force on 1990-01-01" in note for note in result.notes)
    assert any("no declaration charge rate" in note for note in result.notes)


# -------------------------------------------------------------------- samples


def _sample(name: str) -> Declaration:
    from app.intake.mapping import MAPPERS, NS_V1
    from app.platform.xml import parse_untrusted

    return MAPPERS[NS_V1](parse_untrusted((PROJECT_ROOT / "samples" / "valid" / name).read_bytes()))


def test_liquor_sample() -> None:
    result = assess(_sample("import-liquor.xml"), RATES, ON)
    whisky, wine = duty_lines(result)
    assert whisky.amount == Decimal("216000.00") and wine.amount == Decimal("0.00")
    assert result.declaration_charge == Decimal("50.00")
    assert result.total == Decimal("216050.00")
    assert result.notes == ()


def test_tobacco_sample() -> None:
    result = assess(_sample("import-tobacco.xml"), RATES, ON)
    assert [line.amount for line in duty_lines(result)] == [Decimal("330600.00"), Decimal("132240.00")]
    assert result.declaration_charge == Decimal("14.40")  # HK$159,000: 113 steps, 14.325 -> 14.40
    assert result.total == Decimal("462854.40")


def test_the_stored_charges_record_is_the_assessment_as_plain_data() -> None:
    """Money as two-decimal strings, lines and notes as lists, field by field (what
    ``dataclasses.asdict`` would give, without its deep copy)."""
    from app.domain.assessment import charges_record
    from app.domain.charges import Assessment, ChargeLine

    line = ChargeLine("duty", 2, "liquor", "12 bottles x 0.7 L", "100% of value", Decimal("1234.5"))
    record = charges_record(Assessment(lines=(line,), duty_total=Decimal("1234.5"), declaration_charge=Decimal("2.3"),
                                       clothing_levy=Decimal(0), total=Decimal("1236.8"), value_hkd=None,
                                       notes=("rate from 2024-10-16",)))
    assert record == {
        "lines": [{"kind": "duty", "goods_item_sequence": 2, "commodity": "liquor", "base": "12 bottles x 0.7 L",
                   "rate": "100% of value", "amount": "1234.50"}],
        "duty_total": "1234.50", "declaration_charge": "2.30", "clothing_levy": "0.00", "total": "1236.80",
        "value_hkd": None, "currency": "HKD", "notes": ["rate from 2024-10-16"], "penalty": "0.00"}
    assert list(record) == ["lines", "duty_total", "declaration_charge", "clothing_levy", "total", "value_hkd",
                            "currency", "notes", "penalty"]
