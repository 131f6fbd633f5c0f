"""Rule packs (``rules/packs/*.toml``): loading, validation and evaluation.

A pack is refused as a whole when any rule in it is wrong, with the file, line and
reason, so a bad edit stops start-up instead of misjudging declarations.
"""
from __future__ import annotations

import logging
import re
import string
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, get_args, get_origin

from app.domain import paths
from app.domain.declaration import Declaration, DeclarationType
from app.domain.findings import Finding, Severity
from app.domain.time import hong_kong_date
from app.rules.checks import CHECKS, CheckContext, CheckFunction
from app.domain.problems import RulesDataError

log = logging.getLogger("csw.rules")

RULE_CODE = re.compile(r"R\d{3}")
DECLARATION_TYPES = frozenset(t.value for t in DeclarationType)
_RULE_KEYS = {"code", "check", "severity", "applies_to", "effective_from", "effective_until", "title",
              "message", "params"}


class RulePackError(RulesDataError):
    """A rule pack that cannot be used."""


@dataclass(frozen=True, slots=True)
class Rule:
    code: str
    check: str
    severity: Severity
    applies_to: frozenset[str]
    effective_from: date
    effective_until: date | None
    title_en: str
    title_zh: str
    message_en: str
    message_zh: str
    params: Mapping[str, Any]
    source: str

    def in_force(self, day: date) -> bool:
        return self.effective_from <= day and (self.effective_until is None or day < self.effective_until)


def _line_of(text: str, code: str | None, index: int, occurrence: int = 0) -> int:
    """The line of a rule's ``code = "Rnnn"`` (its ``occurrence``-th, counting from 0, when a
    pack repeats a code), or else of its ``[[rule]]`` header."""
    lines = text.splitlines()
    if code:
        pattern = re.compile(r'^\s*code\s*=\s*["\']%s["\']' % re.escape(code))
        matches = [number for number, line in enumerate(lines, 1) if pattern.match(line)]
        if occurrence < len(matches):
            return matches[occurrence]
    headers = [n for n, line in enumerate(lines, 1) if line.strip() == "[[rule]]"]
    return headers[index] if index < len(headers) else 1


def _bilingual(raw: dict[str, Any], key: str) -> tuple[str, str]:
    value = raw.get(key)
    if not isinstance(value, dict) or not all(isinstance(value.get(lang), str) and value[lang].strip()
                                              for lang in ("en", "zh")):
        raise ValueError(f"{key} needs non-empty 'en' and 'zh' texts")
    return value["en"], value["zh"]


def _is_a(value: object, kind: type) -> bool:
    """TOML-typed value check: booleans are not numbers; an int is an acceptable float."""
    accepted = (int, float) if kind is float else (kind,)
    return not isinstance(value, bool) and isinstance(value, accepted)


def _params(check: str, raw: object) -> dict[str, Any]:
    spec = CHECKS[check]
    params = raw if raw is not None else {}
    if not isinstance(params, dict):
        raise ValueError("params must be a table")
    missing = sorted(set(spec.params) - set(params))
    unknown = sorted(set(params) - set(spec.params))
    if missing:
        raise ValueError(f"check {check} needs params: {', '.join(missing)}")
    if unknown:
        raise ValueError(f"check {check} takes no params: {', '.join(unknown)}")
    for name, kind in spec.params.items():
        value = params[name]
        element = get_args(kind)[0] if get_origin(kind) is list else None
        if element is not None:
            if not isinstance(value, list) or not all(_is_a(v, element) for v in value):
                raise ValueError(f"param {name} must be a list of {element.__name__}")
        elif not _is_a(value, kind):
            raise ValueError(f"param {name} must be {kind.__name__}, got {type(value).__name__}")
        allowed = spec.choices.get(name)
        if allowed is not None:
            chosen = value if isinstance(value, list) else [value]
            wrong = [v for v in chosen if v not in allowed]
            if wrong:
                raise ValueError(f"param {name}: {wrong[0]!r} is not one of {', '.join(sorted(allowed))}")
    if spec.validate is not None and (problem := spec.validate(params)):
        raise ValueError(problem)
    return dict(params)


def _template_fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def _rule(raw: dict[str, Any], source: str) -> Rule:
    unknown = sorted(set(raw) - _RULE_KEYS)
    if unknown:
        raise ValueError(f"unknown keys: {', '.join(unknown)}")
    code = raw.get("code")
    if not isinstance(code, str) or not RULE_CODE.fullmatch(code):
        raise ValueError("code must look like R101")
    check = raw.get("check")
    if check not in CHECKS:
        raise ValueError(f"unknown check {check!r}; known: {', '.join(sorted(CHECKS))}")
    try:
        severity = Severity(raw.get("severity"))
    except ValueError:
        raise ValueError("severity must be reject, hold, warn or info") from None
    applies_to = raw.get("applies_to")
    if (not isinstance(applies_to, list) or not applies_to
            or not set(applies_to) <= DECLARATION_TYPES):
        raise ValueError(f"applies_to must be a non-empty list of {', '.join(sorted(DECLARATION_TYPES))}")
    start, until = raw.get("effective_from"), raw.get("effective_until")
    if not isinstance(start, date) or isinstance(start, datetime):
        raise ValueError("effective_from must be a date (YYYY-MM-DD)")
    if until is not None and (not isinstance(until, date) or isinstance(until, datetime) or until <= start):
        raise ValueError("effective_until must be a date after effective_from")
    title_en, title_zh = _bilingual(raw, "title")
    message_en, message_zh = _bilingual(raw, "message")
    for template in (message_en, message_zh):
        unknown_fields = _template_fields(template) - CHECKS[check].fields
        if unknown_fields:
            raise ValueError(f"message uses {{{sorted(unknown_fields)[0]}}}, which check {check} does not "
                             f"provide (it provides: {', '.join(sorted(CHECKS[check].fields)) or 'nothing'})")
        try:
            template.format_map({name: "x" for name in CHECKS[check].fields})
        except (ValueError, IndexError, KeyError) as exc:
            raise ValueError(f"message {template!r} cannot be filled in: {exc}") from None
    return Rule(code=code, check=check, severity=severity, applies_to=frozenset(applies_to),
                effective_from=start, effective_until=until, title_en=title_en, title_zh=title_zh,
                message_en=message_en, message_zh=message_zh, params=_params(check, raw.get("params")),
                source=source)


def load_pack(path: Path) -> list[Rule]:
    text = path.read_text(encoding="utf-8")
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"line (\d+)", str(exc))
        raise RulePackError(path, int(match.group(1)) if match else None, f"not valid TOML: {exc}") from None
    unknown = sorted(set(document) - {"pack", "rule"})
    if unknown:
        raise RulePackError(path, None, f"unknown top-level keys: {', '.join(unknown)}")
    raw_rules = document.get("rule", [])
    if not isinstance(raw_rules, list):
        raise RulePackError(path, None, "rules are written as [[rule]] tables")
    rules = []
    occurrences: dict[str, int] = {}
    for index, raw in enumerate(raw_rules):
        if not isinstance(raw, dict):
            raise RulePackError(path, _line_of(text, None, index), "rules are written as [[rule]] tables")
        code = raw.get("code") if isinstance(raw.get("code"), str) else None
        line = _line_of(text, code, index, occurrences.get(code or "", 0))
        if code:
            occurrences[code] = occurrences.get(code, 0) + 1
        try:
            rules.append(_rule(raw, f"{path.name}:{line}"))
        except ValueError as exc:
            raise RulePackError(path, line, f"rule {code or '#' + str(index + 1)}: {exc}") from None
    return rules


def load_rules(pack_dir: Path) -> tuple[Rule, ...]:
    """Every ``*.toml`` pack in ``pack_dir``; rule codes are unique across packs."""
    rules: list[Rule] = []
    seen: dict[str, str] = {}
    for path in sorted(pack_dir.glob("*.toml")):
        for rule in load_pack(path):
            if rule.code in seen:
                line = int(rule.source.rsplit(":", 1)[1])
                raise RulePackError(path, line, f"rule {rule.code} is already defined at {seen[rule.code]}")
            seen[rule.code] = rule.source
            rules.append(rule)
    if not rules:
        raise RulePackError(pack_dir, None, "no rules found (expected rules/packs/*.toml)")
    return tuple(rules)


def evaluate(rules: Sequence[Rule], declaration: Declaration, context: CheckContext) -> list[Finding]:
    """Every finding of every rule in force for this declaration's type and day (``RulePlan``)."""
    return RulePlan(rules).evaluate(declaration, context)


#: (declaration type, day) plans a ``RulePlan`` keeps: a few days of three types.
_PLANS_KEPT = 32


class RulePlan:
    """The rules, with the rules in force for each declaration type and day and their check
    functions picked once. Why: a declaration meets some 45 rules; choosing them and looking
    up each one's check again for every declaration cost as much as running the checks."""

    __slots__ = ("rules", "_plans")

    def __init__(self, rules: Sequence[Rule]) -> None:
        self.rules = tuple(rules)
        self._plans: dict[tuple[str, date], tuple[tuple[Rule, CheckFunction], ...]] = {}

    def in_force(self, kind: str, day: date) -> tuple[tuple[Rule, CheckFunction], ...]:
        """The rules for declarations of ``kind`` received on ``day``, in pack order, with their checks."""
        plan = self._plans.get((kind, day))
        if plan is None:
            plan = tuple((rule, CHECKS[rule.check].function) for rule in self.rules
                         if kind in rule.applies_to and rule.in_force(day))
            if len(self._plans) >= _PLANS_KEPT:
                self._plans.clear()
            self._plans[(kind, day)] = plan
        return plan

    def evaluate(self, declaration: Declaration, context: CheckContext) -> list[Finding]:
        """Every finding of every rule in force for this declaration's type and day.

        Checks never raise; should one fail all the same, the declaration is held for an
        officer with a finding saying which rule could not be evaluated (and none of the
        findings it made before failing), rather than refused or waved through."""
        findings: list[Finding] = []
        particulars = declaration.particulars
        root = particulars.path_root if particulars is not None else None
        for rule, check in self.in_force(declaration.type.value, hong_kong_date(context.received_at)):
            found = len(findings)
            try:
                for hit in check(declaration, rule.params, context):
                    values = {k: str(v) for k, v in hit.values.items()}
                    path = hit.path
                    if root is not None and path:
                        path = paths.in_profile(path, root)
                    findings.append(Finding(rule.code, rule.severity, path, rule.message_en.format_map(values),
                                            rule.message_zh.format_map(values), hit.charge))
            except Exception:  # noqa: BLE001 - a broken check must not break intake
                log.exception("rule %s (%s) failed", rule.code, rule.check)
                del findings[found:]
                findings.append(Finding(
                    rule.code, Severity.HOLD, None,
                    f"rule {rule.code} could not be evaluated; an officer will check this declaration",
                    f"規則 {rule.code} 無法評估；將由關員人手審核此報關單",
                ))
        return findings
