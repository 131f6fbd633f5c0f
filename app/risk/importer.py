"""Historical declarations from CSV, through a column mapping in ``rules/risk/mappings/``.

A mapping names, for each risk-record field, the CSV column that holds it, so any customs
administration's export (or the public data set) becomes the same canonical records."""
from __future__ import annotations

import csv
import hashlib
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from app.domain.risk import RiskRecord

REQUIRED = ("declaration_id", "hs_code", "value", "net_mass")
TEXT_FIELDS = ("office", "transport_mode", "declarant", "importer", "seller", "carrier", "origin_country",
               "departure_country", "declaration_type")
NUMBER_FIELDS = ("value", "net_mass", "tax_rate")


class MappingError(ValueError):
    """A mapping or CSV that cannot be read; the message names the file, line and column."""


@dataclass(frozen=True)
class ColumnMapping:
    name: str
    columns: dict[str, str]
    constants: dict[str, str]
    extras: dict[str, str]
    date_format: str
    fraud: str | None
    revenue: str | None
    currency: str
    new_profile_keys: tuple[str, ...] = ()

    @classmethod
    def load(cls, path: Path) -> ColumnMapping:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise MappingError(f"{path}: mapping not found") from None
        except tomllib.TOMLDecodeError as exc:
            raise MappingError(f"{path}: not valid TOML: {exc}") from None
        columns = dict(data.get("columns", {}))
        missing = [name for name in REQUIRED if name not in columns]
        if missing:
            raise MappingError(f"{path}: [columns] must name {', '.join(missing)}")
        return cls(name=str(data.get("name", path.stem)), columns=columns,
                   constants={k: str(v) for k, v in data.get("constants", {}).items()},
                   extras=dict(data.get("extras", {})), date_format=str(data.get("date_format", "%Y-%m-%d")),
                   fraud=data.get("fraud"), revenue=data.get("revenue"), currency=str(data.get("currency", "HKD")),
                   new_profile_keys=tuple(str(k) for k in data.get("model", {}).get("new_profile_keys", ())))


def mapping_path(rules_dir: Path, name_or_path: str) -> Path:
    """A mapping by name (``rules/risk/mappings/<name>.toml``) or by file path."""
    candidate = Path(name_or_path)
    if candidate.suffix == ".toml" and candidate.exists():
        return candidate
    return rules_dir / "risk" / "mappings" / f"{name_or_path}.toml"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _number(text: str, path: Path, line: int, column: str) -> float:
    try:
        return float(text) if text.strip() else 0.0
    except ValueError:
        raise MappingError(f"{path}:{line}: column {column!r} is not a number: {text[:30]!r}") from None


def read_records(path: Path, mapping: ColumnMapping, limit: int | None = None,
                 labelled: bool = True) -> Iterator[RiskRecord]:
    """One record per CSV row; a missing column or a malformed number stops with its line.
    ``labelled=False`` (scoring a file) reads no fraud or revenue column, present or not."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        header = set(reader.fieldnames or ())
        wanted = list(mapping.columns.values()) + list(mapping.extras.values())
        fraud_column, revenue_column = (mapping.fraud, mapping.revenue) if labelled else (None, None)
        wanted += [c for c in (fraud_column, revenue_column) if c]
        absent = sorted({c for c in wanted if c not in header})
        if absent:
            raise MappingError(f"{path}: columns missing for mapping {mapping.name!r}: {', '.join(absent)}")
        cols = mapping.columns
        for line, row in enumerate(reader, start=2):
            if limit is not None and line - 2 >= limit:
                return
            text = {f: row[cols[f]].strip() if f in cols else mapping.constants.get(f, "") for f in TEXT_FIELDS}
            numbers = {f: _number(row[cols[f]], path, line, cols[f]) if f in cols else
                       float(mapping.constants.get(f, 0)) for f in NUMBER_FIELDS}
            declared_on: date | None = None
            if "declared_on" in cols:
                try:
                    declared_on = datetime.strptime(row[cols["declared_on"]].strip(), mapping.date_format).date()
                except ValueError:
                    raise MappingError(f"{path}:{line}: column {cols['declared_on']!r} is not a date in "
                                       f"{mapping.date_format}") from None
            fraud = None
            if fraud_column:
                fraud = row[fraud_column].strip() not in ("", "0", "0.0", "false", "no")
            revenue = _number(row[revenue_column], path, line, revenue_column) if revenue_column else None
            yield RiskRecord(
                declaration_id=row[cols["declaration_id"]].strip(), item_sequence=1, declared_on=declared_on,
                hs_code=row[cols["hs_code"]].strip(), origin_country=text["origin_country"],
                departure_country=text["departure_country"], declaration_type=text["declaration_type"],
                transport_mode=text["transport_mode"], office=text["office"], importer=text["importer"],
                declarant=text["declarant"], seller=text["seller"], carrier=text["carrier"],
                value=numbers["value"], net_mass=numbers["net_mass"], tax_rate=numbers["tax_rate"],
                extras=tuple((name, row[column].strip()) for name, column in mapping.extras.items()),
                fraud=fraud, revenue=revenue,
            )
