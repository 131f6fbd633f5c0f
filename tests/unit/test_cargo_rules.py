"""Cargo rules as data: a broken rules file stops start-up naming the rule; the shipped file
loads; references carry a check character."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from app.cargo.rules import load_rules
from app.domain.cargo import is_valid_cargo_reference, new_cargo_reference
from app.domain.problems import RulesDataError

RULES = Path(__file__).resolve().parents[2] / "rules"


def test_the_shipped_rules_load() -> None:
    assert [rule.code for rule in load_rules(RULES)] == ["C101", "C102", "C103", "C104", "C105", "C106"]


@pytest.mark.parametrize(("rule", "reason"), [
    ('code = "C9"\ncheck = "land_control_point"', "code must look like C101"),
    ('code = "C201"\ncheck = "no_such_check"', "unknown check"),
    ('code = "C201"\ncheck = "vague_description"\nparams = { words = 3 }', "params must be"),
    ('code = "C201"\ncheck = "land_control_point"\nmessage = { en = "{nope}", zh = "x" }', "does not give"),
])
def test_a_broken_rule_stops_start_up_naming_it(tmp_path: Path, rule: str, reason: str) -> None:
    (tmp_path / "cargo").mkdir()
    defaults = {"severity": '"reject"', "title": '{ en = "t", zh = "t" }', "message": '{ en = "m", zh = "m" }'}
    lines = [rule] + [f"{key} = {value}" for key, value in defaults.items() if f"{key} =" not in rule]
    (tmp_path / "cargo" / "rules.toml").write_text("[[rule]]\n" + "\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(RulesDataError, match=reason):
        load_rules(tmp_path)


def test_a_cargo_reference_carries_a_check_character() -> None:
    reference = new_cargo_reference(datetime(2026, 12, 6, tzinfo=timezone.utc))
    assert reference.startswith("HK26C") and len(reference) == 16 and is_valid_cargo_reference(reference)
    typo = reference[:6] + ("0" if reference[6] != "0" else "1") + reference[7:]
    assert not is_valid_cargo_reference(typo)
