"""The rule engine: packs are validated as a whole when loaded (file, line, reason), rules
apply by declaration type and date, a failing check holds instead of breaking intake, and
``rules/`` is data -- editing it changes outcomes and the rule set's version."""
from __future__ import annotations

import logging
import os
import re
import shutil
from collections.abc import Iterator, Mapping
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from app.config import PROJECT_ROOT
from app.domain.declaration import Declaration, DeclarationType, Totals
from app.domain.findings import Severity
from app.intake.service import Intake
from app.rules.assessment import RuleSet, assess, content_version
from app.rules.checks import CHECKS, CheckContext, CheckSpec, Hit
from app.rules.engine import RulePackError, RulePlan, evaluate, load_pack, load_rules
from tests.factories import MOVED_19_NOV_2026, declaration_xml

HKT = timezone(timedelta(hours=8), "HKT")
RECEIVED = datetime(2026, 11, 21, 10, 0, tzinfo=HKT)
RULES_DIR = PROJECT_ROOT / "rules"
RULE_FILES = sorted(p.relative_to(RULES_DIR).as_posix() for p in RULES_DIR.rglob("*") if p.is_file())

HEADER = '[pack]\nname = "test"\ndescription = "written by the tests"\n'
R901_LINE = 'code = "R901"'
PLAIN_MESSAGE = '{ en = "Something is wrong", zh = "資料有誤" }'


def rule(code: str | None = '"R901"', **keys: str | None) -> str:
    """One ``[[rule]]`` table: a valid known_code rule on HS codes unless ``keys`` override
    (a value of None leaves the key out). Values are written as TOML source."""
    table: dict[str, str | None] = {
        "code": code,
        "check": '"known_code"',
        "severity": '"reject"',
        "applies_to": '["IM", "EX", "TS"]',
        "effective_from": "2024-01-01",
        "title": '{ en = "HS code not listed", zh = "協調制度編碼不在目錄內" }',
        "message": '{ en = "HS code {value} is not listed", zh = "協調制度編碼 {value} 不在目錄內" }',
        "params": '{ field = "hs_code" }',
    }
    table.update(keys)
    return "\n[[rule]]\n" + "".join(f"{key} = {value}\n" for key, value in table.items() if value is not None)


def write(directory: Path, text: str, name: str = "test.toml") -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def line_of(text: str, pattern: str, occurrence: int = -1) -> int:
    """1-based number of the ``occurrence``-th line matching ``pattern`` (default: the last)."""
    numbers = [n for n, line in enumerate(text.splitlines(), 1) if re.match(pattern, line)]
    return numbers[occurrence]


def refused(path: Path) -> RulePackError:
    with pytest.raises(RulePackError) as caught:
        load_pack(path)
    return caught.value


# --- a valid pack ---------------------------------------------------------------------------

def test_a_valid_pack_loads_with_every_field(tmp_path: Path) -> None:
    text = HEADER + rule() + rule('"R902"', check='"totals_match"', severity='"hold"', applies_to='["TS"]',
                                  effective_from="2025-02-03", effective_until="2026-02-03",
                                  message='{ en = "Total {what} is {declared}", zh = "{what_zh}為 {declared}" }',
                                  params="{ mass_tolerance_kg = 1, value_tolerance = 0.5 }")
    first, second = load_pack(write(tmp_path, text))
    assert (first.code, first.check, first.severity, first.applies_to) == (
        "R901", "known_code", Severity.REJECT, frozenset({"IM", "EX", "TS"}))
    assert first.source == f"test.toml:{line_of(text, R901_LINE)}"
    assert (second.severity, second.applies_to, str(second.effective_from), str(second.effective_until)) == (
        Severity.HOLD, frozenset({"TS"}), "2025-02-03", "2026-02-03")
    assert dict(second.params) == {"mass_tolerance_kg": 1, "value_tolerance": 0.5}  # an int is a valid float
    assert (second.title_zh, second.message_en) == ("協調制度編碼不在目錄內", "Total {what} is {declared}")


def test_the_real_rule_set_loads() -> None:
    codes = [r.code for r in load_rules(RULES_DIR / "packs")]
    assert codes and len(codes) == len(set(codes))


# --- a pack with one wrong rule is refused with file, line and reason -----------------------

INVALID_RULES: dict[str, tuple[dict[str, str | None], str]] = {
    "unknown-key": ({"colour": '"red"'}, "unknown keys: colour"),
    "code-too-short": ({"code": '"R12"'}, "code must look like R101"),
    "code-lower-case": ({"code": '"r902"'}, "code must look like R101"),
    "code-not-a-string": ({"code": "902"}, "code must look like R101"),
    "code-missing": ({"code": None}, "code must look like R101"),
    "unknown-check": ({"check": '"no_such_check"'}, "unknown check 'no_such_check'"),
    "check-missing": ({"check": None}, "unknown check None"),
    "severity-unknown": ({"severity": '"block"'}, "severity must be reject, hold, warn or info"),
    "severity-upper-case": ({"severity": '"REJECT"'}, "severity must be reject, hold, warn or info"),
    "severity-missing": ({"severity": None}, "severity must be reject, hold, warn or info"),
    "applies-to-empty": ({"applies_to": "[]"}, "applies_to must be a non-empty list of EX, IM, TS"),
    "applies-to-unknown-type": ({"applies_to": '["IM", "XX"]'}, "applies_to must be a non-empty list"),
    "applies-to-not-a-list": ({"applies_to": '"IM"'}, "applies_to must be a non-empty list"),
    "applies-to-missing": ({"applies_to": None}, "applies_to must be a non-empty list"),
    "effective-from-missing": ({"effective_from": None}, "effective_from must be a date (YYYY-MM-DD)"),
    "effective-from-string": ({"effective_from": '"2024-01-01"'}, "effective_from must be a date"),
    "effective-from-datetime": ({"effective_from": "2024-01-01T00:00:00"}, "effective_from must be a date"),
    "effective-from-not-a-date": ({"effective_from": "20240101"}, "effective_from must be a date"),
    "effective-until-before-from": ({"effective_until": "2023-12-31"},
                                    "effective_until must be a date after effective_from"),
    "effective-until-same-day": ({"effective_until": "2024-01-01"},
                                 "effective_until must be a date after effective_from"),
    "effective-until-string": ({"effective_until": '"2025-01-01"'}, "effective_until must be a date"),
    "title-without-zh": ({"title": '{ en = "HS code not listed" }'}, "title needs non-empty 'en' and 'zh' texts"),
    "title-blank-zh": ({"title": '{ en = "HS code not listed", zh = "  " }'}, "title needs non-empty"),
    "title-missing": ({"title": None}, "title needs non-empty 'en' and 'zh' texts"),
    "message-without-zh": ({"message": '{ en = "HS code {value}" }'}, "message needs non-empty 'en' and 'zh' texts"),
    "message-not-a-table": ({"message": '"HS code {value}"'}, "message needs non-empty"),
    "message-missing": ({"message": None}, "message needs non-empty 'en' and 'zh' texts"),
    "message-unknown-field-en": ({"message": '{ en = "HS code {hs_code}", zh = "編碼 {value}" }'},
                                 "message uses {hs_code}, which check known_code does not provide "
                                 "(it provides: value)"),
    "message-unknown-field-zh": ({"message": '{ en = "HS code {value}", zh = "編碼 {code}" }'},
                                 "message uses {code}"),
    "message-field-of-another-check": ({"check": '"container_check_digit"', "params": None,
                                        "message": '{ en = "Container {value}", zh = "貨櫃 {container}" }'},
                                       "message uses {value}, which check container_check_digit does not provide"),
    "message-unbalanced-brace": ({"message": '{ en = "HS code {value", zh = "編碼 {value}" }'},
                                 "expected '}' before end of string"),
    "param-missing": ({"params": "{}"}, "check known_code needs params: field"),
    "params-missing": ({"params": None}, "check known_code needs params: field"),
    "params-not-a-table": ({"params": '"hs_code"'}, "params must be a table"),
    "param-unknown": ({"params": '{ field = "hs_code", strict = true }'}, "check known_code takes no params: strict"),
    "param-for-a-check-without-params": ({"check": '"container_check_digit"', "message": PLAIN_MESSAGE,
                                          "params": "{ strict = true }"},
                                         "check container_check_digit takes no params: strict"),
    "param-str-given-int": ({"params": "{ field = 1 }"}, "param field must be str, got int"),
    "param-float-given-str": ({"check": '"totals_match"', "message": PLAIN_MESSAGE,
                               "params": '{ mass_tolerance_kg = "0.001", value_tolerance = 0.01 }'},
                              "param mass_tolerance_kg must be float, got str"),
    "param-float-given-bool": ({"check": '"totals_match"', "message": PLAIN_MESSAGE,
                                "params": "{ mass_tolerance_kg = true, value_tolerance = 0.01 }"},
                               "param mass_tolerance_kg must be float, got bool"),
    "param-int-given-float": ({"check": '"issue_date_not_future"', "message": PLAIN_MESSAGE,
                               "params": "{ tolerance_minutes = 10.5 }"},
                              "param tolerance_minutes must be int, got float"),
    "param-int-given-bool": ({"check": '"issue_date_not_future"', "message": PLAIN_MESSAGE,
                              "params": "{ tolerance_minutes = true }"},
                             "param tolerance_minutes must be int, got bool"),
    "param-list-given-str": ({"check": '"dutiable_details_present"', "message": PLAIN_MESSAGE,
                              "params": '{ hs_prefixes = "2208", require = ["volume_litres"] }'},
                             "param hs_prefixes must be a list of str"),
    "param-not-a-choice": ({"params": '{ field = "colour" }'}, "param field: 'colour' is not one of"),
    "param-role-not-a-choice": ({"check": '"party_present"', "message": PLAIN_MESSAGE,
                                 "params": '{ role = "notary" }'},
                                "param role: 'notary' is not one of agent, buyer, carrier, consignee, consignor, "
                                "declarant, exporter, importer, seller"),
    "param-list-item-not-a-choice": ({"check": '"dutiable_details_present"', "message": PLAIN_MESSAGE,
                                      "params": '{ hs_prefixes = ["2208"], require = ["volume_litres", "sugar"] }'},
                                     "param require: 'sugar' is not one of"),
}


@pytest.mark.parametrize(("keys", "reason"), list(INVALID_RULES.values()), ids=list(INVALID_RULES))
def test_a_wrong_rule_refuses_the_pack_at_the_line_of_its_code(tmp_path: Path, keys: dict, reason: str) -> None:
    code = keys.pop("code", '"R902"')
    text = HEADER + rule() + rule(code, **keys) + rule('"R903"')
    pack = write(tmp_path, text)
    error = refused(pack)
    # the line of its ``code = "..."``; of its ``[[rule]]`` header when it has no code string to find
    has_code = code is not None and code.startswith('"')
    expected_line = line_of(text, r"code = ", 1) if has_code else line_of(text, r"\[\[rule\]\]", 1)
    assert (error.path, error.line) == (pack, expected_line)
    assert reason in error.reason
    assert str(error).startswith(f"{pack}:{expected_line}: rule ")
    if code == '"R902"':
        assert error.reason.startswith("rule R902: ")
    elif not has_code:
        assert error.reason.startswith("rule #2: ")  # a rule without a code is named by its position


@pytest.mark.parametrize(("broken_line", "name"), [
    ('severity = reject', "unquoted-string"),
    ('applies_to = ["IM", "EX"', "unclosed-array"),
    ('code = "R902"', "duplicate-key"),
    ('effective_from = 2024-13-01', "impossible-date"),
])
def test_a_toml_syntax_error_refuses_the_pack_at_its_line(tmp_path: Path, broken_line: str, name: str) -> None:
    text = HEADER + rule() + rule('"R902"').replace('severity = "reject"\n', f"{broken_line}\n")
    pack = write(tmp_path, text)
    error = refused(pack)
    assert error.path == pack
    assert error.line == line_of(text, re.escape(broken_line))
    assert error.reason.startswith("not valid TOML")


def test_an_unknown_top_level_key_refuses_the_pack(tmp_path: Path) -> None:
    text = HEADER + rule() + '\n[defaults]\nseverity = "warn"\n'
    pack = write(tmp_path, text)
    error = refused(pack)
    assert error.path == pack and "unknown top-level keys: defaults" in error.reason
    assert error.line in (None, line_of(text, r"\[defaults\]"))  # None: the file as a whole


def test_rules_not_written_as_tables_refuse_the_pack(tmp_path: Path) -> None:
    error = refused(write(tmp_path, 'rule = "R901"\n' + HEADER))
    assert "rules are written as [[rule]] tables" in error.reason


def test_a_list_of_non_tables_as_rules_refuses_the_pack(tmp_path: Path) -> None:
    """``rule = ["R901"]`` is valid TOML but no rule: a RulePackError, not an AttributeError."""
    pack = write(tmp_path, 'rule = ["R901"]\n' + HEADER)
    with pytest.raises(RulePackError) as caught:
        load_pack(pack)
    assert caught.value.path == pack


@pytest.mark.parametrize("message", ["HS code {} is not listed", "HS code {value:d} is not listed",
                                     "HS code {value!x} is not listed"],
                         ids=["positional-field", "numeric-format-spec", "unknown-conversion"])
def test_a_message_that_cannot_be_filled_in_refuses_the_pack(tmp_path: Path, message: str) -> None:
    """Such a template passes the field-name check but raises when a finding is formatted
    (outside the engine's guard around the check), so every matching declaration would fail
    evaluation with an exception instead of a finding."""
    text = HEADER + rule('"R902"', message=f'{{ en = "{message}", zh = "協調制度編碼 {{value}} 不在目錄內" }}')
    pack = write(tmp_path, text)
    error = refused(pack)
    assert (error.path, error.line) == (pack, line_of(text, 'code = "R902"'))


def test_list_params_of_the_wrong_element_type_refuse_the_pack(tmp_path: Path) -> None:
    """``hs_prefixes = [2208]`` (numbers, not strings) would make the check raise on every
    import, holding them all; it must stop the pack from loading instead."""
    text = HEADER + rule('"R902"', check='"dutiable_details_present"', message=PLAIN_MESSAGE,
                         params='{ hs_prefixes = [2208], require = ["volume_litres"] }')
    pack = write(tmp_path, text)
    error = refused(pack)
    assert (error.path, error.line) == (pack, line_of(text, 'code = "R902"'))
    assert "hs_prefixes" in error.reason


# --- across packs -----------------------------------------------------------------------------

def test_a_code_defined_in_two_packs_is_refused_naming_the_first_definition(tmp_path: Path) -> None:
    first_text = HEADER + rule('"R905"') + rule('"R901"')
    second_text = HEADER + rule('"R906"') + rule('"R907"') + rule('"R901"')
    write(tmp_path, first_text, "a_first.toml")
    second = write(tmp_path, second_text, "b_second.toml")
    with pytest.raises(RulePackError) as caught:
        load_rules(tmp_path)
    error = caught.value
    assert (error.path, error.line) == (second, line_of(second_text, 'code = "R901"'))
    assert error.reason == f"rule R901 is already defined at a_first.toml:{line_of(first_text, R901_LINE)}"


def test_a_code_defined_twice_in_one_pack_is_refused_at_the_second_definition(tmp_path: Path) -> None:
    text = HEADER + rule('"R901"') + rule('"R902"') + rule('"R901"')
    pack = write(tmp_path, text)
    with pytest.raises(RulePackError) as caught:
        load_rules(tmp_path)
    first, second = line_of(text, 'code = "R901"', 0), line_of(text, 'code = "R901"', -1)
    assert (caught.value.path, caught.value.line) == (pack, second)
    assert caught.value.reason == f"rule R901 is already defined at test.toml:{first}"


def test_packs_are_read_in_name_order_and_all_their_rules_kept(tmp_path: Path) -> None:
    write(tmp_path, HEADER + rule('"R950"'), "b.toml")
    write(tmp_path, HEADER + rule('"R910"') + rule('"R990"'), "a.toml")
    write(tmp_path, "not a pack", "notes.txt")
    assert [r.code for r in load_rules(tmp_path)] == ["R910", "R990", "R950"]


@pytest.mark.parametrize("contents", [{}, {"README.md": "no packs here"}, {"empty.toml": HEADER}],
                         ids=["empty-directory", "no-toml-files", "packs-without-rules"])
def test_a_pack_directory_without_rules_is_refused(tmp_path: Path, contents: dict[str, str]) -> None:
    for name, text in contents.items():
        write(tmp_path, text, name)
    with pytest.raises(RulePackError) as caught:
        load_rules(tmp_path)
    assert caught.value.path == tmp_path and "no rules found" in caught.value.reason


def test_a_rule_set_with_an_empty_pack_directory_does_not_load(tmp_path: Path) -> None:
    shutil.copytree(RULES_DIR, tmp_path / "rules")
    for pack in (tmp_path / "rules" / "packs").glob("*.toml"):
        pack.unlink()
    with pytest.raises(RulePackError, match="no rules found"):
        RuleSet.load(tmp_path / "rules")


# --- evaluation ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def rule_set() -> RuleSet:
    return RuleSet.load(RULES_DIR)


@pytest.fixture(scope="module")
def intake() -> Intake:
    return Intake(PROJECT_ROOT / "schemas")


@pytest.fixture(scope="module")
def unknown_hs(intake: Intake) -> Declaration:
    """An import of one goods item whose HS code (85171599) is in no HS 2022 subheading."""
    return intake.receive_declaration(declaration_xml(hs_code="85171599", movement_at=MOVED_19_NOV_2026)).declaration


def context(rule_set: RuleSet, received_at: datetime = RECEIVED) -> CheckContext:
    return CheckContext(code_lists=rule_set.code_lists, received_at=received_at)


def one_rule(tmp_path: Path, **keys: str | None) -> list:
    return load_pack(write(tmp_path, HEADER + rule('"R901"', **keys)))


def test_a_finding_carries_the_rules_code_severity_path_and_filled_in_messages(
        tmp_path: Path, rule_set: RuleSet, unknown_hs: Declaration) -> None:
    findings = evaluate(one_rule(tmp_path, severity='"warn"'), unknown_hs, context(rule_set))
    assert [(f.code, f.severity, f.path, f.message_en, f.message_zh) for f in findings] == [
        ("R901", Severity.WARN, "/Declaration/GoodsShipment/GovernmentAgencyGoodsItem/Commodity/Classification/ID",
         "HS code 85171599 is not listed", "協調制度編碼 85171599 不在目錄內")]


@pytest.mark.parametrize(("effective_from", "effective_until", "applies"), [
    ("2024-01-01", None, True),
    ("2026-11-21", None, True),           # starts on the day of receipt
    ("2026-11-22", None, False),          # starts the day after
    ("2024-01-01", "2026-11-22", True),   # ends the day after
    ("2024-01-01", "2026-11-21", False),  # ends on the day of receipt: effective_until is exclusive
    ("2024-01-01", "2025-01-01", False),
], ids=["long-in-force", "starts-today", "starts-tomorrow", "ends-tomorrow", "ends-today", "expired"])
def test_only_rules_in_force_on_the_day_of_receipt_apply(
        tmp_path: Path, rule_set: RuleSet, unknown_hs: Declaration, effective_from: str,
        effective_until: str | None, applies: bool) -> None:
    rules = one_rule(tmp_path, effective_from=effective_from, effective_until=effective_until)
    assert [f.code for f in evaluate(rules, unknown_hs, context(rule_set))] == (["R901"] if applies else [])


def test_the_day_of_receipt_is_the_hong_kong_calendar_day(
        tmp_path: Path, rule_set: RuleSet, unknown_hs: Declaration) -> None:
    received = datetime(2026, 11, 20, 16, 30, tzinfo=timezone.utc)  # 2026-11-21 00:30 in Hong Kong
    starting = one_rule(tmp_path, effective_from="2026-11-21")
    assert [f.code for f in evaluate(starting, unknown_hs, context(rule_set, received))] == ["R901"]
    ending = one_rule(tmp_path, effective_until="2026-11-21")
    assert evaluate(ending, unknown_hs, context(rule_set, received)) == []


@pytest.mark.parametrize(("applies_to", "applies"), [
    ('["IM"]', True), ('["IM", "TS"]', True), ('["EX"]', False), ('["EX", "TS"]', False)])
def test_only_rules_for_the_declarations_type_apply(
        tmp_path: Path, rule_set: RuleSet, unknown_hs: Declaration, applies_to: str, applies: bool) -> None:
    rules = one_rule(tmp_path, applies_to=applies_to)
    assert [f.code for f in evaluate(rules, unknown_hs, context(rule_set))] == (["R901"] if applies else [])
    export = replace(unknown_hs, type=DeclarationType.EXPORT)
    assert bool(evaluate(rules, export, context(rule_set))) is ("EX" in applies_to)


def test_one_plan_picks_the_rules_of_each_type_and_day_afresh(
        tmp_path: Path, rule_set: RuleSet, unknown_hs: Declaration) -> None:
    """A plan keeps the rules in force per (type, day): the day a rule starts, and another
    type, are planned on their own, whatever was planned before."""
    plan = RulePlan(one_rule(tmp_path, effective_from="2026-11-21", applies_to='["IM"]'))
    before = datetime(2026, 11, 20, 4, 0, tzinfo=timezone.utc)
    export = replace(unknown_hs, type=DeclarationType.EXPORT)
    for _ in range(2):
        assert plan.evaluate(unknown_hs, context(rule_set, before)) == []
        assert [f.code for f in plan.evaluate(unknown_hs, context(rule_set))] == ["R901"]
        assert plan.evaluate(export, context(rule_set)) == []
    for day in range(40):  # more (type, day) plans than are kept: the oldest are planned again
        plan.evaluate(unknown_hs, context(rule_set, before + timedelta(days=day)))
    assert [f.code for f in plan.evaluate(unknown_hs, context(rule_set))] == ["R901"]
    assert plan.evaluate(unknown_hs, context(rule_set, before)) == []


def test_an_assessment_plans_with_its_own_rules(rule_set: RuleSet, tmp_path: Path) -> None:
    changed = replace(rule_set, rules=tuple(one_rule(tmp_path)))
    assert changed.plan.rules == changed.rules and rule_set.plan.rules == rule_set.rules


FAILING_CHECK = "test_only_failing_check"


@pytest.fixture()
def failing_check() -> Iterator[str]:
    """A check, registered for this test only, that yields a hit and then raises."""
    def fail(declaration: Declaration, params: Mapping[str, Any], context: CheckContext) -> Iterator[Hit]:
        yield Hit("/Declaration", {})
        raise RuntimeError("the check is broken")

    assert FAILING_CHECK not in CHECKS
    CHECKS[FAILING_CHECK] = CheckSpec(fail, {}, frozenset())
    try:
        yield FAILING_CHECK
    finally:
        del CHECKS[FAILING_CHECK]


def test_a_failing_check_holds_the_declaration_and_the_other_rules_still_run(
        tmp_path: Path, rule_set: RuleSet, unknown_hs: Declaration, failing_check: str,
        caplog: pytest.LogCaptureFixture) -> None:
    text = (HEADER + rule('"R901"')
            + rule('"R902"', check=f'"{failing_check}"', severity='"reject"', params=None,
                   message='{ en = "never shown", zh = "不會顯示" }')
            + rule('"R903"', severity='"warn"'))
    rules = load_pack(write(tmp_path, text))
    with caplog.at_level(logging.ERROR, logger="csw.rules"):
        findings = evaluate(rules, unknown_hs, context(rule_set))
    assert [(f.code, f.severity) for f in findings] == [
        ("R901", Severity.REJECT), ("R902", Severity.HOLD), ("R903", Severity.WARN)]
    held = findings[1]
    assert held.path is None
    assert "rule R902 could not be evaluated" in held.message_en and "never shown" not in held.message_en
    assert "R902" in held.message_zh and "{" not in held.message_zh
    assert any("R902" in record.getMessage() for record in caplog.records)


def test_a_failing_check_holds_rather_than_rejects_in_an_assessment(
        tmp_path: Path, rule_set: RuleSet, intake: Intake, failing_check: str) -> None:
    text = HEADER + rule('"R902"', check=f'"{failing_check}"', params=None, message=PLAIN_MESSAGE)
    broken = replace(rule_set, rules=rule_set.rules + tuple(load_pack(write(tmp_path, text))))
    clean = intake.receive_declaration(declaration_xml(items=2, movement_at=MOVED_19_NOV_2026)).declaration
    assessed = assess(broken, clean, RECEIVED)
    assert [(f.code, f.severity) for f in assessed.findings if f.code == "R902"] == [("R902", Severity.HOLD)]
    assert not assessed.rejected


def test_the_throwaway_check_is_gone_after_its_test() -> None:
    assert FAILING_CHECK not in CHECKS


# --- rules are data ---------------------------------------------------------------------------

@pytest.fixture()
def rules_copy(tmp_path: Path) -> Path:
    target = tmp_path / "rules"
    shutil.copytree(RULES_DIR, target)
    return target


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} is not once in {path}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def codes(rule_set: RuleSet, declaration: Declaration) -> list[str]:
    return [f.code for f in assess(rule_set, declaration, RECEIVED).findings]


def test_a_changed_parameter_changes_the_outcome(rules_copy: Path, rule_set: RuleSet, unknown_hs: Declaration) -> None:
    ahead = replace(unknown_hs, issued_at=RECEIVED + timedelta(minutes=20))
    assert "R301" in codes(rule_set, ahead)
    edit(rules_copy / "packs" / "core.toml", "params = { tolerance_minutes = 10 }",
         "params = { tolerance_minutes = 30 }")
    assert "R301" not in codes(RuleSet.load(rules_copy), ahead)


def test_a_changed_tolerance_changes_the_totals_check(rules_copy: Path, rule_set: RuleSet,
                                                       unknown_hs: Declaration) -> None:
    off_by_half = replace(unknown_hs, totals=Totals(1, Decimal("3"), Decimal("1200.50"), "HKD"))
    assert "R202" in codes(rule_set, off_by_half)
    edit(rules_copy / "packs" / "core.toml", "value_tolerance = 0.01", "value_tolerance = 1.0")
    assert "R202" not in codes(RuleSet.load(rules_copy), off_by_half)


def test_a_changed_severity_changes_the_decision(rules_copy: Path, rule_set: RuleSet, intake: Intake) -> None:
    clean = intake.receive_declaration(declaration_xml(items=2, movement_at=MOVED_19_NOV_2026)).declaration
    first = clean.goods_items[0]
    duplicated = replace(clean, goods_items=(first, replace(first, sequence=2)))
    before = assess(rule_set, duplicated, RECEIVED)
    assert [(f.code, f.severity) for f in before.findings if f.code == "R204"] == [("R204", Severity.HOLD)]
    assert not before.rejected
    edit(rules_copy / "packs" / "core.toml", 'code = "R204"\ncheck = "duplicate_goods_items"\nseverity = "hold"',
         'code = "R204"\ncheck = "duplicate_goods_items"\nseverity = "reject"')
    after = assess(RuleSet.load(rules_copy), duplicated, RECEIVED)
    assert [(f.code, f.severity) for f in after.findings if f.code == "R204"] == [("R204", Severity.REJECT)]
    assert after.rejected


def test_an_end_date_retires_a_rule(rules_copy: Path, rule_set: RuleSet, unknown_hs: Declaration) -> None:
    assert "R602" in codes(rule_set, unknown_hs)  # the factory's import names no importer
    edit(rules_copy / "packs" / "core.toml", 'code = "R602"\ncheck = "party_present"\nseverity = "warn"\n'
         'applies_to = ["IM"]\neffective_from = 2024-01-01\n',
         'code = "R602"\ncheck = "party_present"\nseverity = "warn"\n'
         'applies_to = ["IM"]\neffective_from = 2024-01-01\neffective_until = 2026-11-21\n')
    assert "R602" not in codes(RuleSet.load(rules_copy), unknown_hs)


def test_a_code_list_entry_changes_the_outcome(rules_copy: Path, rule_set: RuleSet, intake: Intake) -> None:
    """85171399: subheading 851713 exists, the national item is not listed (R111's warning)
    until a row of hs_codes.csv names it."""
    unlisted = intake.receive_declaration(
        declaration_xml(hs_code="85171399", movement_at=MOVED_19_NOV_2026)).declaration
    assert "R111" in codes(rule_set, unlisted) and "R101" not in codes(rule_set, unlisted)
    with (rules_copy / "codelists" / "hs_codes.csv").open("a", encoding="utf-8") as csv:
        csv.write("85171399,item,Test smartphones,測試智能電話\n")
    assert "R111" not in codes(RuleSet.load(rules_copy), unlisted)


def test_a_new_pack_adds_its_rules(rules_copy: Path, rule_set: RuleSet, unknown_hs: Declaration) -> None:
    write(rules_copy / "packs", HEADER + rule('"R999"', severity='"warn"', applies_to='["IM"]'), "extra.toml")
    assert "R999" not in codes(rule_set, unknown_hs)
    assert "R999" in codes(RuleSet.load(rules_copy), unknown_hs)


# --- the rule set's version ---------------------------------------------------------------------

def test_the_version_is_a_sha256_that_does_not_depend_on_where_rules_live(rules_copy: Path,
                                                                          rule_set: RuleSet) -> None:
    assert re.fullmatch(r"[0-9a-f]{64}", rule_set.version)
    assert RuleSet.load(rules_copy).version == rule_set.version
    assert RuleSet.load(RULES_DIR).version == rule_set.version


def test_the_version_ignores_timestamps(rules_copy: Path, rule_set: RuleSet) -> None:
    for path in rules_copy.rglob("*"):
        os.utime(path, (1_000_000_000, 1_000_000_000))
    assert content_version(rules_copy) == rule_set.version


@pytest.mark.parametrize("name", RULE_FILES)
def test_editing_any_file_under_rules_changes_the_version(rules_copy: Path, rule_set: RuleSet, name: str) -> None:
    path = rules_copy / name
    path.write_bytes(path.read_bytes() + b"\n")
    assert content_version(rules_copy) != rule_set.version


def test_a_comment_changes_the_version_of_an_otherwise_identical_rule_set(rules_copy: Path,
                                                                          rule_set: RuleSet) -> None:
    with (rules_copy / "packs" / "core.toml").open("a", encoding="utf-8") as pack:
        pack.write("# reviewed\n")
    edited = RuleSet.load(rules_copy)
    assert edited.rules == rule_set.rules
    assert edited.version != rule_set.version


@pytest.mark.parametrize("change", ["add", "remove", "rename"])
def test_adding_removing_or_renaming_a_file_changes_the_version(rules_copy: Path, rule_set: RuleSet,
                                                                change: str) -> None:
    readme = rules_copy / "codelists" / "README.md"
    if change == "add":
        (rules_copy / "codelists" / "NOTES.md").write_text("notes\n")
    elif change == "remove":
        readme.unlink()
    else:
        readme.rename(rules_copy / "codelists" / "README.txt")
    assert content_version(rules_copy) != rule_set.version
