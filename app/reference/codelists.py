"""Code lists as data: HS codes, locations, control points, units, package types, the
licence requirements of controlled goods and the goods each TDEC form is for (food,
clothing under the levy, the charge exemption reasons), read from the CSV files in ``rules/codelists/``
(see the README there), plus ISO 3166-1 countries and ISO 4217 currencies from pycountry.

``load_code_lists`` is called once at start-up; it checks every file completely and raises
``CodeListError`` (file, 1-based line, reason) on the first problem, so a broken list stops
the service before it serves a request instead of letting declarations be judged against
half a list. After loading, every look-up is a dict or frozenset access.
"""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

import pycountry

from app.domain.problems import RulesDataError

DEFAULT_DIRECTORY = Path(__file__).resolve().parents[2] / "rules" / "codelists"

HS_CODES_FILE = "hs_codes.csv"
LOCATIONS_FILE = "locations.csv"
CONTROL_POINTS_FILE = "control_points.csv"
UNITS_FILE = "units.csv"
PACKAGE_TYPES_FILE = "package_types.csv"
CONTROLLED_GOODS_FILE = "controlled_goods.csv"
FOOD_HEADINGS_FILE = "food_headings.csv"
CLOTHING_LEVY_GOODS_FILE = "clothing_levy_goods.csv"
CHARGE_EXEMPTIONS_FILE = "charge_exemptions.csv"
HS_NOMENCLATURE_FILE = "hs2022.csv"  # the WCO's HS 2022: every subheading (HS6), whatever Hong Kong lists

HS_LEVELS = {2: "chapter", 4: "heading", 6: "subheading", 8: "item"}
RESERVED_HS_CHAPTERS = frozenset({"77"})  # reserved by the WCO for possible future use
LOCATION_KINDS = frozenset(
    {"city", "port", "airport", "land_control_point", "inland_clearance_point", "postal_exchange"}
)
CONTROL_POINT_KINDS = frozenset({"land_control_point", "airport", "port", "postal_exchange"})
BOUNDARIES = frozenset({"shenzhen", "zhuhai_macao", "air", "sea"})
UNIT_KINDS = frozenset({"mass", "volume", "length", "area", "count"})
DECLARATION_TYPES = frozenset({"IM", "EX", "TS"})
REQUIREMENTS = frozenset({"mandatory", "indicative"})

_HS_CODE = re.compile(r"\d{2}|\d{4}|\d{6}|\d{8}")
_HS_SUBHEADING = re.compile(r"\d{6}")
_HS_PREFIX = re.compile(r"\d{2,8}")
_LOCODE = re.compile(r"[A-Z]{2}[A-Z2-9]{3}")
_UNIT = re.compile(r"[0-9A-Z]{2,3}")
_PACKAGE_TYPE = re.compile(r"[0-9A-Z]{2}")
_LICENCE_TYPE = re.compile(r"[0-9A-Z]{1,10}")  # the schema's DocumentTypeCodeType
_CATEGORY = re.compile(r"[a-z][a-z0-9_]*")
_EXEMPTION_CODE = re.compile(r"[A-Z][A-Z0-9]{1,9}")  # a document ID the schema accepts


class CodeListError(RulesDataError):
    """A code list file that cannot be used. ``line`` is 1-based (the header is line 1);
    0 means the file as a whole (for example, it does not exist)."""


@dataclass(frozen=True, slots=True)
class HsEntry:
    code: str
    level: str  # chapter (2 digits), heading (4), subheading (6) or item (8)
    name_en: str
    name_zh: str


@dataclass(frozen=True, slots=True)
class Location:
    code: str  # UN/LOCODE, or a project-assigned code in the same shape (see the README)
    name_en: str
    name_zh: str
    country: str
    kind: str


@dataclass(frozen=True, slots=True)
class ControlPoint:
    code: str  # also a key of CodeLists.locations
    name_en: str
    name_zh: str
    kind: str
    boundary: str  # shenzhen, zhuhai_macao, air or sea


@dataclass(frozen=True, slots=True)
class CodeEntry:
    """A unit of measure (Rec 20, with ``kind``) or a package type (Rec 21, ``kind`` None)."""

    code: str
    name_en: str
    name_zh: str
    kind: str | None = None


@dataclass(frozen=True, slots=True)
class ControlledGoods:
    """Goods whose HS code starts with ``hs_prefix`` need a licence of ``licence_type`` for
    the declaration types in ``applies_to``.

    ``requirement``: ``mandatory`` -- every such goods item must carry an AdditionalDocument
    of ``licence_type`` whose ID matches ``licence_id_pattern``; ``indicative`` -- the HS code
    only suggests that the goods may be controlled (strategic commodities are controlled by
    technical specification, not by HS code), so a document of that type, when present, must
    match the pattern, and its absence is for the trader or an officer to judge.
    """

    hs_prefix: str
    category: str
    licence_type: str
    licence_id_pattern: re.Pattern[str]
    authority_en: str
    authority_zh: str
    applies_to: frozenset[str]
    requirement: str = "mandatory"

    @property
    def mandatory(self) -> bool:
        return self.requirement == "mandatory"

    def accepts(self, licence_id: str) -> bool:
        """True when ``licence_id`` matches the whole ``licence_id_pattern``."""
        return self.licence_id_pattern.fullmatch(licence_id) is not None


@dataclass(frozen=True, slots=True)
class ChargeExemption:
    """A reason goods are exempt from the declaration charge (forms 1B and 2B), for the
    declaration types in ``applies_to``; when ``hs_prefixes`` is not empty, only for goods
    whose HS code starts with one of them (gold bars: 7108 1210 and 7108 2010)."""

    code: str
    name_en: str
    name_zh: str
    applies_to: frozenset[str]
    hs_prefixes: tuple[str, ...] = ()

    def covers(self, hs_code: str, declaration_type: str) -> bool:
        return declaration_type in self.applies_to and (not self.hs_prefixes or hs_code.startswith(self.hs_prefixes))


def _matches_prefix(prefixes: frozenset[str], hs_code: str) -> bool:
    """True when a prefix of 2 to 8 digits of ``hs_code`` is in ``prefixes``."""
    return any(hs_code[:length] in prefixes for length in range(2, min(len(hs_code), 8) + 1))


#: (HS code, declaration type) pairs whose controls a ``CodeLists`` keeps found.
CONTROLS_KEPT = 4096


@dataclass(frozen=True, repr=False)
class CodeLists:
    countries: frozenset[str]  # ISO 3166-1 alpha-2 (pycountry)
    currencies: frozenset[str]  # ISO 4217 alpha-3 (pycountry)
    hs_codes: Mapping[str, HsEntry]
    locations: Mapping[str, Location]
    control_points: Mapping[str, ControlPoint]
    units: Mapping[str, CodeEntry]
    package_types: Mapping[str, CodeEntry]
    controlled_goods: tuple[ControlledGoods, ...]
    food_prefixes: frozenset[str] = frozenset()
    clothing_levy_prefixes: frozenset[str] = frozenset()
    charge_exemptions: Mapping[str, ChargeExemption] = field(default_factory=lambda: MappingProxyType({}))
    hs_subheadings: frozenset[str] = frozenset()  # HS 2022 subheadings (6 digits), from hs2022.csv

    _controls_by_prefix: Mapping[str, tuple[ControlledGoods, ...]] = field(
        init=False, repr=False, compare=False
    )
    #: (HS code, declaration type) -> its controls, as ``controls_for`` found them: a worker
    #: meets the same few hundred codes again and again (bounded: the codes come from documents).
    _controls_found: dict[tuple[str, str], tuple[ControlledGoods, ...]] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        index: dict[str, list[ControlledGoods]] = {}
        for entry in self.controlled_goods:
            index.setdefault(entry.hs_prefix, []).append(entry)
        object.__setattr__(
            self, "_controls_by_prefix", MappingProxyType({k: tuple(v) for k, v in index.items()})
        )
        object.__setattr__(self, "_controls_found", {})

    def __repr__(self) -> str:  # the full lists would flood logs and test reports
        return (
            f"CodeLists(countries={len(self.countries)}, currencies={len(self.currencies)}, "
            f"hs_codes={len(self.hs_codes)}, locations={len(self.locations)}, "
            f"control_points={len(self.control_points)}, units={len(self.units)}, "
            f"package_types={len(self.package_types)}, controlled_goods={len(self.controlled_goods)})"
        )

    def hs_code_known(self, code: str) -> bool:
        """True iff ``code`` is listed as an 8-digit item. A listed heading does not make
        the codes under it known: the list names the valid national codes one by one."""
        entry = self.hs_codes.get(code)
        return entry is not None and entry.level == "item"

    def hs6_known(self, code: str) -> bool:
        """True iff the first six digits of ``code`` are a subheading of the HS 2022
        nomenclature (or of a code listed here): the goods exist in the Harmonized System,
        whether or not Hong Kong lists the national item. A 10-digit code of another
        administration reduced to its HS6 is checked with this."""
        if len(code) < 6 or not code[:6].isascii() or not code[:6].isdigit():
            return False
        return code[:6] in self.hs_subheadings

    def hs_item_unlisted(self, code: str) -> bool:
        """True for an 8-digit code whose HS6 exists but whose national item is not listed:
        accepted with a warning (the tariff list names only some national items)."""
        return len(code) == 8 and code.isdigit() and not self.hs_code_known(code) and self.hs6_known(code)

    def hs_heading_known(self, code: str) -> bool:
        """True iff the heading (first 4 digits) of ``code`` is listed."""
        return self.hs_heading(code) is not None

    def hs_heading(self, code: str) -> HsEntry | None:
        """The listed heading (first 4 digits) of ``code``, if any."""
        if len(code) < 4 or not code[:4].isdigit():
            return None
        entry = self.hs_codes.get(code[:4])
        return entry if entry is not None and entry.level == "heading" else None

    def controls_for(self, hs_code: str, declaration_type: str) -> list[ControlledGoods]:
        """The controls that apply to goods of ``hs_code`` on a declaration of
        ``declaration_type`` (IM, EX or TS). Within one (category, licence type) only the
        entry with the longest matching prefix counts, so a longer prefix refines a shorter
        one (for example a different requirement for one subheading); different categories
        or licence types all apply. Longest prefixes first, then in file order."""
        key = (hs_code, declaration_type)
        found = self._controls_found.get(key)
        if found is None:
            found = self._controls(hs_code, declaration_type)
            if len(self._controls_found) >= CONTROLS_KEPT:
                self._controls_found.clear()
            self._controls_found[key] = found
        return list(found)

    def _controls(self, hs_code: str, declaration_type: str) -> tuple[ControlledGoods, ...]:
        best: dict[tuple[str, str], ControlledGoods] = {}
        for length in range(min(len(hs_code), 8), 1, -1):
            for entry in self._controls_by_prefix.get(hs_code[:length], ()):
                if declaration_type in entry.applies_to:
                    # (prefix, licence_type) is unique, so the first hit per key is the longest
                    best.setdefault((entry.category, entry.licence_type), entry)
        return tuple(best.values())

    def is_food(self, hs_code: str) -> bool:
        """Goods of ``hs_code`` are food items (TDEC form 1A; ``food_headings.csv``)."""
        return _matches_prefix(self.food_prefixes, hs_code)

    def is_clothing_levy_goods(self, hs_code: str) -> bool:
        """Goods of ``hs_code`` are clothing or footwear under the Clothing Industry Training
        Levy (TDEC form 2A when made in Hong Kong; ``clothing_levy_goods.csv``)."""
        return _matches_prefix(self.clothing_levy_prefixes, hs_code)


# ----------------------------------------------------------------------------------------
# reading


@dataclass(frozen=True, slots=True)
class _Row:
    file: Path
    line: int
    values: dict[str, str]

    def fail(self, reason: str) -> CodeListError:
        return CodeListError(self.file, self.line, reason)

    def code(self, column: str, pattern: re.Pattern[str], what: str) -> str:
        value = self.values[column]
        if not pattern.fullmatch(value):
            raise self.fail(f"{column} {value!r} is not {what}")
        return value

    def text(self, column: str) -> str:
        value = self.values[column].strip()
        if not value:
            raise self.fail(f"{column} is empty")
        return value

    def choice(self, column: str, allowed: frozenset[str]) -> str:
        value = self.values[column]
        if value not in allowed:
            raise self.fail(f"{column} {value!r} is not one of {', '.join(sorted(allowed))}")
        return value


def _rows(path: Path, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> Iterator[_Row]:
    """The data rows of ``path`` as dicts, after checking the header."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise CodeListError(path, 0, "file not found") from None
    except OSError as exc:
        raise CodeListError(path, 0, f"cannot read: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise CodeListError(path, line, "not valid UTF-8") from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
        if not header or not any(cell.strip() for cell in header):
            raise CodeListError(path, 1, "no header row")
        header = [cell.strip() for cell in header]
        missing = [c for c in required if c not in header]
        if missing:
            raise CodeListError(path, 1, f"missing column(s): {', '.join(missing)}")
        unknown = [c for c in header if c not in required and c not in optional]
        if unknown:
            raise CodeListError(path, 1, f"unknown column(s): {', '.join(unknown)}")
        repeated = sorted({c for c in header if header.count(c) > 1})
        if repeated:
            raise CodeListError(path, 1, f"repeated column(s): {', '.join(repeated)}")
        end = reader.line_num
        for record in reader:
            line, end = end + 1, reader.line_num
            if not record or all(not cell.strip() for cell in record):
                continue  # blank line
            if len(record) != len(header):
                raise CodeListError(
                    path, line, f"expected {len(header)} fields, found {len(record)}"
                )
            yield _Row(path, line, dict(zip(header, record)))
    except csv.Error as exc:
        raise CodeListError(path, reader.line_num, f"malformed CSV: {exc}") from None


def _unique(path: Path, what: str) -> Callable[[_Row, object], None]:
    seen: dict[object, int] = {}

    def check(row: _Row, key: object) -> None:
        if key in seen:
            raise row.fail(f"duplicate {what} {key!r} (first on line {seen[key]})")
        seen[key] = row.line

    return check


def _load_hs_codes(path: Path) -> dict[str, HsEntry]:
    entries: dict[str, HsEntry] = {}
    lines: dict[str, int] = {}
    for row in _rows(path, ("code", "level", "name_en", "name_zh")):
        code = row.code("code", _HS_CODE, "an HS code of 2, 4, 6 or 8 digits")
        level = row.choice("level", frozenset(HS_LEVELS.values()))
        if HS_LEVELS[len(code)] != level:
            raise row.fail(
                f"level {level!r} does not match the {len(code)}-digit code {code} "
                f"(expected {HS_LEVELS[len(code)]!r})"
            )
        if code[:2] in RESERVED_HS_CHAPTERS:
            raise row.fail(f"chapter {code[:2]} is reserved in the Harmonized System")
        if code in entries:
            raise row.fail(f"duplicate code {code!r} (first on line {lines[code]})")
        entries[code] = HsEntry(code, level, row.text("name_en"), row.text("name_zh"))
        lines[code] = row.line
    # every heading sits in a listed chapter, every subheading and item under a listed heading
    for code, entry in entries.items():
        parent = code[:2] if entry.level == "heading" else code[:4]
        if entry.level != "chapter" and parent not in entries:
            parent_level = "chapter" if len(parent) == 2 else "heading"
            raise CodeListError(
                path, lines[code], f"{entry.level} {code}: its {parent_level} {parent} is not listed"
            )
    return entries


def _load_hs_subheadings(path: Path, listed: Mapping[str, HsEntry]) -> frozenset[str]:
    """The 6-digit subheadings of the HS 2022 nomenclature (``hs2022.csv``). Every 8-digit
    item listed in ``hs_codes.csv`` must sit under one of them. The data package's ``TOTAL``
    rows (``999999``, UN Comtrade's "not specified according to kind") are no HS subheading.
    Without the file (a minimal list for tests) the subheadings are those of the listed codes."""
    if not path.exists():
        return frozenset(code[:6] for code, entry in listed.items() if entry.level in ("subheading", "item"))
    subheadings: set[str] = set()
    for row in _rows(path, ("hscode", "level", "section"), ("description", "parent")):
        if row.values["level"] != "6" or row.values["section"] == "TOTAL":
            continue
        subheadings.add(row.code("hscode", _HS_SUBHEADING, "a 6-digit HS subheading"))
    for code, entry in listed.items():
        if entry.level == "item" and code[:6] not in subheadings:
            raise CodeListError(path, 0, f"item {code} of {HS_CODES_FILE}: subheading {code[:6]} is not in HS 2022")
    return frozenset(subheadings)


def _load_locations(path: Path, countries: frozenset[str]) -> dict[str, Location]:
    entries: dict[str, Location] = {}
    unique = _unique(path, "code")
    for row in _rows(path, ("code", "name_en", "name_zh", "country", "kind")):
        code = row.code("code", _LOCODE, "a UN/LOCODE (2 letters + 3 of A-Z, 2-9)")
        country = row.values["country"]
        if country not in countries:
            raise row.fail(f"country {country!r} is not an ISO 3166-1 alpha-2 code")
        if code[:2] != country:
            raise row.fail(f"code {code} does not start with its country {country}")
        kind = row.choice("kind", LOCATION_KINDS)
        unique(row, code)
        entries[code] = Location(code, row.text("name_en"), row.text("name_zh"), country, kind)
    return entries


def _load_control_points(path: Path, locations: Mapping[str, Location]) -> dict[str, ControlPoint]:
    entries: dict[str, ControlPoint] = {}
    unique = _unique(path, "code")
    for row in _rows(path, ("code", "name_en", "name_zh", "kind", "boundary")):
        code = row.code("code", _LOCODE, "a UN/LOCODE (2 letters + 3 of A-Z, 2-9)")
        if code not in locations:
            raise row.fail(f"control point {code} is not in {LOCATIONS_FILE}")
        kind = row.choice("kind", CONTROL_POINT_KINDS)
        boundary = row.choice("boundary", BOUNDARIES)
        unique(row, code)
        entries[code] = ControlPoint(code, row.text("name_en"), row.text("name_zh"), kind, boundary)
    return entries


def _load_units(path: Path) -> dict[str, CodeEntry]:
    entries: dict[str, CodeEntry] = {}
    unique = _unique(path, "code")
    for row in _rows(path, ("code", "name_en", "name_zh", "kind")):
        code = row.code("code", _UNIT, "a UN/ECE Rec 20 code (2-3 of 0-9, A-Z)")
        kind = row.choice("kind", UNIT_KINDS)
        unique(row, code)
        entries[code] = CodeEntry(code, row.text("name_en"), row.text("name_zh"), kind)
    return entries


def _load_package_types(path: Path) -> dict[str, CodeEntry]:
    entries: dict[str, CodeEntry] = {}
    unique = _unique(path, "code")
    for row in _rows(path, ("code", "name_en", "name_zh")):
        code = row.code("code", _PACKAGE_TYPE, "a UN/ECE Rec 21 code (2 of 0-9, A-Z)")
        unique(row, code)
        entries[code] = CodeEntry(code, row.text("name_en"), row.text("name_zh"))
    return entries


def _load_controlled_goods(path: Path) -> tuple[ControlledGoods, ...]:
    entries: list[ControlledGoods] = []
    unique = _unique(path, "hs_prefix and licence_type")
    required = (
        "hs_prefix", "category", "licence_type", "licence_id_pattern",
        "authority_en", "authority_zh", "applies_to",
    )
    for row in _rows(path, required, optional=("requirement",)):
        prefix = row.code("hs_prefix", _HS_PREFIX, "an HS code prefix of 2 to 8 digits")
        if prefix[:2] in RESERVED_HS_CHAPTERS:
            raise row.fail(f"chapter {prefix[:2]} is reserved in the Harmonized System")
        category = row.code("category", _CATEGORY, "a lower-case identifier (a-z, 0-9, _)")
        licence_type = row.code("licence_type", _LICENCE_TYPE, "a document type code (1-10 of 0-9, A-Z)")
        source = row.values["licence_id_pattern"]
        if not source:
            raise row.fail("licence_id_pattern is empty")
        try:
            pattern = re.compile(source)
        except re.error as exc:
            raise row.fail(f"licence_id_pattern {source!r} does not compile: {exc}") from None
        if pattern.fullmatch(""):
            raise row.fail(f"licence_id_pattern {source!r} accepts an empty licence reference")
        tokens = row.values["applies_to"].split()
        if not tokens:
            raise row.fail("applies_to is empty (expected some of IM EX TS)")
        bad = [t for t in tokens if t not in DECLARATION_TYPES]
        if bad:
            raise row.fail(f"applies_to {' '.join(bad)!r} is not a subset of IM EX TS")
        if len(set(tokens)) != len(tokens):
            raise row.fail("applies_to repeats a declaration type")
        requirement = row.values.get("requirement") or "mandatory"
        if requirement not in REQUIREMENTS:
            raise row.fail(f"requirement {requirement!r} is not one of {', '.join(sorted(REQUIREMENTS))}")
        unique(row, (prefix, licence_type))
        entries.append(
            ControlledGoods(
                hs_prefix=prefix,
                category=category,
                licence_type=licence_type,
                licence_id_pattern=pattern,
                authority_en=row.text("authority_en"),
                authority_zh=row.text("authority_zh"),
                applies_to=frozenset(tokens),
                requirement=requirement,
            )
        )
    return tuple(entries)


def _load_goods_prefixes(path: Path) -> frozenset[str]:
    """An HS prefix list (``hs_prefix,name_en,name_zh``): chapters, headings or longer."""
    prefixes: set[str] = set()
    unique = _unique(path, "hs_prefix")
    for row in _rows(path, ("hs_prefix", "name_en", "name_zh")):
        prefix = row.code("hs_prefix", _HS_PREFIX, "an HS code prefix of 2 to 8 digits")
        if prefix[:2] in RESERVED_HS_CHAPTERS:
            raise row.fail(f"chapter {prefix[:2]} is reserved in the Harmonized System")
        unique(row, prefix)
        row.text("name_en")  # names are not blank
        row.text("name_zh")
        prefixes.add(prefix)
    return frozenset(prefixes)


def _load_charge_exemptions(path: Path) -> dict[str, ChargeExemption]:
    entries: dict[str, ChargeExemption] = {}
    unique = _unique(path, "code")
    for row in _rows(path, ("code", "name_en", "name_zh", "applies_to", "hs_prefixes")):
        code = row.code("code", _EXEMPTION_CODE, "a reason code (a capital letter + 1-9 of A-Z, 0-9)")
        tokens = row.values["applies_to"].split()
        bad = [t for t in tokens if t not in DECLARATION_TYPES - {"TS"}]
        if not tokens or bad:
            raise row.fail("applies_to must be IM, EX or both (a transhipment is not a trade declaration)")
        prefixes = row.values["hs_prefixes"].split()
        for prefix in prefixes:
            if not _HS_PREFIX.fullmatch(prefix):
                raise row.fail(f"hs_prefixes {prefix!r} is not an HS code prefix of 2 to 8 digits")
        unique(row, code)
        entries[code] = ChargeExemption(code, row.text("name_en"), row.text("name_zh"), frozenset(tokens),
                                        tuple(prefixes))
    return entries


def load_code_lists(directory: Path = DEFAULT_DIRECTORY) -> CodeLists:
    """Read and check every code list in ``directory``; raise CodeListError on the first problem."""
    directory = Path(directory)
    countries = frozenset(c.alpha_2 for c in pycountry.countries)
    currencies = frozenset(c.alpha_3 for c in pycountry.currencies)
    hs_codes = _load_hs_codes(directory / HS_CODES_FILE)
    locations = _load_locations(directory / LOCATIONS_FILE, countries)
    control_points = _load_control_points(directory / CONTROL_POINTS_FILE, locations)
    units = _load_units(directory / UNITS_FILE)
    package_types = _load_package_types(directory / PACKAGE_TYPES_FILE)
    controlled_goods = _load_controlled_goods(directory / CONTROLLED_GOODS_FILE)
    food = _load_goods_prefixes(directory / FOOD_HEADINGS_FILE)
    clothing = _load_goods_prefixes(directory / CLOTHING_LEVY_GOODS_FILE)
    exemptions = _load_charge_exemptions(directory / CHARGE_EXEMPTIONS_FILE)
    subheadings = _load_hs_subheadings(directory / HS_NOMENCLATURE_FILE, hs_codes)
    return CodeLists(
        countries=countries,
        currencies=currencies,
        hs_codes=MappingProxyType(hs_codes),
        locations=MappingProxyType(locations),
        control_points=MappingProxyType(control_points),
        units=MappingProxyType(units),
        package_types=MappingProxyType(package_types),
        controlled_goods=controlled_goods,
        food_prefixes=food,
        clothing_levy_prefixes=clothing,
        charge_exemptions=MappingProxyType(exemptions),
        hs_subheadings=subheadings,
    )
