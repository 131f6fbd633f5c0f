"""Rules for advance cargo information, as data (``rules/cargo/rules.toml``): each rule names a
check below, its severity, bilingual title and message and its parameters. Checked when the
service starts; evaluated on every lodgement and amendment, each finding naming its path."""
from __future__ import annotations

import string
import tomllib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from app.domain.cargo import CargoInformation
from app.domain.findings import Finding, Severity
from app.domain.problems import RulesDataError
from app.domain.time import HONG_KONG
from app.reference.codelists import CodeLists

CONSIGNMENT = "/Cargo/Consignment"


@dataclass(frozen=True, slots=True)
class Hit:
    path: str
    values: Mapping[str, object]


Check = Callable[[CargoInformation, Mapping[str, Any], CodeLists, datetime], Iterator[Hit]]


@dataclass(frozen=True, slots=True)
class CheckSpec:
    function: Check
    params: Mapping[str, type]
    fields: frozenset[str]


CHECKS: dict[str, CheckSpec] = {}


def check(name: str, params: Mapping[str, type] | None = None, fields: tuple[str, ...] = ("value",)
          ) -> Callable[[Check], Check]:
    def register(function: Check) -> Check:
        CHECKS[name] = CheckSpec(function, dict(params or {}), frozenset(fields))
        return function
    return register


@check("crossing_window", {"earliest_minutes": int, "latest_days": int},
       ("crossing", "why", "why_zh", "earliest_minutes", "latest_days"))
def crossing_window(cargo: CargoInformation, params: Mapping[str, Any], _codes: CodeLists,
                    now: datetime) -> Iterator[Hit]:
    """ROCARS: from 14 days ahead up to 30 minutes before the truck crosses."""
    crossing = cargo.expected_crossing_at
    shown = crossing.astimezone(HONG_KONG).strftime("%Y-%m-%d %H:%M HKT")
    if crossing < now + timedelta(minutes=params["earliest_minutes"]):
        why, why_zh = "too soon (or past)", "太近（或已過）"
    elif crossing > now + timedelta(days=params["latest_days"]):
        why, why_zh = "too far ahead", "太遠"
    else:
        return
    yield Hit(f"{CONSIGNMENT}/ExpectedCrossingDateTime", {"crossing": shown, "why": why, "why_zh": why_zh, **params})


@check("land_control_point")
def land_control_point(cargo: CargoInformation, _params: Mapping[str, Any], codes: CodeLists,
                       _now: datetime) -> Iterator[Hit]:
    point = codes.control_points.get(cargo.control_point)
    if point is None or point.kind != "land_control_point":
        yield Hit(f"{CONSIGNMENT}/ControlPointID", {"value": cargo.control_point})


@check("known_package_type")
def known_package_type(cargo: CargoInformation, _params: Mapping[str, Any], codes: CodeLists,
                       _now: datetime) -> Iterator[Hit]:
    if cargo.package_type not in codes.package_types:
        yield Hit(f"{CONSIGNMENT}/Packaging/TypeCode", {"value": cargo.package_type})


@check("known_countries")
def known_countries(cargo: CargoInformation, _params: Mapping[str, Any], codes: CodeLists,
                    _now: datetime) -> Iterator[Hit]:
    named = [(f"{CONSIGNMENT}/Consignor/Address/CountryCode", cargo.consignor.address.country),
             (f"{CONSIGNMENT}/Consignee/Address/CountryCode", cargo.consignee.address.country),
             (f"{CONSIGNMENT}/OriginCountryCode", cargo.origin_country)]
    for path, country in named:
        if country is not None and country not in codes.countries:
            yield Hit(path, {"value": country})


@check("vague_description", {"words": list})
def vague_description(cargo: CargoInformation, params: Mapping[str, Any], _codes: CodeLists,
                      _now: datetime) -> Iterator[Hit]:
    """A description that is only a catch-all word says nothing officers can profile."""
    if cargo.goods_description.strip(" .").lower() in {str(word).lower() for word in params["words"]}:
        yield Hit(f"{CONSIGNMENT}/GoodsDescription", {"value": cargo.goods_description})


@check("mass_per_package", {"lowest": float, "highest": float},
       ("mass", "packages", "per_package", "lowest", "highest"))
def mass_per_package(cargo: CargoInformation, params: Mapping[str, Any], _codes: CodeLists,
                     _now: datetime) -> Iterator[Hit]:
    if cargo.gross_mass_kg is None:
        return
    per_package = cargo.gross_mass_kg / cargo.package_count
    if not Decimal(str(params["lowest"])) <= per_package <= Decimal(str(params["highest"])):
        yield Hit(f"{CONSIGNMENT}/GrossMassMeasure", {
            "mass": f"{cargo.gross_mass_kg.normalize():f}", "packages": cargo.package_count,
            "per_package": f"{per_package.quantize(Decimal('0.001')).normalize():f}", **params})


@dataclass(frozen=True, slots=True)
class CargoRule:
    """One rule of a rules file (cargo or manifests): the check it names, with its severity,
    bilingual title and message and parameters."""

    code: str
    check: str
    severity: Severity
    title_en: str
    title_zh: str
    message_en: str
    message_zh: str
    params: Mapping[str, Any]


_KEYS = {"code", "check", "severity", "title", "message", "params"}


def _bilingual(raw: Mapping[str, Any], key: str) -> tuple[str, str]:
    value = raw.get(key)
    if not isinstance(value, dict) or not all(isinstance(value.get(k), str) and value[k] for k in ("en", "zh")):
        raise ValueError(f"{key} needs en and zh texts")
    return value["en"], value["zh"]


def _rule(raw: Mapping[str, Any], checks: Mapping[str, CheckSpec], letter: str) -> CargoRule:
    unknown = sorted(set(raw) - _KEYS)
    if unknown:
        raise ValueError(f"unknown keys: {', '.join(unknown)}")
    code, name = raw.get("code"), raw.get("check")
    if not isinstance(code, str) or not (len(code) == 4 and code[0] == letter and code[1:].isdigit()):
        raise ValueError(f"code must look like {letter}101")
    if not isinstance(name, str) or name not in checks:
        raise ValueError(f"unknown check {name!r}; known: {', '.join(sorted(checks))}")
    spec = checks[name]
    try:
        severity = Severity(raw.get("severity"))
    except ValueError:
        raise ValueError("severity must be reject, hold, warn or info") from None
    params = raw.get("params", {})
    if not isinstance(params, dict) or set(params) != set(spec.params) or not all(
            isinstance(params[key], kind) or (kind is float and isinstance(params[key], int))
            for key, kind in spec.params.items()):
        raise ValueError(f"params must be {', '.join(f'{k} ({t.__name__})' for k, t in spec.params.items()) or 'none'}")
    title_en, title_zh = _bilingual(raw, "title")
    message_en, message_zh = _bilingual(raw, "message")
    for template in (message_en, message_zh):
        used = {field for _, field, _, _ in string.Formatter().parse(template) if field}
        if used - spec.fields:
            raise ValueError(f"message uses {{{sorted(used - spec.fields)[0]}}}, which check {name} does not give")
    return CargoRule(code, name, severity, title_en, title_zh, message_en, message_zh, params)


def read_rules(path: Path, checks: Mapping[str, CheckSpec], letter: str
               ) -> tuple[tuple[CargoRule, ...], dict[str, Any]]:
    """The rules of the file at ``path``, checked whole against ``checks`` (codes ``letter``
    and three digits), and the whole document (for what else the file says): any mistake stops
    start-up, naming the rule."""
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise RulesDataError(path, None, f"cannot be read: {exc}") from None
    rules = []
    for index, raw in enumerate(document.get("rule", [])):
        try:
            rules.append(_rule(raw, checks, letter))
        except ValueError as exc:
            raise RulesDataError(path, None, f"rule {raw.get('code') or '#' + str(index + 1)}: {exc}") from None
    codes = [rule.code for rule in rules]
    if len(set(codes)) != len(codes):
        raise RulesDataError(path, None, "a rule code is used twice")
    return tuple(rules), document


def run_rules(rules: Sequence[CargoRule], checks: Mapping[str, CheckSpec], subject: Any, codes: CodeLists,
              now: datetime) -> list[Finding]:
    """Every rule's findings on ``subject`` (what ``checks`` read), in the file's order."""
    findings = []
    for rule in rules:
        for hit in checks[rule.check].function(subject, rule.params, codes, now):
            findings.append(Finding(rule.code, rule.severity, hit.path, rule.message_en.format_map(hit.values),
                                    rule.message_zh.format_map(hit.values)))
    return findings


def load_rules(rules_dir: Path) -> tuple[CargoRule, ...]:
    """``rules_dir/cargo/rules.toml``, checked whole: any mistake stops start-up, naming the rule."""
    return read_rules(rules_dir / "cargo" / "rules.toml", CHECKS, "C")[0]


def evaluate(rules: tuple[CargoRule, ...], cargo: CargoInformation, codes: CodeLists, now: datetime) -> list[Finding]:
    """Every rule's findings on the cargo, in the file's order."""
    return run_rules(rules, CHECKS, cargo, codes, now)
