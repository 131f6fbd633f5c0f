"""Code lists for the form's pickers: HS codes (searchable by code or everyday words in
English and Chinese), countries and currencies (ISO 3166 / 4217 via pycountry, with their
Chinese names), units, package types, control points, locations.

Read once per rules directory from ``rules/codelists`` (the same files the business rules
check against), so a picker never offers a code the rules would refuse. The tariff search also
reads the HS 2022 nomenclature (``hs2022.csv``: every chapter, heading and subheading with its
description) and everyday words (``hs_synonyms.csv``: "laptop", "手機" -> an HS prefix), both
data an analyst extends without touching code.
"""
from __future__ import annotations

import csv
import gettext
import re
from dataclasses import dataclass, field
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
class Synonym:
    """An everyday word for goods, and the HS prefix it means."""

    words: frozenset[str]  # English: the stemmed words; Chinese: the phrase itself
    phrase: str
    language: str
    hs_prefix: str


@dataclass(frozen=True, slots=True)
class Subheading:
    """An HS 2022 subheading (6 digits) with its description, for searches the 8-digit list
    does not cover."""

    code: str
    description: str


_WORD = re.compile(r"[a-z0-9]+")


def stem(word: str) -> str:
    """A word without its English plural ending: "whiskies" -> "whisky", "boxes" -> "box"."""
    word = word.lower()
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("ches", "shes", "sses", "xes", "zes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def words_of(text: str) -> frozenset[str]:
    return frozenset(stem(word) for word in _WORD.findall(text.lower()))


def _has_chinese(text: str) -> bool:
    return any("\u3400" <= ch <= "\u9fff" for ch in text)


@dataclass(frozen=True, slots=True)
class CodeLists:
    hs_items: tuple[Code, ...]
    units: tuple[Code, ...]
    package_types: tuple[Code, ...]
    control_points: tuple[Code, ...]
    locations: tuple[Code, ...]
    countries: tuple[Code, ...]
    currencies: tuple[Code, ...]
    hs_descriptions: dict[str, str] = field(default_factory=dict)  # HS 2022: chapter, heading, subheading
    synonyms: tuple[Synonym, ...] = ()
    _item_words: dict[str, frozenset[str]] = field(default_factory=dict)

    def search_hs(self, query: str, limit: int = 25) -> list[Code]:
        """Tariff items for digits (codes starting with them) or words in English or Chinese,
        best first: an everyday word's meaning (synonyms), then whole words of the item's own
        description (plurals folded: "whisky" finds "Whiskies"; "wine" does not find "swine"),
        then of its HS 2022 subheading and heading."""
        query = query.strip()
        if not query:
            return []
        digits = query.replace(".", "").replace(" ", "")
        if digits.isdigit():
            return [c for c in self.hs_items if c.code.startswith(digits)][:limit]
        scores = self._scores(query)
        ranked = sorted((item for item in self.hs_items if scores.get(item.code)),
                        key=lambda item: (-scores[item.code], item.code))
        return ranked[:limit]

    def search_subheadings(self, query: str, limit: int = 10) -> list[Subheading]:
        """HS 2022 subheadings matching the words that no listed 8-digit item covers: where to
        look when the tariff list here has no code yet."""
        query = query.strip()
        if not query or query.replace(".", "").replace(" ", "").isdigit():
            return []
        wanted = words_of(query)
        prefixes = [s.hs_prefix for s in self._synonyms_in(query, wanted)]
        covered = {item.code[:6] for item in self.search_hs(query, limit=200)}
        found = []
        for code, description in self.hs_descriptions.items():
            if len(code) != 6 or code in covered:
                continue
            if any(code.startswith(p) or p.startswith(code) for p in prefixes) or (
                    wanted and wanted <= words_of(description)):
                found.append(Subheading(code, description))
        return found[:limit]

    def _synonyms_in(self, query: str, wanted: frozenset[str]) -> list[Synonym]:
        found = []
        for synonym in self.synonyms:
            if synonym.language == "zh":
                if synonym.phrase in query:
                    found.append(synonym)
            elif synonym.words and synonym.words <= wanted:
                found.append(synonym)
        # "紅酒" means red wine, not every drink of "酒"; "red wine" likewise beats "wine".
        return [s for s in found if not any(
            other is not s and (s.phrase in other.phrase if s.language == "zh" else s.words < other.words)
            for other in found if other.language == s.language)]

    def _scores(self, query: str) -> dict[str, int]:
        wanted = words_of(query)
        chinese = [part for part in query.split() if _has_chinese(part)]
        scores: dict[str, int] = {}
        for synonym in self._synonyms_in(query, wanted):
            for item in self.hs_items:
                if item.code.startswith(synonym.hs_prefix):
                    scores[item.code] = scores.get(item.code, 0) + 100 + 5 * len(synonym.hs_prefix)
        for item in self.hs_items:
            own = self._item_words.get(item.code, frozenset())
            subheading = words_of(self.hs_descriptions.get(item.code[:6], ""))
            heading = words_of(self.hs_descriptions.get(item.code[:4], ""))
            score = 0
            if wanted and wanted <= own | subheading | heading:
                score += 10 * len(wanted & own) + 4 * len(wanted & subheading) + 2 * len(wanted & heading)
            if chinese and all(part in item.name_zh for part in chinese):
                score += 10 * len(chinese)
            if score:
                scores[item.code] = scores.get(item.code, 0) + score
        return scores

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
    hs_descriptions = {r["hscode"]: r["description"] for r in _rows(directory / "hs2022.csv")
                       if r["hscode"].isdigit()} if (directory / "hs2022.csv").exists() else {}
    synonyms = tuple(Synonym(words_of(r["word"]) if r["language"] == "en" else frozenset(), r["word"].strip(),
                             r["language"], r["hs_prefix"].strip())
                     for r in _rows(directory / "hs_synonyms.csv")) if (directory / "hs_synonyms.csv").exists() else ()
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
        hs_descriptions=hs_descriptions,
        synonyms=synonyms,
        _item_words={item.code: words_of(item.name_en) for item in hs_items},
    )
