"""Explainable indicators: each configured in ``rules/risk/`` and each adding points with a
reason an officer can read. Pure functions over a risk record and a few looked-up facts."""
from __future__ import annotations

import csv
import hashlib
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.domain.risk import Reason, RiskRecord
from app.domain.problems import RulesDataError


@dataclass(frozen=True)
class FactorConfig:
    """Everything in ``rules/risk/`` that the indicators read, loaded once per process."""

    model_weight: float
    value_per_hkd: float
    low_value_ratio: float
    low_value_points: float
    first_time_below: int
    first_time_points: float
    rarely_seen_below: int
    rarely_seen_points: float
    finding_points: dict[str, float]
    finding_code_points: dict[str, float]
    transit_points: float
    aeo_reduction: bool
    origins: dict[str, tuple[float, str]] = field(default_factory=dict)
    routes: dict[tuple[str, str], tuple[float, str]] = field(default_factory=dict)
    hs_sensitivity: dict[str, tuple[float, str]] = field(default_factory=dict)
    reference_prices: dict[str, tuple[float, str]] = field(default_factory=dict)
    watchlist: dict[str, tuple[float, str]] = field(default_factory=dict)
    #: The analysts' reasons (English, as stored with each assessment) in Traditional Chinese,
    #: from each table's ``reason_zh``/``source_zh`` column: pages in Chinese show these.
    phrases_zh: dict[str, str] = field(default_factory=dict)
    version: str = ""

    @classmethod
    def load(cls, directory: Path) -> FactorConfig:
        """``rules/risk/factors.toml`` and its tables; a wrong file stops start-up with its name."""
        path = directory / "factors.toml"
        try:
            data: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise RulesDataError(path, 0, "file not found") from None
        except tomllib.TOMLDecodeError as exc:
            raise RulesDataError(path, None, f"not valid TOML: {exc}") from None
        try:
            findings = data["findings"]
            config = cls(
                model_weight=float(data["model"]["weight"]),
                value_per_hkd=float(data["model"]["value_per_hkd"]),
                low_value_ratio=float(data["low_value"]["ratio"]),
                low_value_points=float(data["low_value"]["points"]),
                first_time_below=int(data["first_time_trader"]["below"]),
                first_time_points=float(data["first_time_trader"]["points"]),
                rarely_seen_below=int(data["rarely_seen_trader"]["below"]),
                rarely_seen_points=float(data["rarely_seen_trader"]["points"]),
                finding_points={k: float(findings[k]) for k in ("hold", "warn", "info")},
                finding_code_points={str(k): float(v) for k, v in findings.get("codes", {}).items()},
                transit_points=float(data["transit"]["points"]),
                aeo_reduction=bool(data["aeo"]["apply_reduction"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise RulesDataError(path, None, f"missing or malformed setting: {exc}") from None
        origins: dict[str, tuple[float, str]] = {}
        routes: dict[tuple[str, str], tuple[float, str]] = {}
        phrases_zh: dict[str, str] = {}
        for row in _table(directory / "origins.csv", ("origin", "departure", "points", "reason", "reason_zh")):
            phrases_zh[row["reason"]] = row["reason_zh"]
            target = (float(row["points"]), row["reason"])
            if row["departure"]:
                routes[(row["origin"], row["departure"])] = target
            else:
                origins[row["origin"]] = target
        digest = hashlib.sha256()
        for name in ("factors.toml", "origins.csv", "hs_sensitivity.csv", "reference_prices.csv", "watchlist.csv"):
            digest.update((directory / name).read_bytes())
        watchlist: dict[str, tuple[float, str]] = {}
        for row in _table(directory / "watchlist.csv", ("identifier", "points", "reason", "reason_zh")):
            watchlist[row["identifier"]] = (float(row["points"]), row["reason"])
            phrases_zh[row["reason"]] = row["reason_zh"]
        return cls(**{**config.__dict__, "origins": origins, "routes": routes,
                      "hs_sensitivity": _prefix_table(directory / "hs_sensitivity.csv", "points", "reason", phrases_zh),
                      "reference_prices": _prefix_table(directory / "reference_prices.csv", "hkd_per_kg", "source",
                                                        phrases_zh),
                      "watchlist": watchlist, "phrases_zh": phrases_zh, "version": digest.hexdigest()[:16]})


def _table(path: Path, columns: tuple[str, ...]) -> list[dict[str, str]]:
    """Rows of a CSV table in ``rules/risk/`` (lines starting with # are comments)."""
    try:
        lines = [line for line in path.read_text(encoding="utf-8").splitlines()
                 if line.strip() and not line.startswith("#")]
    except FileNotFoundError:
        raise RulesDataError(path, 0, "file not found") from None
    rows = list(csv.DictReader(lines))
    if rows and not set(columns) <= set(rows[0]):
        raise RulesDataError(path, 1, f"columns must be {', '.join(columns)}")
    for number, row in enumerate(rows, start=2):
        if any(row.get(c) is None for c in columns):
            raise RulesDataError(path, number, "row has too few fields")
        empty = [c for c in columns if c.endswith("_zh") and not (row.get(c) or "").strip()]
        if empty:
            raise RulesDataError(path, number, f"{empty[0]} is empty: every reason needs its Chinese")
        if "points" in row:
            try:
                float(row["points"])
            except ValueError:
                raise RulesDataError(path, number, f"points is not a number: {row['points']!r}") from None
    return [{k: (v or "").strip() for k, v in row.items()} for row in rows]


def _prefix_table(path: Path, number: str, text: str, phrases_zh: dict[str, str]) -> dict[str, tuple[float, str]]:
    """``hs_prefix -> (number, text)``; each text's Chinese (``<text>_zh``) goes to ``phrases_zh``."""
    rows = _table(path, ("hs_prefix", number, text, f"{text}_zh"))
    for row in rows:
        phrases_zh[row[text]] = row[f"{text}_zh"]
    return {row["hs_prefix"]: (float(row[number]), row[text]) for row in rows}


def _longest_prefix(table: dict[str, tuple[float, str]], hs_code: str) -> tuple[str, float, str] | None:
    for length in range(len(hs_code), 1, -1):
        hit = table.get(hs_code[:length])
        if hit is not None:
            return hs_code[:length], hit[0], hit[1]
    return None


@dataclass(frozen=True, slots=True)
class TraderHistory:
    """How many earlier declarations name the importer (from a per-worker cache)."""

    importer_declarations: int | None


def item_factors(config: FactorConfig, record: RiskRecord, value_hkd: float) -> list[Reason]:
    """Indicators that belong to one goods item: value per kg, HS sensitivity, origin and route."""
    reasons: list[Reason] = []
    reference = _longest_prefix(config.reference_prices, record.hs_code)
    if reference is not None and record.net_mass > 0:
        prefix, per_kg, source = reference
        declared = value_hkd / record.net_mass
        if declared < config.low_value_ratio * per_kg:
            reasons.append(Reason("LOW_VALUE", config.low_value_points,
                                  f"item {record.item_sequence}: value HK${declared:,.2f}/kg is far below the "
                                  f"reference HK${per_kg:,.2f}/kg for HS {prefix} ({source})"))
    sensitive = _longest_prefix(config.hs_sensitivity, record.hs_code)
    if sensitive is not None:
        prefix, points, reason = sensitive
        reasons.append(Reason("HS_SENSITIVE", points, f"item {record.item_sequence}: HS {prefix}: {reason}"))
    origin = config.origins.get(record.origin_country)
    if origin is not None:
        reasons.append(Reason("HIGH_RISK_ORIGIN", origin[0],
                              f"item {record.item_sequence}: origin {record.origin_country}: {origin[1]}"))
    route = config.routes.get((record.origin_country, record.departure_country))
    if route is not None:
        reasons.append(Reason("RISKY_ROUTE", route[0], f"item {record.item_sequence}: {route[1]}"))
    return reasons


def declaration_factors(config: FactorConfig, parties: list[tuple[str, str]], findings: list[tuple[str, str]],
                        transit_alerts: tuple[str, ...], history: TraderHistory) -> list[Reason]:
    """Indicators of the declaration as a whole: parties, rule findings, transit alerts, history.

    ``parties``: (role, identifier); ``findings``: (code, severity)."""
    reasons: list[Reason] = []
    for role, identifier in parties:
        hit = config.watchlist.get(identifier)
        if hit is not None:
            reasons.append(Reason("WATCHLIST", hit[0], f"{role} {identifier} is on the watchlist: {hit[1]}"))
    for code, severity in findings:
        points = config.finding_code_points.get(code, config.finding_points.get(severity, 0.0))
        if points:
            reasons.append(Reason("RULE_FINDING", points, f"rule {code} ({severity}) applies"))
    for alert in sorted(set(transit_alerts)):
        reasons.append(Reason("TRANSIT_ALERT", config.transit_points, f"transit alert on the journey: {alert}"))
    seen = history.importer_declarations
    if seen is not None:
        if seen < config.first_time_below:
            reasons.append(Reason("FIRST_TIME_TRADER", config.first_time_points,
                                  "first declaration naming this importer"))
        elif seen < config.rarely_seen_below:
            reasons.append(Reason("RARE_TRADER", config.rarely_seen_points,
                                  f"importer named in only {seen} earlier declaration{'s' if seen != 1 else ''}"))
    return reasons
