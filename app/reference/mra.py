"""Mutual Recognition Arrangements (MRAs) as data: ``rules/aeo/mra_partners.toml``.

Under an MRA a partner economy's AEOs get the same reduced examination and priority here
as HK AEOs. A foreign operator is recognised on a date only if

- its economy has an MRA in force on that date (``in_force_from`` .. ``in_force_until``),
- its id (country prefix included) matches the partner programme's id format, and
- it is in the AEO registry, active and within its validity (``app.aeo.service``).

The file is validated when loaded; a bad file raises ``MraDataError`` whose text is
``file:line: reason`` (like every other file under ``rules/``).
"""
from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pycountry

from app.domain.aeo import FOREIGN_OPERATOR_ID, HK_COUNTRY
from app.domain.problems import RulesDataError

DEFAULT_MRA_PATH = Path(__file__).resolve().parents[2] / "rules" / "aeo" / "mra_partners.toml"

_REQUIRED = ("economy", "name_en", "name_zh", "programme", "id_format", "example", "in_force_from")
_OPTIONAL = ("signed", "in_force_until", "confirmed", "source", "note")
_TEXT = ("name_en", "name_zh", "programme", "source", "note")


class MraDataError(RulesDataError):
    """An MRA partner file that cannot be used."""


@dataclass(frozen=True, slots=True)
class MraPartner:
    economy: str
    name_en: str
    name_zh: str
    programme: str
    id_format: re.Pattern[str]
    in_force_from: date
    in_force_until: date | None = None
    signed: date | None = None
    confirmed: bool = True
    source: str | None = None
    example: str = ""

    def in_force(self, on: date) -> bool:
        return self.in_force_from <= on and (self.in_force_until is None or on <= self.in_force_until)

    def id_matches(self, operator_id: str) -> bool:
        return self.id_format.fullmatch(operator_id) is not None


@dataclass(frozen=True)
class MraPartners:
    """The MRA partners by economy (ISO 3166 alpha-2)."""

    partners: Mapping[str, MraPartner]
    path: Path | None = None

    def __iter__(self) -> Iterator[MraPartner]:
        return iter(self.partners.values())

    def __len__(self) -> int:
        return len(self.partners)

    def get(self, economy: str) -> MraPartner | None:
        return self.partners.get(economy.upper())

    def refusal(self, country: str, operator_id: str, on: date) -> str | None:
        """Why a partner's AEO is not recognised under an MRA on ``on`` (English), or None."""
        partner = self.get(country)
        if partner is None:
            return f"Hong Kong has no AEO Mutual Recognition Arrangement with {country}"
        if on < partner.in_force_from:
            return (f"the AEO Mutual Recognition Arrangement with {partner.name_en} is in force only from "
                    f"{partner.in_force_from.isoformat()}")
        if partner.in_force_until is not None and on > partner.in_force_until:
            return (f"the AEO Mutual Recognition Arrangement with {partner.name_en} ended on "
                    f"{partner.in_force_until.isoformat()}")
        if not operator_id.startswith(partner.economy) or not partner.id_matches(operator_id):
            return f"{operator_id} is not an id of {partner.programme} ({partner.name_en})"
        return None

    def recognises(self, country: str, operator_id: str, on: date) -> bool:
        """The MRA with ``country`` is in force on ``on`` and ``operator_id`` has its format.

        (The registry check — listed, active, valid — is ``app.aeo.service``'s.)"""
        return self.refusal(country, operator_id, on) is None


# ------------------------------------------------------------------------------ loader


def _line_of(text: str, index: int, key: str | None) -> int:
    """Line of ``key`` in the ``index``-th ``[[partner]]`` table (its header when absent)."""
    headers = [number for number, line in enumerate(text.splitlines(), start=1)
               if re.match(r"\s*\[\[\s*partner\s*\]\]", line)]
    if index >= len(headers):
        return 1
    start = headers[index]
    end = headers[index + 1] if index + 1 < len(headers) else len(text.splitlines()) + 1
    if key is not None:
        pattern = re.compile(rf"\s*{re.escape(key)}\s*=")
        for number, line in enumerate(text.splitlines()[start:end - 1], start=start + 1):
            if pattern.match(line):
                return number
    return start


def load_mra_partners(path: Path = DEFAULT_MRA_PATH) -> MraPartners:
    """Load and validate the MRA partner file; any problem raises ``MraDataError``."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise MraDataError(path, 0, f"cannot read the MRA partner file: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise MraDataError(path, 0, "the file is not UTF-8") from None
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"line (\d+)", str(exc))
        raise MraDataError(path, int(found.group(1)) if found else 0, f"not valid TOML: {exc}") from None
    unknown = sorted(set(document) - {"partner"})
    if unknown:
        raise MraDataError(path, 1, f"unknown section {unknown[0]!r}: the file holds [[partner]] tables only")
    tables = document.get("partner", [])
    if not isinstance(tables, list) or not tables:
        raise MraDataError(path, 1, "no [[partner]] tables")
    partners: dict[str, MraPartner] = {}
    for index, table in enumerate(tables):
        partner = _partner(path, text, index, table)
        if partner.economy in partners:
            raise MraDataError(path, _line_of(text, index, "economy"),
                               f"economy {partner.economy} is listed twice")
        partners[partner.economy] = partner
    return MraPartners(MappingProxyType(partners), path)


def _partner(path: Path, text: str, index: int, table: dict[str, Any]) -> MraPartner:
    def fail(key: str | None, reason: str) -> MraDataError:
        return MraDataError(path, _line_of(text, index, key), reason)

    for key in table:
        if key not in _REQUIRED and key not in _OPTIONAL:
            raise fail(key, f"unknown key {key!r} (allowed: {', '.join(_REQUIRED + _OPTIONAL)})")
    for key in _REQUIRED:
        if key not in table:
            raise fail(None, f"partner #{index + 1} has no {key!r}")

    economy = table["economy"]
    if not isinstance(economy, str) or not re.fullmatch(r"[A-Z]{2}", economy):
        raise fail("economy", f"economy must be an ISO 3166 alpha-2 code in capitals, got {economy!r}")
    if economy == HK_COUNTRY:
        raise fail("economy", "Hong Kong is not its own MRA partner")
    if pycountry.countries.get(alpha_2=economy) is None:
        raise fail("economy", f"{economy} is not an ISO 3166 alpha-2 code")
    for key in _TEXT:
        if key in table and (not isinstance(table[key], str) or not table[key].strip()):
            raise fail(key, f"{key} must be non-empty text")

    raw_format = table["id_format"]
    if not isinstance(raw_format, str) or not raw_format:
        raise fail("id_format", "id_format must be a regular expression (text)")
    try:
        id_format = re.compile(raw_format)
    except re.error as exc:
        raise fail("id_format", f"id_format is not a valid regular expression: {exc}") from None
    example = table["example"]
    if not isinstance(example, str):
        raise fail("example", "example must be text: an operator id in the partner's format")
    if not example.startswith(economy):
        raise fail("example", f"example {example!r} must start with the economy code {economy}")
    if not id_format.fullmatch(example):
        raise fail("id_format", f"id_format does not match its own example {example!r}")
    if not FOREIGN_OPERATOR_ID.fullmatch(example):
        raise fail("example", f"example {example!r} is not a valid party id ([A-Z]{{2}}[A-Z0-9]{{4,33}})")

    dates: dict[str, date | None] = {}
    for key in ("in_force_from", "in_force_until", "signed"):
        value = table.get(key)
        if value is not None and (not isinstance(value, date) or hasattr(value, "hour")):
            raise fail(key, f"{key} must be a date written as YYYY-MM-DD (no quotes)")
        dates[key] = value
    in_force_from = dates["in_force_from"]
    assert in_force_from is not None
    if dates["in_force_until"] is not None and dates["in_force_until"] < in_force_from:
        raise fail("in_force_until", "in_force_until is before in_force_from")
    if dates["signed"] is not None and dates["signed"] > in_force_from:
        raise fail("signed", "an MRA cannot be in force before it is signed")
    confirmed = table.get("confirmed", True)
    if not isinstance(confirmed, bool):
        raise fail("confirmed", "confirmed must be true or false")

    return MraPartner(
        economy=economy, name_en=table["name_en"].strip(), name_zh=table["name_zh"].strip(),
        programme=table["programme"].strip(), id_format=id_format, in_force_from=in_force_from,
        in_force_until=dates["in_force_until"], signed=dates["signed"], confirmed=confirmed,
        source=table.get("source"), example=example,
    )
