"""What the learned model knows about a goods item: inspection history, learnt from the
training period only, looked up from precomputed tables.

Three kinds of history, as customs keep them:

- **seizure profiles**: the outcomes of earlier inspections of the *same goods*: HS6 code, net
  mass and declared value (to 1 %). Identical goods recur in the data with the same outcome, and
  customs keep profiles of past seizures, so this is remembered outright;
- **smoothed fraud rates** of the item's HS codes, countries, route, parties, office, tariff
  treatment and a few pairs of them (prior-weighted, so a key seen twice says little);
- **new-profile rates**: the same rates counted over *first inspections* of a profile only,
  which is what a never-seen profile resembles. A separate, small model ranks such items.

For training rows every history feature is computed from the declarations dated *before* the
row (never from its own day or later), so the model learns from what an officer would have
known; for scoring, the tables hold the whole training period."""
from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from app.domain.risk import RiskRecord

KeyFn = Callable[[RiskRecord], str]
Pair = tuple[str, float]
Profile = tuple[str, float, int]
SMOOTHING = 20.0
NAN = float("nan")


def tariff(r: RiskRecord) -> str:
    """The tariff treatment: tax rate and, where the source has one, its tax type code."""
    return f"{r.tax_rate:g}/{r.extra('tax_type')}"


RATE_KEYS: dict[str, KeyFn] = {
    "hs6": lambda r: r.hs6,
    "hs4": lambda r: r.hs_code[:4],
    "hs2": lambda r: r.hs_code[:2],
    "origin_country": lambda r: r.origin_country,
    "departure_country": lambda r: r.departure_country,
    "route": lambda r: f"{r.origin_country}>{r.departure_country}",
    "office": lambda r: r.office,
    "transport_mode": lambda r: r.transport_mode,
    "importer": lambda r: r.importer,
    "declarant": lambda r: r.declarant,
    "seller": lambda r: r.seller,
    "carrier": lambda r: r.carrier,
    "tax_rate": lambda r: f"{r.tax_rate:g}",
    "hs6_origin": lambda r: f"{r.hs6}|{r.origin_country}",
    "hs6_departure": lambda r: f"{r.hs6}|{r.departure_country}",
    "hs6_office": lambda r: f"{r.hs6}|{r.office}",
    "hs6_tariff": lambda r: f"{r.hs6}|{tariff(r)}",
}
NUMERIC = ("log_net_mass", "log_value", "tax_rate", "log_duty", "net_mass_vs_hs6", "unit_value_vs_hs6")
NOVELTY_NUMERIC = ("log_net_mass", "log_value")
# What an officer is told about, in this order of preference, when the key has enough history.
EXPLAINED: dict[str, str] = {"hs6": "HS {}", "route": "route {}", "origin_country": "origin {}",
                             "importer": "importer {}", "seller": "seller {}", "declarant": "declarant {}",
                             "office": "office {}"}


PROFILE = "HS6 | net mass to 0.001 kg | declared value to 1 %"


def goods_pair(r: RiskRecord) -> Pair:
    """HS6 code and net mass (to the gram): the data set's README judges models separately on
    rows whose pair never occurs in training."""
    return r.hs6, round(r.net_mass, 3)


def profile_of(r: RiskRecord, value_factor: float = 1.0) -> Profile:
    """The goods profile a seizure is remembered by: HS6 code, net mass (to the gram) and
    declared value (to 1 %, in the model's currency). The value keeps a round net mass of
    unrelated goods (300 kg of laptops) from matching someone else's seizure."""
    value = r.value * value_factor
    return r.hs6, round(r.net_mass, 3), round(100 * math.log(value)) if value > 0 else 0


def _log(value: float) -> float:
    return math.log1p(max(value, 0.0))


def _median(values: list[float]) -> float:
    return float(np.median(values))


@dataclass
class FeatureEncoder:
    """Lookup tables learnt from the training period (labels) and the goods' usual amounts
    (no labels). ``tables[key][value] = (smoothed fraud rate, log(1 + declarations seen))``."""

    extras: tuple[str, ...] = ()
    novelty_keys: tuple[str, ...] = ()
    prior: float = 0.0
    tables: dict[str, dict[str, tuple[float, float]]] = field(default_factory=dict)
    counts: dict[str, dict[str, tuple[int, int]]] = field(default_factory=dict)
    novelty_tables: dict[str, dict[str, float]] = field(default_factory=dict)
    profiles: dict[Profile, tuple[int, int]] = field(default_factory=dict)
    hs6_log_mass: dict[str, float] = field(default_factory=dict)
    hs6_log_unit_value: dict[str, float] = field(default_factory=dict)
    _keys: dict[str, KeyFn] = field(default_factory=dict, repr=False, compare=False)

    def __getstate__(self) -> dict[str, object]:
        """The rate tables are derived from the counts: saved once, rebuilt on loading (and the
        key functions are code, not data)."""
        return {k: v for k, v in self.__dict__.items() if k not in ("tables", "_keys")}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._keys = {}
        self.tables = self._rate_tables()

    def _rate_tables(self) -> dict[str, dict[str, tuple[float, float]]]:
        m, prior = SMOOTHING, self.prior
        return {name: {value: ((frauds + m * prior) / (n + m), math.log1p(n)) for value, (n, frauds) in stats.items()}
                for name, stats in self.counts.items()}

    def keys(self) -> dict[str, KeyFn]:
        """The rate keys: the fixed ones and each source-specific code (``extras``)."""
        if not self._keys:
            self._keys = {**RATE_KEYS, **{f"extra:{name}": _extra(name) for name in self.extras}}
        return self._keys

    def _novelty_keys(self) -> tuple[str, ...]:
        """The new-profile model's keys: as set (the mapping's ``[model] new_profile_keys``,
        validated per data source), else every key."""
        keys = self.keys()
        unknown = [name for name in self.novelty_keys if name not in keys]
        if unknown:
            raise ValueError(f"unknown new-profile key(s): {', '.join(unknown)} (known: {', '.join(keys)})")
        return self.novelty_keys or tuple(keys)

    @property
    def feature_names(self) -> list[str]:
        names = [f"{kind}:{key}" for key in self.keys() for kind in ("fraud_rate", "log_seen")]
        return names + ["profile_inspections", "profile_fraud_share"] + list(NUMERIC)

    @property
    def novelty_feature_names(self) -> list[str]:
        return [f"first_profile_fraud_rate:{key}" for key in self.novelty_keys] + list(NOVELTY_NUMERIC)

    # -- training ---------------------------------------------------------------------------

    def fit(self, records: Sequence[RiskRecord], labels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Learn the tables; return the training matrices built from each row's past only:
        (main matrix for every row, new-profile matrix, mask of rows whose profile was new)."""
        self.prior = float(labels.mean()) if len(labels) else 0.0
        self.novelty_keys = self._novelty_keys()
        self._fit_amounts(records)
        keys = self.keys()
        getters = list(keys.values())
        novelty_getters = [keys[name] for name in self.novelty_keys]
        seen: list[dict[str, list[int]]] = [defaultdict(lambda: [0, 0]) for _ in getters]
        first_seen: list[dict[str, list[int]]] = [defaultdict(lambda: [0, 0]) for _ in novelty_getters]
        profiles: dict[Profile, list[int]] = defaultdict(lambda: [0, 0])
        width = len(self.feature_names)
        matrix = np.empty((len(records), width))
        novelty = np.empty((len(records), len(self.novelty_feature_names)))
        new_profile = np.zeros(len(records), dtype=bool)
        prior, m = self.prior, SMOOTHING
        for day in _by_day(records):
            for i in day:
                r = records[i]
                row: list[float] = []
                for getter, stats in zip(getters, seen):
                    n, frauds = stats.get(getter(r), (0, 0))
                    row += [(frauds + m * prior) / (n + m), math.log1p(n)]
                n, frauds = profiles.get(profile_of(r), (0, 0))
                row += _profile_features(n, frauds)
                row += self._numeric(r)
                matrix[i] = row
                new_profile[i] = n == 0
                nov = [(s[1] + m * prior) / (s[0] + m) for s in
                       (stats.get(getter(r), (0, 0)) for getter, stats in zip(novelty_getters, first_seen))]
                novelty[i] = nov + list(self._novelty_numeric(r))
            for i in day:
                r, label = records[i], int(labels[i])
                for getter, stats in zip(getters, seen):
                    entry = stats[getter(r)]
                    entry[0] += 1
                    entry[1] += label
                if new_profile[i]:
                    for getter, stats in zip(novelty_getters, first_seen):
                        entry = stats[getter(r)]
                        entry[0] += 1
                        entry[1] += label
            for i in day:
                entry = profiles[profile_of(records[i])]
                entry[0] += 1
                entry[1] += int(labels[i])
        self.counts = {name: {value: (n, frauds) for value, (n, frauds) in stats.items()}
                       for name, stats in zip(keys, seen)}
        self.tables = self._rate_tables()
        for name, stats in zip(self.novelty_keys, first_seen):
            self.novelty_tables[name] = {value: (frauds + m * prior) / (n + m) for value, (n, frauds) in stats.items()}
        self.profiles = {profile: (n, frauds) for profile, (n, frauds) in profiles.items()}
        return matrix, novelty[new_profile], new_profile

    def _fit_amounts(self, records: Sequence[RiskRecord]) -> None:
        """Each HS6 code's usual net mass and unit value (medians; no labels involved)."""
        masses: dict[str, list[float]] = defaultdict(list)
        unit_values: dict[str, list[float]] = defaultdict(list)
        for r in records:
            if r.net_mass > 0:
                masses[r.hs6].append(math.log(r.net_mass))
                if r.value > 0:
                    unit_values[r.hs6].append(math.log(r.value / r.net_mass))
        self.hs6_log_mass = {hs6: _median(v) for hs6, v in masses.items()}
        self.hs6_log_unit_value = {hs6: _median(v) for hs6, v in unit_values.items()}

    # -- scoring ----------------------------------------------------------------------------

    def _numeric(self, r: RiskRecord, value_factor: float = 1.0) -> list[float]:
        """The amounts, with ``math`` (not numpy) so that a value sitting on a tree threshold
        falls on the same side in training and scoring. ``value_factor`` puts the value in the
        model's currency."""
        value = r.value * value_factor
        usual_mass = self.hs6_log_mass.get(r.hs6)
        usual_unit_value = self.hs6_log_unit_value.get(r.hs6)
        mass_ratio = math.log(r.net_mass) - usual_mass if usual_mass is not None and r.net_mass > 0 else NAN
        unit_ratio = (math.log(value / r.net_mass) - usual_unit_value
                      if usual_unit_value is not None and r.net_mass > 0 and value > 0 else NAN)
        return [_log(r.net_mass), _log(value), r.tax_rate, _log(value * r.tax_rate / 100.0), mass_ratio, unit_ratio]

    def _novelty_numeric(self, r: RiskRecord, value_factor: float = 1.0) -> tuple[float, float]:
        return _log(r.net_mass), _log(r.value * value_factor)

    def profile_history(self, records: Sequence[RiskRecord], value_factor: float = 1.0) -> list[tuple[int, int]]:
        """(earlier inspections, frauds found) of each record's goods profile."""
        profiles = self.profiles
        return [profiles.get(profile_of(r, value_factor), (0, 0)) for r in records]

    def pairs_seen(self, records: Sequence[RiskRecord]) -> np.ndarray:
        """Whether each record's (HS6, net mass) pair occurs in the training data."""
        pairs = {(hs6, mass) for hs6, mass, _value in self.profiles}
        return np.array([goods_pair(r) in pairs for r in records], dtype=bool)

    def transform(self, records: Sequence[RiskRecord], value_factor: float = 1.0,
                  history: Sequence[tuple[int, int]] | None = None) -> np.ndarray:
        """The main model's matrix, built row by row in Python and converted once: filling it key
        by key cost a numpy conversion per key, most of a request's encoding time (batches of
        thousands of rows encode as fast either way)."""
        width = len(self.feature_names)
        if not records:
            return np.empty((0, width))
        history = self.profile_history(records, value_factor) if history is None else history
        unseen = (self.prior, 0.0)
        lookups = [(self.tables.get(name, {}).get, getter) for name, getter in self.keys().items()]
        rows = []
        for r, (n, frauds) in zip(records, history, strict=True):
            row: list[float] = []
            for rate, getter in lookups:
                row += rate(getter(r), unseen)
            row += _profile_features(n, frauds)
            row += self._numeric(r, value_factor)
            rows.append(row)
        return np.array(rows, dtype=np.float64)

    def novelty_transform(self, records: Sequence[RiskRecord], value_factor: float = 1.0) -> np.ndarray:
        """The new-profile model's matrix."""
        matrix = np.empty((len(records), len(self.novelty_feature_names)))
        if not records:
            return matrix
        keys, prior = self.keys(), self.prior
        for column, name in enumerate(self.novelty_keys):
            table, getter = self.novelty_tables.get(name, {}), keys[name]
            matrix[:, column] = [table.get(getter(r), prior) for r in records]
        matrix[:, len(self.novelty_keys):] = [self._novelty_numeric(r, value_factor) for r in records]
        return matrix

    def facts(self, r: RiskRecord, value_factor: float = 1.0, limit: int = 2, minimum: int = 10) -> list[str]:
        """Plain-words history behind an item's probability: its goods profile's inspections,
        then the riskiest of its keys with at least ``minimum`` earlier declarations."""
        n, frauds = self.profiles.get(profile_of(r, value_factor), (0, 0))
        mass = f"{r.net_mass:,.3f}".rstrip("0").rstrip(".")
        if n:
            found = f"fraud found {frauds} time{'s' if frauds != 1 else ''}" if frauds else "no fraud found"
            lines = [f"the same goods (HS {r.hs6}, {mass} kg, same value) were inspected {n} "
                     f"time{'s' if n != 1 else ''} before: {found}"]
        else:
            lines = [f"new goods profile (HS {r.hs6}, {mass} kg at this value): judged by goods of its kind"]
        keys = self.keys()
        ranked: list[tuple[float, str]] = []
        for name, label in EXPLAINED.items():
            value = keys[name](r)
            seen, bad = self.counts.get(name, {}).get(value, (0, 0))
            if value and seen >= minimum:
                ranked.append((bad / seen, f"{label.format(value)}: fraud in {bad / seen:.0%} of {seen:,}"))
        ranked.sort(key=lambda pair: -pair[0])
        return lines + [text for _share, text in ranked[:limit]]


def _extra(name: str) -> KeyFn:
    return lambda r: r.extra(name)


def _profile_features(n: int, frauds: int) -> list[float]:
    """Earlier inspections of the profile and the share that found fraud (-1: none yet; a
    number rather than NaN so that a data set without repeats still trains)."""
    return [float(n), frauds / n if n else -1.0]


def _by_day(records: Sequence[RiskRecord]) -> list[list[int]]:
    """Row indices grouped by declaration date, oldest first (undated rows first)."""
    days: dict[date, list[int]] = defaultdict(list)
    for index, r in enumerate(records):
        days[r.declared_on or date.min].append(index)
    return [days[day] for day in sorted(days)]
