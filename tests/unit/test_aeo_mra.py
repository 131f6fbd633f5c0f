"""MRA partners as data: the shipped file, recognition on a date, and load-time errors."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from app.reference.mra import DEFAULT_MRA_PATH, MraDataError, load_mra_partners
from app.domain.aeo import FOREIGN_OPERATOR_ID
from app.domain.problems import RulesDataError

TODAY = date(2026, 11, 22)
EXPECTED = {"CN", "MO", "IN", "KR", "SG", "TH", "MY", "JP", "AU", "NZ", "IL", "CA", "ZA",
            "MX", "ID", "BH", "SA", "PE"}

PARTNER = """
[[partner]]
economy = "JP"
name_en = "Japan"
name_zh = "日本"
programme = "Japan Customs AEO Programme"
id_format = 'JP[0-9]{13}'
example = "JP7010001012345"
in_force_from = 2017-12-15
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "mra_partners.toml"
    path.write_text(text, encoding="utf-8")
    return path


def error_of(tmp_path: Path, text: str) -> MraDataError:
    with pytest.raises(MraDataError) as caught:
        load_mra_partners(write(tmp_path, text))
    return caught.value


# ------------------------------------------------------------------ the shipped file


def test_the_shipped_file_lists_every_partner_in_domain_md() -> None:
    mra = load_mra_partners(DEFAULT_MRA_PATH)
    assert {partner.economy for partner in mra} == EXPECTED
    for partner in mra:
        assert partner.name_en and partner.name_zh and partner.programme and partner.source
        assert partner.in_force(TODAY), partner.economy


def test_macao_2023_and_south_africa_2024_as_in_domain_md() -> None:
    mra = load_mra_partners()
    assert mra.get("MO").in_force_from.year == 2023
    south_africa = mra.get("ZA")
    assert south_africa.in_force_from == date(2024, 12, 3)
    assert not south_africa.in_force(date(2024, 12, 2))


def test_the_eighteen_partners_of_end_2025_with_japan_and_peru_dated_as_in_domain_md() -> None:
    mra = load_mra_partners()
    assert len(mra) == 18
    japan, peru = mra.get("JP"), mra.get("PE")
    assert japan.in_force_from == date(2016, 10, 31) and japan.confirmed
    assert peru.signed == date(2025, 12, 30) and not peru.in_force(date(2025, 12, 29)) and not peru.confirmed
    assert all(not mra.get(code).confirmed for code in ("MX", "ID", "BH", "SA", "PE"))


def test_every_shipped_format_matches_its_example_and_no_other_economy_s() -> None:
    partners = list(load_mra_partners())
    for partner in partners:
        assert FOREIGN_OPERATOR_ID.fullmatch(partner.example)
        assert partner.id_matches(partner.example)
        assert not partner.id_matches("12345678")
        assert not partner.id_matches(partner.example + "0" * 34)
        others = [other.economy for other in partners if other is not partner and other.id_matches(partner.example)]
        assert others == [], partner.economy


# ---------------------------------------------------------------------- recognition


@pytest.fixture()
def mra():  # type: ignore[no-untyped-def]
    return load_mra_partners()


def test_a_partner_aeo_under_an_mra_in_force_is_recognised(mra) -> None:  # type: ignore[no-untyped-def]
    assert mra.recognises("CN", "CN4403960123", TODAY)
    assert mra.recognises("SG", "SG201912345K", TODAY)
    assert mra.refusal("JP", "JP7010001012345", TODAY) is None


def test_not_recognised_before_the_mra_is_in_force(mra) -> None:  # type: ignore[no-untyped-def]
    assert mra.recognises("ZA", "ZA12345678", date(2024, 12, 3))
    assert not mra.recognises("ZA", "ZA12345678", date(2024, 12, 2))
    assert "in force only from 2024-12-03" in mra.refusal("ZA", "ZA12345678", date(2024, 12, 2))


def test_not_recognised_with_the_wrong_id_format(mra) -> None:  # type: ignore[no-untyped-def]
    assert not mra.recognises("JP", "JP12345", TODAY)
    assert not mra.recognises("JP", "CN4403960123", TODAY)  # another economy's id
    assert "not an id of Japan Customs AEO Programme" in mra.refusal("JP", "JP12345", TODAY)


def test_not_recognised_without_an_mra(mra) -> None:  # type: ignore[no-untyped-def]
    assert not mra.recognises("US", "US123456789", TODAY)
    assert "no AEO Mutual Recognition Arrangement with US" in mra.refusal("US", "US123456789", TODAY)
    assert mra.get("HK") is None


def test_an_mra_that_ended_is_not_in_force_after_its_last_day(tmp_path: Path) -> None:
    mra = load_mra_partners(write(tmp_path, PARTNER + "in_force_until = 2030-06-30\n"))
    assert mra.recognises("JP", "JP7010001012345", date(2030, 6, 30))
    assert "ended on 2030-06-30" in mra.refusal("JP", "JP7010001012345", date(2030, 7, 1))


def test_a_partner_can_be_added_as_data(tmp_path: Path) -> None:
    extra = PARTNER + """
[[partner]]
economy = "AE"
name_en = "United Arab Emirates"
name_zh = "阿拉伯聯合酋長國"
programme = "UAE AEO Programme"
id_format = 'AE[0-9]{6,15}'
example = "AE1234567"
in_force_from = 2030-01-01
confirmed = false
"""
    mra = load_mra_partners(write(tmp_path, extra))
    assert len(mra) == 2 and mra.get("AE").confirmed is False
    assert not mra.recognises("AE", "AE1234567", date(2029, 12, 31))
    assert mra.recognises("AE", "AE1234567", date(2030, 1, 1))


# ------------------------------------------------------------------- load-time errors


def test_errors_are_rules_data_errors_with_file_and_line(tmp_path: Path) -> None:
    error = error_of(tmp_path, PARTNER.replace('economy = "JP"', 'economy = "JPN"'))
    assert isinstance(error, RulesDataError)
    assert error.line == 3 and str(error).startswith(f"{tmp_path / 'mra_partners.toml'}:3: ")
    assert "ISO 3166 alpha-2" in error.reason


@pytest.mark.parametrize(("change", "line", "words"), [
    (("id_format = 'JP[0-9]{13}'", "id_format = 'JP[0-9{13}'"), 7, "not a valid regular expression"),
    (("id_format = 'JP[0-9]{13}'", "id_format = 'JP[0-9]{12}'"), 7, "does not match its own example"),
    (('example = "JP7010001012345"', 'example = "7010001012345"'), 8, "must start with the economy code"),
    (("in_force_from = 2017-12-15", 'in_force_from = "2017-12-15"'), 9, "YYYY-MM-DD"),
    (('economy = "JP"', 'economy = "HK"'), 3, "not its own MRA partner"),
    (('economy = "JP"', 'economy = "XX"'), 3, "not an ISO 3166 alpha-2 code"),
    (('name_zh = "日本"', 'name_zh = ""'), 5, "non-empty"),
    (('name_zh = "日本"', 'name_zh = "日本"\nnotes = "typo"'), 6, "unknown key 'notes'"),
    (('name_en = "Japan"\n', ''), 2, "has no 'name_en'"),
])
def test_a_bad_partner_is_refused_at_its_line(tmp_path: Path, change: tuple[str, str], line: int,
                                              words: str) -> None:
    old, new = change
    assert old in PARTNER
    error = error_of(tmp_path, PARTNER.replace(old, new))
    assert error.line == line, str(error)
    assert words in error.reason


def test_a_duplicate_economy_is_refused_at_the_second(tmp_path: Path) -> None:
    error = error_of(tmp_path, PARTNER + PARTNER)
    assert error.line == 12 and "listed twice" in error.reason


def test_in_force_before_signing_is_refused(tmp_path: Path) -> None:
    error = error_of(tmp_path, PARTNER + "signed = 2018-01-01\n")
    assert error.line == 10 and "before it is signed" in error.reason


def test_invalid_toml_names_its_line(tmp_path: Path) -> None:
    error = error_of(tmp_path, PARTNER + "confirmed = maybe\n")
    assert error.line == 10 and "not valid TOML" in error.reason


def test_an_empty_or_missing_file_is_refused(tmp_path: Path) -> None:
    assert "no [[partner]] tables" in error_of(tmp_path, "# nothing\n").reason
    with pytest.raises(MraDataError, match="cannot read"):
        load_mra_partners(tmp_path / "absent.toml")


def test_an_unknown_section_is_refused(tmp_path: Path) -> None:
    assert "unknown section 'partners'" in error_of(tmp_path, "[[partners]]\neconomy = 'JP'\n").reason
