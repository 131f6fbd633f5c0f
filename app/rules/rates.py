"""Duty and charge rate tables, loaded from ``rules/rates/*.toml``.

Rates change by budget, so every rate is a dated row (``effective_from``, optional
``effective_until``, both inclusive) and a change is a new row, never an edit: the row
in force on a date is the one with the latest ``effective_from`` on or before it (unless
that row has an ``effective_until`` already past). Assessing an old declaration again
therefore gives the same result as on the day it was lodged.

Everything is validated at load time; a bad file raises ``RateTableError`` whose text
is ``file:line: reason`` so whoever edits the tables can go straight to the mistake.
Money and rates are ``Decimal`` (TOML floats are read as ``Decimal``, never as binary
floats).
"""
from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeGuard, get_args

from app.domain.problems import RulesDataError
from app.domain.rates import (  # the rows the loader builds
    R,
    frozen_map,
    ClothingLevyRate,
    CommodityRule,
    DeclarationChargeRate,
    DeclarationTypeRule,
    DutyMethod,
    ExchangeRate,
    FormRule,
    HydrocarbonOilRate,
    LiquorRate,
    MethylAlcoholRate,
    RateTables,
    Schedule,
    TobaccoRate,
)

DEFAULT_RATES_DIR = Path(__file__).resolve().parents[2] / "rules" / "rates"

DUTY_METHODS = frozenset(get_args(DutyMethod))
FORM_CHARGES = frozenset({"scaled", "flat", "exempt"})
LEVY_PART_RULES = frozenset({"whole", "pro_rata"})

KeyPath = tuple[str | int, ...]


def _is_duty_method(value: str) -> TypeGuard[DutyMethod]:
    return value in DUTY_METHODS


class RateTableError(RulesDataError):
    """A rate file that cannot be used."""


# ------------------------------------------------------------------ key locations


_KEY_PART = re.compile(r"""\s*(?:"((?:[^"\\]|\\.)*)"|'([^']*)'|([A-Za-z0-9_-]+))\s*""")
_HEADER = re.compile(r"^\s*(\[\[?)(.*?)\]\]?\s*(?:#.*)?$")


def _split_key(text: str) -> tuple[str, ...] | None:
    """``a."b c".d`` -> ("a", "b c", "d"); None when it is not a plain dotted key."""
    parts: list[str] = []
    position = 0
    while True:
        match = _KEY_PART.match(text, position)
        if match is None or match.end() == position:
            return None
        parts.append(next(g for g in match.groups() if g is not None))
        position = match.end()
        if position == len(text):
            return tuple(parts)
        if text[position] != ".":
            return None
        position += 1


@dataclass(frozen=True, slots=True)
class _Source:
    """One TOML file and its raw text, to turn a key path into a line number."""

    path: Path
    text: str

    def _headers(self) -> list[tuple[int, KeyPath]]:
        """Every table header as (line, key path with array indexes)."""
        headers: list[tuple[int, KeyPath]] = []
        counts: dict[tuple[str, ...], int] = {}
        for number, line in enumerate(self.text.splitlines(), start=1):
            match = _HEADER.match(line)
            if match is None:
                continue
            key = _split_key(match.group(2))
            if key is None:
                continue
            if match.group(1) == "[[":
                index = counts.get(key, 0)
                counts[key] = index + 1
                # indexes of enclosing arrays are taken from the latest headers seen
                headers.append((number, (*self._with_indexes(key[:-1], counts), key[-1], index)))
                # a new element resets the counts of arrays nested under it
                for other in [k for k in counts if len(k) > len(key) and k[: len(key)] == key]:
                    del counts[other]
            else:
                headers.append((number, self._with_indexes(key, counts)))
        return headers

    @staticmethod
    def _with_indexes(key: tuple[str, ...], counts: Mapping[tuple[str, ...], int]) -> KeyPath:
        path: list[str | int] = []
        for i, part in enumerate(key):
            path.append(part)
            seen = counts.get(key[: i + 1])
            if seen:
                path.append(seen - 1)
        return tuple(path)

    def line_of(self, path: KeyPath) -> int:
        """Line of the key at ``path``; its table's header line when the key is not
        written in the file (a missing key), line 1 when there is no such table."""
        lines = self.text.splitlines()
        headers = self._headers()
        chosen, length = -1, 0
        for index, (_, header) in enumerate(headers):
            if len(header) <= len(path) and path[: len(header)] == header and len(header) >= length:
                chosen, length = index, len(header)
        header_line = headers[chosen][0] if chosen >= 0 else 1
        first = header_line + 1 if chosen >= 0 else 1
        last = headers[chosen + 1][0] - 1 if chosen + 1 < len(headers) else len(lines)
        if chosen < 0:
            last = headers[0][0] - 1 if headers else len(lines)
        rest = tuple(part for part in path[length:] if isinstance(part, str))
        # the key may be written whole (a = ...), dotted (a.b = ...) or hold an inline table
        for depth in range(len(rest), 0, -1):
            for number in range(first, last + 1):
                left, equals, _ = lines[number - 1].partition("=")
                key = _split_key(left.strip()) if equals else None
                if key is not None and key[:depth] == rest[:depth]:
                    return number
        # a section written only as sub-tables or arrays: [[name]], [name.kind]
        for number, header in headers:
            if len(header) > len(path) and header[: len(path)] == path:
                return number
        return header_line


# ------------------------------------------------------------------------ reading


class _Table:
    """Typed access to one TOML table, remembering which keys were used, so that a key
    nobody reads (a typo) is an error rather than silently ignored."""

    def __init__(self, source: _Source, path: KeyPath, data: Any) -> None:
        self.source = source
        self.path = path
        if not isinstance(data, dict):
            raise self.error(None, f"{self.name} must be a table")
        self.data: dict[str, Any] = data
        self.used: set[str] = set()

    @property
    def name(self) -> str:
        parts: list[str] = []
        for part in self.path:
            if isinstance(part, int):
                parts[-1] += f"[{part + 1}]"
            else:
                parts.append(part)
        return ".".join(parts) or "the file"

    def error(self, key: str | None, reason: str) -> RateTableError:
        path = self.path if key is None else (*self.path, key)
        return RateTableError(self.source.path, self.source.line_of(path), reason)

    def _get(self, key: str) -> Any:
        self.used.add(key)
        return self.data.get(key)

    def has(self, key: str) -> bool:
        return key in self.data

    def date(self, key: str, *, required: bool = True) -> date | None:
        value = self._get(key)
        if value is None:
            if required:
                raise self.error(None, f"{self.name} lacks {key} (a date such as 2024-10-16)")
            return None
        if isinstance(value, datetime) or not isinstance(value, date):
            raise self.error(key, f"{key} must be a date such as 2024-10-16, not {value!r}")
        return value

    def decimal(self, key: str, *, required: bool = True, positive: bool = False) -> Decimal | None:
        value = self._get(key)
        if value is None:
            if required:
                raise self.error(None, f"{self.name} lacks {key}")
            return None
        if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
            raise self.error(key, f"{key} must be a number, not {value!r}")
        number = Decimal(value)
        if not number.is_finite():
            raise self.error(key, f"{key} must be a finite number, not {value}")
        if number < 0 or (positive and number == 0):
            raise self.error(key, f"{key} must be {'above' if positive else 'at least'} 0, not {value}")
        return number

    def required_decimal(self, key: str, *, positive: bool = False) -> Decimal:
        value = self.decimal(key, positive=positive)
        assert value is not None
        return value

    def boolean(self, key: str, default: bool) -> bool:
        value = self._get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self.error(key, f"{key} must be true or false, not {value!r}")
        return value

    def string(self, key: str, *, required: bool = True, choices: Iterable[str] | None = None,
               pattern: str | None = None) -> str | None:
        value = self._get(key)
        if value is None:
            if required:
                raise self.error(None, f"{self.name} lacks {key}")
            return None
        if not isinstance(value, str) or not value:
            raise self.error(key, f"{key} must be a non-empty string, not {value!r}")
        if choices is not None and value not in set(choices):
            raise self.error(key, f"{key} must be one of {', '.join(sorted(choices))}, not {value!r}")
        if pattern is not None and not re.fullmatch(pattern, value):
            raise self.error(key, f"{key} {value!r} does not match {pattern}")
        return value

    def finish(self) -> None:
        unknown = sorted(set(self.data) - self.used)
        if unknown:
            raise self.error(unknown[0], f"unknown key {unknown[0]!r} in {self.name}")


def _rows(source: _Source, path: KeyPath, data: Any) -> list[_Table]:
    """An array of tables (``[[name]]``) as readers, each with its index in the path."""
    if not isinstance(data, list) or not all(isinstance(row, dict) for row in data):
        raise RateTableError(source.path, source.line_of(path),
                             f"{'.'.join(map(str, path))} must be an array of tables ([[...]])")
    return [_Table(source, (*path, index), row) for index, row in enumerate(data)]


def _dated(table: _Table) -> dict[str, Any]:
    start = table.date("effective_from")
    until = table.date("effective_until", required=False)
    assert start is not None
    if until is not None and until < start:
        raise table.error("effective_until", f"effective_until {until} is before effective_from {start}")
    return {"effective_from": start, "effective_until": until,
            "confirmed": table.boolean("confirmed", True)}


def _schedule(kind: str, tables: list[_Table], rows: list[R]) -> Schedule[R]:
    """Rows sorted by start; two rows starting the same day would make a date ambiguous."""
    seen: dict[date, _Table] = {}
    for table, row in zip(tables, rows):
        if row.effective_from in seen:
            raise table.error("effective_from",
                              f"two {kind} rows start on {row.effective_from}; a change needs a later date")
        seen[row.effective_from] = table
    return Schedule(kind, tuple(sorted(rows, key=lambda r: r.effective_from)))


def _declaration_charge(source: _Source, data: Any) -> Schedule[DeclarationChargeRate]:
    tables = _rows(source, ("declaration_charge",), data)
    rows = []
    for t in tables:
        rows.append(DeclarationChargeRate(
            **_dated(t),
            first_band_value=t.required_decimal("first_band_value"),
            first_band_charge=t.required_decimal("first_band_charge"),
            step_value=t.required_decimal("step_value", positive=True),
            step_charge=t.required_decimal("step_charge"),
            round_up_to=t.required_decimal("round_up_to", positive=True),
            cap=t.decimal("cap", required=False),
            flat_charge=t.required_decimal("flat_charge"),
        ))
        t.finish()
    return _schedule("declaration_charge", tables, rows)


def _clothing_levy(source: _Source, data: Any) -> Schedule[ClothingLevyRate]:
    tables = _rows(source, ("clothing_levy",), data)
    rows = []
    for t in tables:
        part = t.string("part_of_unit", choices=LEVY_PART_RULES)
        rows.append(ClothingLevyRate(
            **_dated(t),
            unit_value=t.required_decimal("unit_value", positive=True),
            per_unit=t.required_decimal("per_unit"),
            part_of_unit="whole" if part == "whole" else "pro_rata",
        ))
        t.finish()
    return _schedule("clothing_levy", tables, rows)


def _liquor(source: _Source, data: Any) -> Schedule[LiquorRate]:
    tables = _rows(source, ("liquor",), data)
    rows = []
    for t in tables:
        rows.append(LiquorRate(
            **_dated(t),
            strength_above_percent=t.required_decimal("strength_above_percent"),
            first_tier_value=t.required_decimal("first_tier_value"),
            first_tier_percent=t.required_decimal("first_tier_percent"),
            rest_percent=t.required_decimal("rest_percent"),
            per_litre_above_litres=t.required_decimal("per_litre_above_litres", positive=True),
            fallback_per_litre=t.decimal("fallback_per_litre", required=False),
            fallback_below_litres=t.decimal("fallback_below_litres", required=False, positive=True),
        ))
        if t.has("fallback_below_litres") and not t.has("fallback_per_litre"):
            raise t.error("fallback_below_litres", "fallback_below_litres needs fallback_per_litre")
        t.finish()
    return _schedule("liquor", tables, rows)


def _methyl_alcohol(source: _Source, data: Any) -> Schedule[MethylAlcoholRate]:
    tables = _rows(source, ("methyl_alcohol",), data)
    rows = []
    for t in tables:
        rows.append(MethylAlcoholRate(
            **_dated(t),
            per_100_litres=t.required_decimal("per_100_litres"),
            strength_above_percent=t.required_decimal("strength_above_percent"),
            per_100_litres_per_percent=t.required_decimal("per_100_litres_per_percent"),
        ))
        t.finish()
    return _schedule("methyl_alcohol", tables, rows)


_KIND = r"[a-z][a-z0-9_]*"


def _kinds(source: _Source, section: str, data: Any) -> dict[str, list[_Table]]:
    """``[[section.kind]]`` arrays, by kind."""
    if not isinstance(data, dict):
        raise RateTableError(source.path, source.line_of((section,)),
                             f"{section} must be a table of [[{section}.<kind>]] rows")
    kinds: dict[str, list[_Table]] = {}
    for kind, rows in data.items():
        if not re.fullmatch(_KIND if section != "exchange_rates" else r"[A-Z]{3}", kind):
            expected = "an ISO 4217 code such as USD" if section == "exchange_rates" else "lower_case_with_underscores"
            raise RateTableError(source.path, source.line_of((section, kind)),
                                 f"{section}.{kind}: the name must be {expected}")
        kinds[kind] = _rows(source, (section, kind), rows)
    return kinds


def _tobacco(source: _Source, data: Any) -> dict[str, Schedule[TobaccoRate]]:
    result: dict[str, Schedule[TobaccoRate]] = {}
    for kind, tables in _kinds(source, "tobacco", data).items():
        rows = []
        for t in tables:
            sticks = t.decimal("per_1000_sticks", required=False)
            kg = t.decimal("per_kg", required=False)
            if (sticks is None) == (kg is None):
                raise t.error(None, f"{t.name} needs exactly one of per_1000_sticks and per_kg")
            long_stick = t.decimal("long_stick_mm", required=False, positive=True)
            if long_stick is not None and sticks is None:
                raise t.error("long_stick_mm", "long_stick_mm applies to rates per_1000_sticks only")
            amount = sticks if sticks is not None else kg
            assert amount is not None
            rows.append(TobaccoRate(**_dated(t), kind=kind, amount=amount,
                                    per="1000_sticks" if sticks is not None else "kg",
                                    long_stick_mm=long_stick))
            t.finish()
        result[kind] = _schedule(f"tobacco.{kind}", tables, rows)
    return result


def _hydrocarbon_oil(source: _Source, data: Any) -> dict[str, Schedule[HydrocarbonOilRate]]:
    result: dict[str, Schedule[HydrocarbonOilRate]] = {}
    for kind, tables in _kinds(source, "hydrocarbon_oil", data).items():
        rows = []
        for t in tables:
            rows.append(HydrocarbonOilRate(**_dated(t), kind=kind, per_litre=t.required_decimal("per_litre")))
            t.finish()
        result[kind] = _schedule(f"hydrocarbon_oil.{kind}", tables, rows)
    return result


def _exchange_rates(source: _Source, data: Any) -> dict[str, Schedule[ExchangeRate]]:
    result: dict[str, Schedule[ExchangeRate]] = {}
    for currency, tables in _kinds(source, "exchange_rates", data).items():
        rows = []
        for t in tables:
            rows.append(ExchangeRate(**_dated(t), currency=currency,
                                     hkd_per_unit=t.required_decimal("hkd_per_unit", positive=True)))
            t.finish()
        result[currency] = _schedule(f"exchange_rates.{currency}", tables, rows)
    return result


def _forms(source: _Source, data: Any) -> dict[str, FormRule]:
    top = _Table(source, ("forms",), data)
    result: dict[str, FormRule] = {}
    for code in list(top.data):
        t = _Table(source, ("forms", code), top._get(code))
        charge = t.string("charge", choices=FORM_CHARGES)
        declaration_type = t.string("declaration_type", pattern=r"[A-Z]{2}")
        assert charge is not None and declaration_type is not None
        result[code] = FormRule(
            code=code,
            declaration_type=declaration_type,
            charge="scaled" if charge == "scaled" else "flat" if charge == "flat" else "exempt",
            clothing_levy=t.boolean("clothing_levy", False),
        )
        t.finish()
    return result


def _declaration_types(source: _Source, data: Any) -> dict[str, DeclarationTypeRule]:
    top = _Table(source, ("declaration_types",), data)
    result: dict[str, DeclarationTypeRule] = {}
    for code in list(top.data):
        t = _Table(source, ("declaration_types", code), top._get(code))
        result[code] = DeclarationTypeRule(
            code=code,
            default_form=t.string("default_form", required=False),
            tdec=t.boolean("tdec", True),
            duty=t.boolean("duty", False),
        )
        t.finish()
    return result


def _commodities(source: _Source, data: Any) -> tuple[CommodityRule, ...]:
    tables = _rows(source, ("commodities",), data)
    seen: set[str] = set()
    rules = []
    for t in tables:
        prefix = t.string("hs_prefix", pattern=r"\d{2,8}")
        commodity = t.string("commodity", pattern=_KIND)
        duty = t.string("duty", choices=DUTY_METHODS)
        assert prefix is not None and commodity is not None and duty is not None and _is_duty_method(duty)
        if prefix in seen:
            raise t.error("hs_prefix", f"hs_prefix {prefix} is listed twice")
        seen.add(prefix)
        rules.append(CommodityRule(prefix, commodity, duty))
        t.finish()
    return tuple(sorted(rules, key=lambda r: -len(r.hs_prefix)))


def _count_units(source: _Source, data: Any) -> frozenset[str]:
    if not isinstance(data, list) or not all(isinstance(u, str) and re.fullmatch(r"[0-9A-Z]{2,3}", u) for u in data):
        raise RateTableError(source.path, source.line_of(("count_units",)),
                             "count_units must be a list of UN/ECE Rec 20/21 codes such as \"C62\"")
    return frozenset(data)


_SECTIONS = {
    "declaration_charge": _declaration_charge,
    "clothing_levy": _clothing_levy,
    "liquor": _liquor,
    "methyl_alcohol": _methyl_alcohol,
    "tobacco": _tobacco,
    "hydrocarbon_oil": _hydrocarbon_oil,
    "exchange_rates": _exchange_rates,
    "forms": _forms,
    "declaration_types": _declaration_types,
    "commodities": _commodities,
    "count_units": _count_units,
}


def _read(path: Path) -> tuple[_Source, dict[str, Any]]:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RateTableError(path, raw[: exc.start].count(b"\n") + 1, "the file is not UTF-8") from None
    try:
        data = tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        match = re.search(r"\s*\(at line (\d+), column (\d+)\)$", message)
        if match:
            line = int(match.group(1))
            reason = f"{message[: match.start()]} (column {match.group(2)})"
        else:
            line = max(1, len(text.splitlines()))
            reason = re.sub(r"\s*\(at end of document\)$", " at the end of the file", message)
        raise RateTableError(path, line, f"TOML syntax: {reason}") from None
    return _Source(path, text), data


def load_rate_files(paths: Iterable[Path]) -> RateTables:
    """Load and cross-check the given TOML files (each section in exactly one file)."""
    sections: dict[str, tuple[_Source, Any]] = {}
    files: list[str] = []
    for path in paths:
        source, data = _read(path)
        files.append(path.name)
        for name, value in data.items():
            if name not in _SECTIONS:
                raise RateTableError(path, source.line_of((name,)),
                                     f"unknown section {name!r} (expected one of {', '.join(sorted(_SECTIONS))})")
            if name in sections:
                raise RateTableError(path, source.line_of((name,)),
                                     f"section {name!r} is already defined in {sections[name][0].path.name}")
            sections[name] = (source, value)
    parsed: dict[str, Any] = {"files": tuple(files)}
    for name, (source, value) in sections.items():
        section = _SECTIONS[name](source, value)
        parsed[name] = frozen_map(section) if isinstance(section, dict) else section
    tables = RateTables(**parsed)
    _cross_check(tables, sections)
    return tables


def _cross_check(tables: RateTables, sections: Mapping[str, tuple[_Source, Any]]) -> None:
    """References between sections: commodity -> rate kind, type -> form, form -> type."""
    if "commodities" in sections:
        source = sections["commodities"][0]
        by_method = {"tobacco": tables.tobacco, "hydrocarbon_oil": tables.hydrocarbon_oil}
        for index, row in enumerate(sections["commodities"][1]):
            duty, commodity = row["duty"], row["commodity"]
            kinds = by_method.get(duty)
            if kinds is not None and commodity not in kinds:
                raise RateTableError(source.path, source.line_of(("commodities", index, "commodity")),
                                     f"commodity {commodity!r} has no [[{duty}.{commodity}]] rates")
    if "declaration_types" in sections:
        source = sections["declaration_types"][0]
        for code, type_rule in tables.declaration_types.items():
            if type_rule.default_form is not None and type_rule.default_form not in tables.forms:
                raise RateTableError(source.path, source.line_of(("declaration_types", code, "default_form")),
                                     f"default_form {type_rule.default_form!r} of {code} is not in [forms]")
    if "forms" in sections and "declaration_types" in sections:
        source = sections["forms"][0]
        for code, form in tables.forms.items():
            if form.declaration_type not in tables.declaration_types:
                raise RateTableError(source.path, source.line_of(("forms", code, "declaration_type")),
                                     f"form {code}: declaration_type {form.declaration_type!r} "
                                     "is not in [declaration_types]")


def load_rate_tables(directory: Path = DEFAULT_RATES_DIR) -> RateTables:
    """Every ``*.toml`` in ``directory``, in name order."""
    paths = sorted(directory.glob("*.toml"))
    if not paths:
        raise RateTableError(directory, 0, "no rate files (*.toml) in this directory")
    return load_rate_files(paths)
