"""Code lists for the form's pickers: HS codes (searchable by code or words), countries and
currencies (ISO 3166 / 4217 via pycountry), units, package types, control points, locations.

Read once per rules directory from ``rules/codelists`` (the same files the business rules
check against), so a picker never offers a code the rules would refuse.
"""
from __future__ import annotations

import csv
import gettext
from dataclasses import dataclass
from pathlib import Path

import pycountry


@dataclass(frozen=True, slots=True)
class Code:
    code: str
    name_en: str
    name_zh: str = ""
    kind: str = ""

    def name(self, locale: str) -> str:
        return self.name_zh if locale == "zh_Hant" and self.name_zh else self.name_en


@dataclass(frozen=True, slots=True)
class CodeLists:
    hs_items: tuple[Code, ...]
    units: tuple[Code, ...]
    package_types: tuple[Code, ...]
    control_points: tuple[Code, ...]
    locations: tuple[Code, ...]
    countries: tuple[Code, ...]
    currencies: tuple[Code, ...]

    def search_hs(self, query: str, limit: int = 25) -> list[Code]:
        """Tariff items whose code starts with the digits given, or whose English or Chinese
        description contains every word given (case-insensitive)."""
        query = query.strip()
        if not query:
            return []
        digits = query.replace(".", "").replace(" ", "")
        if digits.isdigit():
            return [c for c in self.hs_items if c.code.startswith(digits)][:limit]
        words = query.lower().split()
        return [c for c in self.hs_items
                if all(w in c.name_en.lower() or w in c.name_zh for w in words)][:limit]


    def country_code(self, text: str) -> str | None:
        """The ISO 3166 code a trader meant: a code in any case, or a country's English or
        Chinese name ("china", "中國"); None when nothing matches."""
        wanted = text.strip()
        if not wanted:
            return None
        upper = wanted.upper()
        if len(upper) == 2 and any(c.code == upper for c in self.countries):
            return upper
        folded = wanted.casefold()
        for country in self.countries:
            if folded in (country.name_en.casefold(), country.name_zh.casefold()):
                return country.code
        common = pycountry.countries.get(common_name=wanted.title()) or pycountry.countries.get(
            official_name=wanted)
        return common.alpha_2 if common is not None else None


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _codes(path: Path, kind_column: str = "kind") -> tuple[Code, ...]:
    return tuple(Code(r["code"], r["name_en"], r.get("name_zh", ""), r.get(kind_column, "")) for r in _rows(path))


def _chinese(domain: str) -> gettext.NullTranslations:
    """pycountry's own Traditional Chinese names (Taiwan's catalogue; Hong Kong's is sparse)."""
    try:
        return gettext.translation(domain, pycountry.LOCALES_DIR, languages=["zh_TW"])
    except OSError:
        return gettext.NullTranslations()


def load(rules_dir: Path) -> CodeLists:
    """The pickers' lists, read once at start-up (``app.bootstrap.Reference``)."""
    directory = rules_dir / "codelists"
    hs_items = tuple(Code(r["code"], r["name_en"], r["name_zh"]) for r in _rows(directory / "hs_codes.csv")
                     if r["level"] == "item")
    country_zh, currency_zh = _chinese("iso3166-1"), _chinese("iso4217")
    countries = tuple(sorted((Code(c.alpha_2, c.name, country_zh.gettext(c.name)) for c in pycountry.countries),
                             key=lambda c: c.code))
    currencies = tuple(sorted((Code(c.alpha_3, c.name, currency_zh.gettext(c.name)) for c in pycountry.currencies),
                              key=lambda c: c.code))
    return CodeLists(
        hs_items=hs_items,
        units=_codes(directory / "units.csv"),
        package_types=_codes(directory / "package_types.csv"),
        control_points=_codes(directory / "control_points.csv"),
        locations=_codes(directory / "locations.csv"),
        countries=countries,
        currencies=currencies,
    )
