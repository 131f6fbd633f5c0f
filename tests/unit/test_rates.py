"""Rate tables: the shipped files load and hold the figures of domain.md; rows are
picked by date; a bad file names its file and line."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from app.rules.rates import (
    LiquorRate,
    RateTableError,
    TobaccoRate,
    load_rate_files,
    load_rate_tables,
)

RATES_DIR = Path(__file__).resolve().parents[2] / "rules" / "rates"
RATES = load_rate_tables(RATES_DIR)


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


# ---------------------------------------------------------------- shipped tables


def test_shipped_tables_load_every_section() -> None:
    assert RATES.declaration_charge.rows and RATES.clothing_levy.rows and RATES.liquor.rows
    assert RATES.methyl_alcohol.rows and RATES.commodities and RATES.count_units
    assert set(RATES.tobacco) == {"cigarettes", "cigars", "chinese_prepared_tobacco", "other_manufactured_tobacco"}
    assert set(RATES.hydrocarbon_oil) == {"aircraft_spirit", "leaded_petrol", "unleaded_petrol",
                                         "light_diesel", "ultra_low_sulphur_diesel", "euro_v_diesel"}
    assert {"USD", "CNY", "EUR", "GBP", "JPY", "MOP"} <= set(RATES.exchange_rates)
    assert set(RATES.forms) == {"1", "1A", "1B", "2", "2A", "2B"}


def test_declaration_charge_figures() -> None:
    rate = RATES.declaration_charge.rate_for(date(2026, 1, 1))
    assert rate is not None
    assert (rate.first_band_value, rate.first_band_charge, rate.step_value, rate.step_charge) == (
        Decimal(46000), Decimal("0.20"), Decimal(1000), Decimal("0.125"))
    assert (rate.round_up_to, rate.cap, rate.flat_charge) == (Decimal("0.10"), Decimal(200), Decimal("0.20"))
    assert [RATES.forms[code].charge for code in ("1", "1A", "1B", "2", "2A", "2B")] == [
        "scaled", "flat", "exempt", "scaled", "scaled", "exempt"]
    assert [code for code, form in RATES.forms.items() if form.clothing_levy] == ["2A"]
    assert not RATES.declaration_types["TS"].tdec  # transhipment cargo: no TDEC at all
    assert RATES.declaration_types["IM"].tdec and RATES.declaration_types["EX"].tdec


def test_liquor_regimes_by_date() -> None:
    new = RATES.rate_for("liquor", date(2024, 10, 16))
    old = RATES.rate_for("liquor", date(2024, 10, 15))
    assert isinstance(new, LiquorRate) and isinstance(old, LiquorRate)
    assert (new.first_tier_value, new.first_tier_percent, new.rest_percent) == (Decimal(200), Decimal(100), Decimal(10))
    assert (new.fallback_per_litre, new.fallback_below_litres) == (Decimal(160), Decimal(12))
    assert new.confirmed
    assert old.rest_percent == Decimal(100) and not old.confirmed


def test_tobacco_figures_and_the_raises_in_proportion() -> None:
    def per(kind: str, on: date) -> Decimal:
        rate = RATES.rate_for(kind, on)
        assert isinstance(rate, TobaccoRate)
        return rate.amount

    y2014, y2023, y2024 = date(2020, 1, 1), date(2023, 6, 1), date(2025, 1, 1)
    assert [per(k, y2014) for k in ("cigarettes", "cigars", "chinese_prepared_tobacco",
                                    "other_manufactured_tobacco")] == [1906, 2455, 468, 2309]
    assert per("cigarettes", y2023) == 1906 + 600  # +HK$0.60 a stick
    assert per("cigarettes", y2024) == 2506 + 800  # +HK$0.80 a stick
    for kind in ("cigars", "chinese_prepared_tobacco", "other_manufactured_tobacco"):
        assert abs(per(kind, y2023) - per(kind, y2014) * 2506 / 1906) <= Decimal("0.5")
        assert abs(per(kind, y2024) - per(kind, y2023) * 3306 / 2506) <= Decimal("0.5")
    later = RATES.tobacco["cigars"].rows[1:]
    assert later and not any(row.confirmed for row in later)  # [unconfirmed] in domain.md
    cigarettes = RATES.tobacco["cigarettes"].rate_for(y2024)
    assert cigarettes is not None and cigarettes.per == "1000_sticks" and cigarettes.long_stick_mm == 90


def test_every_commodity_has_a_rate_and_codes_map_as_documented() -> None:
    expected = {
        "22083000": "liquor", "22042100": "wine", "22060000": "fermented_liquor",
        "24022000": "cigarettes", "24021000": "cigars", "24039910": "chinese_prepared_tobacco",
        "24031900": "other_manufactured_tobacco", "24039900": "other_manufactured_tobacco",
        "27101211": "unleaded_petrol", "27101212": "leaded_petrol", "27101213": "aircraft_spirit",
        "27101921": "light_diesel", "27101922": "ultra_low_sulphur_diesel", "27101923": "euro_v_diesel",
        "29051100": "methyl_alcohol",
    }
    for code, commodity in expected.items():
        rule = RATES.classify(code)
        assert rule is not None and rule.commodity == commodity, code
    assert RATES.classify("85171300") is None
    for code in ("27101911", "27101931", "27101991", "24012000"):  # jet fuel, fuel oil, lubricants, leaf
        assert RATES.classify(code) is None, code
    for rule in RATES.commodities:
        if rule.duty in ("tobacco", "hydrocarbon_oil"):
            assert RATES.rate_for(rule.commodity, date(2026, 1, 1)) is not None


def test_hydrocarbon_and_methyl_figures() -> None:
    on = date(2026, 1, 1)
    litre = {kind: RATES.hydrocarbon_oil[kind].rate_for(on) for kind in RATES.hydrocarbon_oil}
    assert {kind: rate.per_litre for kind, rate in litre.items() if rate} == {
        "aircraft_spirit": Decimal("6.51"), "leaded_petrol": Decimal("6.82"), "unleaded_petrol": Decimal("6.06"),
        "light_diesel": Decimal("2.89"), "ultra_low_sulphur_diesel": Decimal("2.89"), "euro_v_diesel": 0}
    methyl = RATES.methyl_alcohol.rate_for(on)
    assert methyl is not None
    assert (methyl.per_100_litres, methyl.strength_above_percent, methyl.per_100_litres_per_percent) == (
        840, 30, Decimal("28.1"))


# ------------------------------------------------------------------ by date


SYNTHETIC = """
# rows deliberately out of order: the loader sorts them
[[hydrocarbon_oil.unleaded_petrol]]
effective_from = 2024-10-16
per_litre = 7.00

[[hydrocarbon_oil.unleaded_petrol]]
effective_from = 2020-01-01
per_litre = 6.06

[[hydrocarbon_oil.leaded_petrol]]
effective_from = 2020-01-01
effective_until = 2021-12-31
per_litre = 6.82

[[exchange_rates.USD]]
effective_from = 2026-01-01
hkd_per_unit = 7.78

[[exchange_rates.USD]]
effective_from = 2026-01-02
hkd_per_unit = 7.79
"""


@pytest.mark.parametrize(("on", "expected"), [
    (date(2019, 12, 31), None),
    (date(2020, 1, 1), "6.06"),
    (date(2024, 10, 15), "6.06"),
    (date(2024, 10, 16), "7.00"),
    (date(2030, 1, 1), "7.00"),
])
def test_rate_for_picks_the_row_in_force_on_the_date(tmp_path: Path, on: date, expected: str | None) -> None:
    tables = load_rate_files([write(tmp_path, "oil.toml", SYNTHETIC)])
    rate = tables.rate_for("unleaded_petrol", on)
    assert (None if rate is None else rate.per_litre) == (None if expected is None else Decimal(expected))


def test_effective_until_is_inclusive_and_ends_the_rate(tmp_path: Path) -> None:
    tables = load_rate_files([write(tmp_path, "oil.toml", SYNTHETIC)])
    assert tables.rate_for("leaded_petrol", date(2021, 12, 31)) is not None
    assert tables.rate_for("leaded_petrol", date(2022, 1, 1)) is None


def test_exchange_rates_by_day(tmp_path: Path) -> None:
    tables = load_rate_files([write(tmp_path, "fx.toml", SYNTHETIC)])
    first, second = tables.exchange_rate("usd", date(2026, 1, 1)), tables.rate_for("exchange:USD", date(2026, 1, 2))
    assert first is not None and first.hkd_per_unit == Decimal("7.78")
    assert second is not None and second.hkd_per_unit == Decimal("7.79")
    assert tables.exchange_rate("EUR", date(2026, 1, 1)) is None


def test_unknown_kind_is_a_key_error() -> None:
    with pytest.raises(KeyError):
        RATES.rate_for("caviar", date(2026, 1, 1))


def test_sections_are_optional(tmp_path: Path) -> None:
    tables = load_rate_files([write(tmp_path, "empty.toml", "# nothing yet\n")])
    assert tables.rate_for("liquor", date(2026, 1, 1)) is None
    assert tables.classify("22083000") is None


# ------------------------------------------------------------------ bad files


BAD_FILES = [
    pytest.param("[[liquor]]\neffective_from = 2024-10-16\nrest_percent = \n", 3, "TOML syntax: Invalid value",
                 id="syntax"),
    pytest.param("[[hydrocarbon_oil.petrol]]\neffective_from = 2020-01-01\nper_litre = [1,\n", 3, "TOML syntax",
                 id="syntax-at-end"),
    pytest.param("[[hydrocarbon_oil.petrol]]\n# no date\nper_litre = 6.06\n", 1, "lacks effective_from",
                 id="missing-key"),
    pytest.param("[[hydrocarbon_oil.petrol]]\neffective_from = 2020-01-01\nper_litre = 6.06\n\n"
                 "[[hydrocarbon_oil.petrol]]\nper_litre = 7.06\n", 5, "hydrocarbon_oil.petrol[2] lacks effective_from",
                 id="missing-key-second-row"),
    pytest.param("[[hydrocarbon_oil.petrol]]\neffective_from = 2020-01-01\n\nper_litre = \"6.06\"\n", 4,
                 "per_litre must be a number", id="wrong-type"),
    pytest.param("[[hydrocarbon_oil.petrol]]\neffective_from = 2020-01-01\nper_litre = -6.06\n", 3,
                 "per_litre must be at least 0", id="negative"),
    pytest.param("[[hydrocarbon_oil.petrol]]\neffective_from = 2020-01-01\nper_litre = inf\n", 3,
                 "finite", id="infinite"),
    pytest.param("[[hydrocarbon_oil.petrol]]\neffective_from = 2020-01-01T00:00:00\nper_litre = 6.06\n", 2,
                 "must be a date", id="datetime-not-date"),
    pytest.param("[[hydrocarbon_oil.petrol]]\neffective_from = 2020-01-01\nper_litre = 6.06\nper_litr = 6.06\n", 4,
                 "unknown key 'per_litr'", id="typo"),
    pytest.param("[[hydrocarbon_oil.petrol]]\neffective_from = 2020-01-01\neffective_until = 2019-12-31\n"
                 "per_litre = 6.06\n", 3, "effective_until 2019-12-31 is before", id="until-before-from"),
    pytest.param("[[hydrocarbon_oil.petrol]]\neffective_from = 2020-01-01\nper_litre = 6.06\n\n"
                 "[[hydrocarbon_oil.petrol]]\neffective_from = 2020-01-01\nper_litre = 7.06\n", 6,
                 "two hydrocarbon_oil.petrol rows start on 2020-01-01", id="same-start-twice"),
    pytest.param("\n\n[[caviar]]\neffective_from = 2020-01-01\n", 3, "unknown section 'caviar'",
                 id="unknown-section"),
    pytest.param("[[hydrocarbon_oil.Petrol]]\neffective_from = 2020-01-01\nper_litre = 6.06\n", 1,
                 "lower_case_with_underscores", id="bad-kind-name"),
    pytest.param("[[tobacco.cigars]]\neffective_from = 2020-01-01\nper_kg = 1\nper_1000_sticks = 2\n", 1,
                 "exactly one of per_1000_sticks and per_kg", id="two-bases"),
    pytest.param("[[tobacco.cigars]]\neffective_from = 2020-01-01\nper_kg = 1\nlong_stick_mm = 90\n", 4,
                 "long_stick_mm applies to rates per_1000_sticks only", id="long-stick-per-kg"),
    pytest.param("[[liquor]]\neffective_from = 2024-10-16\nstrength_above_percent = 30\nfirst_tier_value = 200\n"
                 "first_tier_percent = 100\nrest_percent = 10\nper_litre_above_litres = 1\n"
                 "fallback_below_litres = 12\n", 8, "needs fallback_per_litre", id="fallback-limit-alone"),
    pytest.param("[[clothing_levy]]\neffective_from = 2020-01-01\nunit_value = 1000\nper_unit = 0.30\n"
                 "part_of_unit = \"rounded\"\n", 5, "part_of_unit must be one of", id="bad-choice"),
    pytest.param("[forms]\n\"1\" = { declaration_type = \"IM\", charge = \"scaled\" }\n"
                 "\"1A\" = { declaration_type = \"IM\", charge = \"flatt\" }\n", 3, "charge must be one of",
                 id="inline-table"),
    pytest.param("[forms.\"1\"]\ndeclaration_type = \"IM\"\ncharge = \"scaled\"\n\n[declaration_types.IM]\n"
                 "default_form = \"9\"\n", 6, "default_form '9' of IM is not in [forms]", id="dangling-form"),
    pytest.param("[[commodities]]\nhs_prefix = \"2208\"\ncommodity = \"liquor\"\nduty = \"liquor\"\n\n"
                 "[[commodities]]\nhs_prefix = \"24x2\"\ncommodity = \"cigarettes\"\nduty = \"tobacco\"\n",
                 7, r"does not match \d{2,8}", id="bad-hs-prefix"),
    pytest.param("[[commodities]]\nhs_prefix = \"2208\"\ncommodity = \"liquor\"\nduty = \"liquor\"\n\n"
                 "[[commodities]]\nhs_prefix = \"24022000\"\ncommodity = \"cigarettes\"\nduty = \"tobacco\"\n",
                 8, "commodity 'cigarettes' has no [[tobacco.cigarettes]] rates", id="dangling-commodity"),
    pytest.param("[[commodities]]\nhs_prefix = \"2208\"\ncommodity = \"liquor\"\nduty = \"liquor\"\n\n"
                 "[[commodities]]\nhs_prefix = \"2208\"\ncommodity = \"spirits\"\nduty = \"liquor\"\n",
                 7, "hs_prefix 2208 is listed twice", id="duplicate-prefix"),
    pytest.param("count_units = [\"C62\", \"pce\"]\n", 1, "count_units must be a list", id="bad-units"),
]


@pytest.mark.parametrize(("text", "line", "reason"), BAD_FILES)
def test_bad_file_names_file_and_line(tmp_path: Path, text: str, line: int, reason: str) -> None:
    path = write(tmp_path, "bad.toml", text)
    with pytest.raises(RateTableError) as caught:
        load_rate_files([path])
    error = caught.value
    assert str(error).startswith(f"{path}:{line}: "), str(error)
    assert reason in error.reason, str(error)
    assert (error.path, error.line) == (path, line)


def test_a_section_in_two_files_is_refused_at_the_second(tmp_path: Path) -> None:
    first = write(tmp_path, "a.toml", "[[methyl_alcohol]]\neffective_from = 1998-02-18\nper_100_litres = 840\n"
                                      "strength_above_percent = 30\nper_100_litres_per_percent = 28.1\n")
    second = write(tmp_path, "b.toml", "# again\n\n[[methyl_alcohol]]\neffective_from = 2030-01-01\n")
    with pytest.raises(RateTableError) as caught:
        load_rate_tables(tmp_path)
    assert str(caught.value) == f"{second}:3: section 'methyl_alcohol' is already defined in {first.name}"


def test_a_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes(b"# ok\n# caf\xe9\n")
    with pytest.raises(RateTableError, match=rf"^{path}:2: the file is not UTF-8$"):
        load_rate_files([path])


def test_a_directory_without_rate_files(tmp_path: Path) -> None:
    with pytest.raises(RateTableError, match="no rate files"):
        load_rate_tables(tmp_path)


def test_the_shipped_files_are_each_valid_alone() -> None:
    """Each file stands alone except for references between sections, which the
    commodity file makes to the tobacco and oil files."""
    for path in sorted(RATES_DIR.glob("*.toml")):
        if path.name != "commodities.toml":
            load_rate_files([path])
