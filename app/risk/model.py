"""The learned part of the score: gradient-boosted trees (scikit-learn) on features whose
encodings are fitted on the training period only, saved as a versioned artefact.

Revenue at stake of a declaration is its fraud probability times its value (the duty base),
so one model serves both rankings: by probability and by expected revenue."""
from __future__ import annotations

import hashlib
import json
import logging
import math
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import sklearn
from sklearn.ensemble import HistGradientBoostingClassifier
from threadpoolctl import threadpool_limits

from app.domain.risk import RiskRecord
from app.platform.clock import utcnow
from app.risk.evaluation import evaluation_report

log = logging.getLogger("csw.risk")

ARTEFACT = "model.joblib"
MANIFEST = "manifest.json"
MAX_CATEGORIES = 250
SMOOTHING = 20.0
FLAT_FOREST_ROWS = 64

BASE_CATEGORIES: dict[str, Callable[[RiskRecord], str]] = {
    "hs2": lambda r: r.hs_code[:2],
    "origin_country": lambda r: r.origin_country,
    "departure_country": lambda r: r.departure_country,
    "office": lambda r: r.office,
    "transport_mode": lambda r: r.transport_mode,
    "declaration_type": lambda r: r.declaration_type,
}
TARGET_KEYS: dict[str, Callable[[RiskRecord], str]] = {
    "hs6": lambda r: r.hs6,
    "hs4": lambda r: r.hs_code[:4],
    "origin_country": lambda r: r.origin_country,
    "route": lambda r: f"{r.origin_country}>{r.departure_country}",
    "importer": lambda r: r.importer,
    "declarant": lambda r: r.declarant,
    "seller": lambda r: r.seller,
    "office": lambda r: r.office,
}
COUNT_KEYS: dict[str, Callable[[RiskRecord], str]] = {
    "importer": lambda r: r.importer,
    "declarant": lambda r: r.declarant,
    "seller": lambda r: r.seller,
    "hs6": lambda r: r.hs6,
}
NUMERIC = ("log_value", "log_net_mass", "log_unit_value", "unit_value_vs_hs6", "tax_rate", "log_duty", "hs6_number")


def _log(value: float) -> float:
    return math.log1p(max(value, 0.0))


@dataclass
class FeatureEncoder:
    """Category codes (by frequency; NaN = unseen), smoothed historical fraud rates and counts, all
    learnt from the training records only (rates for training rows are out-of-fold, so a row never
    sees its own label)."""

    extras: tuple[str, ...] = ()
    categories: dict[str, dict[str, int]] = field(default_factory=dict)
    rates: dict[str, dict[str, float]] = field(default_factory=dict)
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    hs6_unit_value: dict[str, float] = field(default_factory=dict)
    prior: float = 0.0

    @property
    def category_names(self) -> list[str]:
        return list(BASE_CATEGORIES) + [f"extra:{name}" for name in self.extras]

    @property
    def feature_names(self) -> list[str]:
        return (self.category_names + [f"fraud_rate:{k}" for k in TARGET_KEYS]
                + [f"count:{k}" for k in COUNT_KEYS] + list(NUMERIC))

    def _category_getters(self) -> list[Callable[[RiskRecord], str]]:
        return list(BASE_CATEGORIES.values()) + [
            lambda r, name=name: r.extra(name) for name in self.extras]

    def fit(self, records: Sequence[RiskRecord], labels: np.ndarray, seed: int = 0) -> np.ndarray:
        """Learn the encodings and return the training matrix (with out-of-fold rates)."""
        self.prior = float(labels.mean())
        for name, getter in zip(self.category_names, self._category_getters()):
            frequent = Counter(getter(r) for r in records).most_common(MAX_CATEGORIES)
            self.categories[name] = {value: code for code, (value, _n) in enumerate(frequent)}
        for name, getter in COUNT_KEYS.items():
            self.counts[name] = dict(Counter(getter(r) for r in records))
        unit_values: dict[str, list[float]] = defaultdict(list)
        for r in records:
            if r.net_mass > 0 and r.value > 0:
                unit_values[r.hs6].append(r.unit_value)
        self.hs6_unit_value = {hs6: float(np.median(v)) for hs6, v in unit_values.items()}
        folds = np.random.default_rng(seed).integers(0, 5, len(records))
        out_of_fold: dict[str, np.ndarray] = {}
        for name, getter in TARGET_KEYS.items():
            keys = [getter(r) for r in records]
            self.rates[name] = self._rates(keys, labels)
            column = np.empty(len(records))
            for fold in range(5):
                inside = folds != fold
                fold_rates = self._rates([k for k, keep in zip(keys, inside) if keep], labels[inside])
                for index in np.flatnonzero(~inside):
                    column[index] = fold_rates.get(keys[index], self.prior)
            out_of_fold[name] = column
        matrix = self.transform(records)
        offset = len(self.category_names)
        for position, name in enumerate(TARGET_KEYS):
            matrix[:, offset + position] = out_of_fold[name]
        return matrix

    def _rates(self, keys: Sequence[str], labels: np.ndarray) -> dict[str, float]:
        sums: dict[str, float] = defaultdict(float)
        totals: dict[str, int] = defaultdict(int)
        for key, label in zip(keys, labels):
            sums[key] += float(label)
            totals[key] += 1
        prior = float(labels.mean()) if len(labels) else self.prior
        return {key: (sums[key] + SMOOTHING * prior) / (totals[key] + SMOOTHING) for key in totals}

    def row(self, r: RiskRecord) -> list[float]:
        """The feature vector of one record (NaN = unseen category)."""
        return [float(v) for v in self.transform([r])[0]]

    def _numeric(self, r: RiskRecord, value_factor: float = 1.0) -> tuple[float, ...]:
        """The amounts, with ``math`` (not numpy) so that values sitting on a tree threshold fall
        on the same side as when the model was trained. ``value_factor`` puts the value in the
        model's currency (the same arithmetic as ``RiskRecord.unit_value`` and ``duty``)."""
        nan = float("nan")
        value = r.value * value_factor
        reference = self.hs6_unit_value.get(r.hs6)
        unit_value = value / r.net_mass if r.net_mass > 0 else 0.0
        ratio = math.log(unit_value / reference) if reference and unit_value > 0 else nan
        hs6_number = float(r.hs6) if r.hs6.isdigit() else nan
        return (_log(value), _log(r.net_mass), _log(unit_value), ratio, r.tax_rate, _log(value * r.tax_rate / 100.0),
                hs6_number)

    def transform(self, records: Sequence[RiskRecord], value_factor: float = 1.0) -> np.ndarray:
        """The feature matrix, built column by column: a per-row loop costs ~20 µs a row and
        batch scoring must reach 20,000 rows/s."""
        if not records:
            return np.zeros((0, len(self.feature_names)))
        nan = float("nan")
        columns: list[list[float]] = []
        for name, getter in zip(self.category_names, self._category_getters()):
            codes = self.categories[name]
            columns.append([codes.get(getter(r), nan) for r in records])
        for name, getter in TARGET_KEYS.items():
            rates, prior = self.rates[name], self.prior
            columns.append([rates.get(getter(r), prior) for r in records])
        for name, getter in COUNT_KEYS.items():
            counts = self.counts[name]
            columns.append([counts.get(getter(r), 0) for r in records])
        numeric = [self._numeric(r, value_factor) for r in records]
        columns += [[row[position] for row in numeric] for position in range(len(NUMERIC))]
        return np.column_stack([np.asarray(c, dtype=float) for c in columns])


@dataclass(frozen=True)
class FlatForest:
    """The trained trees as flat numpy arrays, walked for all trees at once.

    Why: scikit-learn's predict spends ~0.5 ms of fixed overhead and starts OpenMP threads,
    which on a busy machine stall a single request for tens of milliseconds; a request scores a
    handful of rows, which this walks in ~0.1 ms on the calling thread with identical results."""

    feature: np.ndarray
    threshold: np.ndarray
    missing_left: np.ndarray
    left: np.ndarray
    right: np.ndarray
    value: np.ndarray
    roots: np.ndarray
    depth: int
    baseline: float

    @classmethod
    def of(cls, classifier: HistGradientBoostingClassifier) -> FlatForest:
        """Leaves point to themselves, so every walk can take ``depth`` steps without checks."""
        trees = [predictors[0].nodes for predictors in classifier._predictors]
        if any(tree["is_categorical"].any() for tree in trees):
            raise ValueError("categorical splits are not supported by the flat forest")
        sizes = [len(tree) for tree in trees]
        starts = np.cumsum([0] + sizes[:-1]).astype(np.intp)
        nodes = np.concatenate(trees)
        leaf = nodes["is_leaf"].astype(bool)
        own = np.arange(len(nodes), dtype=np.intp)
        offset = np.repeat(starts, sizes)
        return cls(
            feature=np.where(leaf, 0, nodes["feature_idx"]).astype(np.intp),
            threshold=np.where(leaf, 0.0, nodes["num_threshold"]),
            missing_left=nodes["missing_go_to_left"].astype(bool),
            left=np.where(leaf, own, nodes["left"].astype(np.intp) + offset),
            right=np.where(leaf, own, nodes["right"].astype(np.intp) + offset),
            value=np.where(leaf, nodes["value"], 0.0),
            roots=starts, depth=int(nodes["depth"].max()),
            baseline=float(np.ravel(classifier._baseline_prediction)[0]),
        )

    def probabilities(self, matrix: np.ndarray) -> np.ndarray:
        rows = np.arange(len(matrix))[:, None]
        node = np.repeat(self.roots[None, :], len(matrix), axis=0)
        for _step in range(self.depth):
            x = matrix[rows, self.feature[node]]
            go_left = np.where(np.isnan(x), self.missing_left[node], x <= self.threshold[node])
            node = np.where(go_left, self.left[node], self.right[node])
        raw = self.value[node].sum(axis=1) + self.baseline
        return 1.0 / (1.0 + np.exp(-raw))


@dataclass
class RiskModel:
    """A trained model with its manifest (version, training data hash, metrics, features)."""

    encoder: FeatureEncoder
    classifier: HistGradientBoostingClassifier
    manifest: dict[str, Any]
    forest: FlatForest | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        """The flat forest reads scikit-learn's tree arrays; should a release change them, scoring
        falls back to scikit-learn (slower, same results) instead of failing to start."""
        if self.forest is None:
            try:
                self.forest = FlatForest.of(self.classifier)
            except (AttributeError, KeyError, IndexError, TypeError, ValueError) as exc:
                log.warning("risk model %s: scoring through scikit-learn only (%s)", self.manifest.get("version"), exc)

    @property
    def version(self) -> str:
        return str(self.manifest["version"])

    def probabilities(self, records: Sequence[RiskRecord], value_factor: float = 1.0) -> np.ndarray:
        """Fraud probability per record: small batches (a request) on the flat forest, large ones
        on scikit-learn with one thread (more threads only contend with the other workers).
        ``value_factor`` converts the records' values into the model's currency."""
        if not records:
            return np.zeros(0)
        matrix = self.encoder.transform(records, value_factor)
        if len(records) <= FLAT_FOREST_ROWS and self.forest is not None:
            return self.forest.probabilities(matrix)
        with threadpool_limits(limits=1, user_api="openmp"):
            return self.classifier.predict_proba(matrix)[:, 1]

    def probability(self, record: RiskRecord) -> float:
        return float(self.probabilities([record])[0])

    def save(self, directory: Path) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        joblib.dump({"encoder": self.encoder, "classifier": self.classifier}, directory / ARTEFACT, compress=3)
        (directory / MANIFEST).write_text(json.dumps(self.manifest, indent=2, sort_keys=True) + "\n",
                                          encoding="utf-8")
        return directory

    @classmethod
    def load(cls, directory: Path) -> RiskModel:
        """A saved model; the artefact must have been made with this scikit-learn's major.minor."""
        manifest = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
        parts = joblib.load(directory / ARTEFACT)
        return cls(parts["encoder"], parts["classifier"], manifest)

def labels_of(records: Sequence[RiskRecord]) -> tuple[np.ndarray, np.ndarray]:
    """(fraud 0/1, revenue at stake) arrays; revenue defaults to the declared value."""
    fraud = np.array([1 if r.fraud else 0 for r in records], dtype=int)
    revenue = np.array([r.revenue if r.revenue is not None else r.value for r in records], dtype=float)
    return fraud, revenue


def time_split(records: Sequence[RiskRecord], holdout_days: int) -> tuple[list[RiskRecord], list[RiskRecord], str]:
    """Training records before the last ``holdout_days`` days and the held-out latest period:
    the model is judged on what comes after what it learnt from, as in practice."""
    dated = [r.declared_on for r in records if r.declared_on is not None]
    if not dated:
        raise ValueError("records need dates for a time split")
    cut = max(dated) - timedelta(days=holdout_days)
    train = [r for r in records if r.declared_on is not None and r.declared_on <= cut]
    held = [r for r in records if r.declared_on is not None and r.declared_on > cut]
    return train, held, cut.isoformat()


# 100 trees: each costs a few microseconds per prediction call, and scoring in the request path
# must stay well under 2 ms. No early stopping: it would hold out a random tenth of the
# training rows, and validation here is by time only. Category codes are ordinal features
# (native categorical support re-encodes every call, which costs milliseconds per request).
DEFAULT_PARAMS: dict[str, Any] = {
    "max_iter": 100, "learning_rate": 0.1, "max_leaf_nodes": 31, "min_samples_leaf": 40,
    "l2_regularization": 1.0, "early_stopping": False, "random_state": 0,
}


def fit(records: Sequence[RiskRecord], extras: Sequence[str], params: dict[str, Any] | None = None,
        seed: int = 0) -> tuple[FeatureEncoder, HistGradientBoostingClassifier]:
    fraud, _revenue = labels_of(records)
    encoder = FeatureEncoder(extras=tuple(extras))
    matrix = encoder.fit(records, fraud, seed)
    classifier = HistGradientBoostingClassifier(**{**DEFAULT_PARAMS, **(params or {})})
    classifier.fit(matrix, fraud)
    return encoder, classifier


def expected_revenue(probability: np.ndarray, records: Sequence[RiskRecord]) -> np.ndarray:
    return probability * np.array([max(r.value, 0.0) for r in records])


def evaluate(model: RiskModel, records: Sequence[RiskRecord]) -> dict[str, object]:
    probability = model.probabilities(records)
    fraud, revenue = labels_of(records)
    return evaluation_report(probability, expected_revenue(probability, records), fraud, revenue)


def train(records: Sequence[RiskRecord], *, data_sha256: str, source: str, mapping: str, extras: Sequence[str],
          holdout_days: int = 90, params: dict[str, Any] | None = None,
          baselines: dict[str, dict[str, object]] | None = None) -> tuple[RiskModel, list[RiskRecord]]:
    """Fit on all but the latest ``holdout_days``, evaluate on them, and return the model with
    its manifest and the held-out records (for baselines and promotion decisions)."""
    train_records, held_out, cut = time_split(records, holdout_days)
    if not train_records or not held_out:
        raise ValueError(f"the time split at {cut} leaves no training or no held-out records")
    encoder, classifier = fit(train_records, extras, params)
    held_out_dates = [r.declared_on for r in held_out if r.declared_on is not None]  # time_split kept dated ones only
    settings = {**DEFAULT_PARAMS, **(params or {})}
    version_source = json.dumps({"data": data_sha256, "params": settings, "holdout_days": holdout_days,
                                 "extras": list(extras)}, sort_keys=True)
    version = "rm-" + hashlib.sha256(version_source.encode()).hexdigest()[:12]
    manifest: dict[str, Any] = {
        "version": version,
        "created_at": utcnow().isoformat(timespec="seconds"),
        "algorithm": "sklearn.ensemble.HistGradientBoostingClassifier",
        "sklearn_version": sklearn.__version__,
        "params": settings,
        "training_data": {"source": source, "sha256": data_sha256, "mapping": mapping, "rows": len(records),
                          "train_rows": len(train_records), "held_out_rows": len(held_out),
                          "train_until": cut, "held_out_from": min(held_out_dates).isoformat(),
                          "held_out_until": max(held_out_dates).isoformat(),
                          "fraud_rate": round(float(labels_of(train_records)[0].mean()), 4)},
        "validation": f"time split: trained on declarations up to {cut}, evaluated on the following "
                      f"{holdout_days} days (never a random split)",
        "features": encoder.feature_names,
    }
    model = RiskModel(encoder, classifier, manifest)
    manifest["metrics"] = evaluate(model, held_out)
    if baselines:
        manifest["baselines"] = baselines
    return model, held_out
