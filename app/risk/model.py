"""The learned part of the score: two gradient-boosted tree models (scikit-learn) over the
inspection history in ``app.risk.features``, saved as a versioned artefact.

- the **main model** ranks items whose goods profile (HS6, net mass, value) has been inspected
  before: the seizure-profile memory and every smoothed rate;
- the **new-profile model** ranks items whose profile is new, from rates counted over first
  inspections of profiles and the amounts; it is trained on those first inspections only.

Revenue at stake of an item is its fraud probability times its value (the duty base), so one
probability serves both rankings: by fraud probability, and by expected revenue for the lane
that looks for money."""
from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
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
from app.risk.features import PROFILE, FeatureEncoder

log = logging.getLogger("csw.risk")

ARTEFACT = "model.joblib"
MANIFEST = "manifest.json"
FORMAT = 2  # 1: one model over category codes and out-of-fold rates (before issue 25)
FLAT_FOREST_ROWS = 64
MIN_NOVELTY_ROWS = 100


class ModelFormatError(ValueError):
    """An artefact written by an older release, which this one cannot read."""


@dataclass(frozen=True)
class FlatForest:
    """The trained trees as flat numpy arrays, every split of every tree compared at once.

    Why: scikit-learn's predict spends ~0.5 ms of fixed overhead and starts OpenMP threads,
    which on a busy machine stall a single request for tens of milliseconds; a request scores a
    handful of rows, which this scores in a dozen numpy calls (0.02-0.04 ms for five rows) on the
    calling thread with identical results. Walking the trees level by level took four numpy
    calls per level, up to 15 levels: for a few rows the calls, not the arithmetic, were the cost.

    How (QuickScorer, Lucchese et al., SIGIR 2015): a tree's leaves are numbered left to right
    and a split that sends the row right rules out every leaf under its left child. Each tree's
    exit leaf is then the first leaf that none of its splits rules out, so all splits are
    compared in one step and, per tree, the bit masks of the leaves they rule out are OR-ed. The
    splits are stored slot by slot (slot ``k`` of every tree side by side; a tree with fewer
    splits is padded with splits that rule out nothing), which makes the OR one reduction.

    A missing value goes where its split sends it by reading the row as ``[row, NaN as +inf |
    row]``: ``column`` points each split at the half that takes the missing value its way
    (``x > threshold``: right for +inf, left for NaN, as for -inf; thresholds are finite), and a
    value that is present compares as before."""

    column: np.ndarray  # (slots x trees): the feature a split reads, in the half for its missing values
    threshold: np.ndarray  # (slots x trees)
    left_leaves: np.ndarray  # (slots x trees): bit mask of the tree's leaves under the split's left child
    leaf_value: np.ndarray  # every tree's leaves, left to right, tree after tree
    first_leaf: np.ndarray  # (trees): index of the tree's first leaf in ``leaf_value``, less one
    slots: int
    baseline: float

    @classmethod
    def of(cls, classifier: HistGradientBoostingClassifier) -> FlatForest:
        """Up to 64 leaves per tree (one bit each): the shipped settings grow at most 31."""
        trees = [predictors[0].nodes for predictors in classifier._predictors]
        if any(tree["is_categorical"].any() for tree in trees):
            raise ValueError("categorical splits are not supported by the flat forest")
        width = int(classifier.n_features_in_)
        most = max(int(tree["is_leaf"].sum()) for tree in trees)
        if most > 64:
            raise ValueError(f"a tree of {most} leaves: the flat forest takes up to 64")
        bits = next(dtype for dtype in (np.uint8, np.uint16, np.uint32, np.uint64) if np.iinfo(dtype).bits >= most)
        splits: list[list[tuple[int, float, int]]] = []
        leaf_value: list[float] = []
        first_leaf: list[int] = []
        for tree in trees:
            first_leaf.append(len(leaf_value) - 1)
            splits.append(_splits(tree, width, leaf_value))
        slots = max(1, max(len(own) for own in splits))
        column = np.zeros((slots, len(trees)), dtype=np.intp)
        threshold = np.zeros((slots, len(trees)))
        left_leaves = np.zeros((slots, len(trees)), dtype=bits)
        for index, own in enumerate(splits):
            for slot, (feature, limit, mask) in enumerate(own):
                column[slot, index], threshold[slot, index], left_leaves[slot, index] = feature, limit, mask
        if not np.isfinite(threshold).all():
            raise ValueError("an infinite split threshold: missing values could not be routed by infinities")
        return cls(column=column.ravel(), threshold=threshold.ravel(), left_leaves=left_leaves.ravel(),
                   leaf_value=np.array(leaf_value, dtype=np.float64), first_leaf=np.array(first_leaf, dtype=np.intp),
                   slots=slots, baseline=float(np.ravel(classifier._baseline_prediction)[0]))

    def probabilities(self, matrix: np.ndarray) -> np.ndarray:
        rows = np.concatenate((np.fmin(matrix, np.inf), matrix), axis=1)  # fmin: NaN becomes +inf
        ruled_out = ((rows.take(self.column, axis=1) > self.threshold) * self.left_leaves).reshape(
            len(matrix), self.slots, len(self.first_leaf))
        ruled_out = np.bitwise_or.reduce(ruled_out, axis=1)
        exit_bit = ~ruled_out & (ruled_out + ruled_out.dtype.type(1))  # the lowest bit not ruled out
        exit_leaf = np.frexp(exit_bit.astype(np.float64))[1] + self.first_leaf  # 2**k has exponent k + 1
        raw = self.leaf_value.take(exit_leaf).sum(axis=1) + self.baseline  # trees summed as the walk summed them
        return 1.0 / (1.0 + np.exp(-raw))


def _splits(tree: np.ndarray, width: int, leaf_value: list[float]) -> list[tuple[int, float, int]]:
    """A tree's splits as (column, threshold, mask of the leaves under the left child), its
    leaves' values appended to ``leaf_value`` left to right."""
    first = len(leaf_value)
    splits: list[tuple[int, float, int]] = []

    def leaves_under(node: int) -> int:
        if tree["is_leaf"][node]:
            leaf_value.append(float(tree["value"][node]))
            return 1 << (len(leaf_value) - 1 - first)
        left = leaves_under(int(tree["left"][node]))
        right = leaves_under(int(tree["right"][node]))
        missing_left = bool(tree["missing_go_to_left"][node])
        splits.append((int(tree["feature_idx"][node]) + (width if missing_left else 0),
                       float(tree["num_threshold"][node]), left))
        return left | right

    leaves_under(0)
    return splits


@dataclass
class RiskModel:
    """A trained model with its manifest (version, training data hash, metrics, features).

    ``novelty`` is None when the training data held too few first inspections of a profile
    (then the main model ranks every item)."""

    encoder: FeatureEncoder
    classifier: HistGradientBoostingClassifier
    novelty: HistGradientBoostingClassifier | None
    manifest: dict[str, Any]
    forest: FlatForest | None = field(default=None, repr=False)
    novelty_forest: FlatForest | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        """The flat forests read scikit-learn's tree arrays; should a release change them,
        scoring falls back to scikit-learn (slower, same results) instead of failing to start."""
        try:
            if self.forest is None:
                self.forest = FlatForest.of(self.classifier)
            if self.novelty_forest is None and self.novelty is not None:
                self.novelty_forest = FlatForest.of(self.novelty)
        except (AttributeError, KeyError, IndexError, TypeError, ValueError) as exc:
            self.forest = self.novelty_forest = None
            log.warning("risk model %s: scoring through scikit-learn only (%s)", self.manifest.get("version"), exc)

    @property
    def version(self) -> str:
        return str(self.manifest["version"])

    def probabilities(self, records: Sequence[RiskRecord], value_factor: float = 1.0) -> np.ndarray:
        """Fraud probability per record: the main model for profiles inspected before, the
        new-profile model for the others. ``value_factor`` converts the records' values into
        the model's currency."""
        if not records:
            return np.zeros(0)
        history = self.encoder.profile_history(records, value_factor)
        seen = [index for index, (n, _frauds) in enumerate(history) if n]
        # One model only (a request's few items often are all seen, or all new): no rows to pick and put back.
        if self.novelty is None or len(seen) == len(records):
            return _predict(self.classifier, self.forest, self.encoder.transform(records, value_factor, history))
        if not seen:
            return _predict(self.novelty, self.novelty_forest, self.encoder.novelty_transform(records, value_factor))
        new = [index for index, (n, _frauds) in enumerate(history) if not n]
        result = np.empty(len(records))
        matrix = self.encoder.transform([records[i] for i in seen], value_factor, [history[i] for i in seen])
        result[seen] = _predict(self.classifier, self.forest, matrix)
        matrix = self.encoder.novelty_transform([records[i] for i in new], value_factor)
        result[new] = _predict(self.novelty, self.novelty_forest, matrix)
        return result

    def probability(self, record: RiskRecord) -> float:
        return float(self.probabilities([record])[0])

    def explain(self, record: RiskRecord, value_factor: float = 1.0) -> list[str]:
        """The history behind an item's probability, in words an officer reads."""
        return self.encoder.facts(record, value_factor)

    def save(self, directory: Path) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        joblib.dump({"format": FORMAT, "encoder": self.encoder, "classifier": self.classifier,
                     "novelty": self.novelty}, directory / ARTEFACT, compress=3)
        (directory / MANIFEST).write_text(json.dumps(self.manifest, indent=2, sort_keys=True) + "\n",
                                          encoding="utf-8")
        return directory

    @classmethod
    def load(cls, directory: Path) -> RiskModel:
        """A saved model; the artefact must have been made with this scikit-learn's major.minor
        and in this release's format (``ModelFormatError`` otherwise)."""
        manifest = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
        if not readable(manifest):
            raise ModelFormatError(f"{directory}: model format {manifest.get('format', 1)} is not {FORMAT}; "
                                   "train a new model with `csw risk train`")
        parts = joblib.load(directory / ARTEFACT)
        return cls(parts["encoder"], parts["classifier"], parts["novelty"], manifest)


def readable(manifest: dict[str, Any]) -> bool:
    """Whether this release can load a model with this manifest."""
    return manifest.get("format") == FORMAT


def _predict(classifier: HistGradientBoostingClassifier, forest: FlatForest | None, matrix: np.ndarray) -> np.ndarray:
    """Small batches (a request) on the flat forest, large ones on scikit-learn with one
    thread (more threads only contend with the other workers)."""
    if len(matrix) <= FLAT_FOREST_ROWS and forest is not None:
        return forest.probabilities(matrix)
    with threadpool_limits(limits=1, user_api="openmp"):
        return np.asarray(classifier.predict_proba(matrix)[:, 1])


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


# 100 trees of up to 31 leaves for the main model, 200 of up to 8 for the new-profile model
# (weaker signal: shallow trees, slower learning). Scoring a request walks one of the two per
# item, well under 1 ms. No early stopping: it would hold out a random tenth of the training
# rows, and validation here is by time only.
DEFAULT_PARAMS: dict[str, Any] = {
    "max_iter": 100, "learning_rate": 0.1, "max_leaf_nodes": 31, "min_samples_leaf": 40,
    "l2_regularization": 1.0, "early_stopping": False, "random_state": 0,
}
NOVELTY_PARAMS: dict[str, Any] = {
    "max_iter": 200, "learning_rate": 0.05, "max_leaf_nodes": 8, "min_samples_leaf": 40,
    "l2_regularization": 1.0, "early_stopping": False, "random_state": 0,
}


def fit(records: Sequence[RiskRecord], extras: Sequence[str], params: dict[str, Any] | None = None,
        novelty_params: dict[str, Any] | None = None, novelty_keys: Sequence[str] | None = None
        ) -> tuple[FeatureEncoder, HistGradientBoostingClassifier, HistGradientBoostingClassifier | None]:
    """The encoder and both tree models; each training row sees only the history before its day.
    ``novelty_keys``: the rate keys of the new-profile model (default: every key)."""
    fraud, _revenue = labels_of(records)
    encoder = FeatureEncoder(extras=tuple(extras), novelty_keys=tuple(novelty_keys or ()))
    matrix, novelty_matrix, new_profile = encoder.fit(records, fraud)
    classifier = HistGradientBoostingClassifier(**{**DEFAULT_PARAMS, **(params or {})})
    novelty = None
    first = fraud[new_profile]
    # One thread: OpenMP threads spinning on a busy machine (or beside the web workers, for the
    # retrain job) make fitting ten times slower, not faster.
    with threadpool_limits(limits=1, user_api="openmp"):
        classifier.fit(matrix, fraud)
        if len(first) >= MIN_NOVELTY_ROWS and 0 < first.sum() < len(first):
            novelty = HistGradientBoostingClassifier(**{**NOVELTY_PARAMS, **(novelty_params or {})})
            novelty.fit(novelty_matrix, first)
    return encoder, classifier, novelty


def expected_revenue(probability: np.ndarray, records: Sequence[RiskRecord]) -> np.ndarray:
    """The revenue ranking: fraud probability times the item's value (the duty base)."""
    return probability * np.array([max(r.value, 0.0) for r in records])


def ranking_report(probability: np.ndarray, records: Sequence[RiskRecord], unseen: np.ndarray) -> dict[str, object]:
    """Both rankings on every row, and again on the rows whose (HS6, net mass) pair is not in
    the training data (where remembering outcomes cannot help)."""
    fraud, revenue = labels_of(records)
    report = evaluation_report(probability, expected_revenue(probability, records), fraud, revenue)
    chosen = [r for r, new in zip(records, unseen) if new]
    report["unseen_profiles"] = evaluation_report(probability[unseen], expected_revenue(probability[unseen], chosen),
                                                  fraud[unseen], revenue[unseen])
    return report


def evaluate(model: RiskModel, records: Sequence[RiskRecord]) -> dict[str, object]:
    return ranking_report(model.probabilities(records), records, ~model.encoder.pairs_seen(records))


def train(records: Sequence[RiskRecord], *, data_sha256: str, source: str, mapping: str, extras: Sequence[str],
          holdout_days: int = 90, params: dict[str, Any] | None = None,
          novelty_keys: Sequence[str] | None = None) -> tuple[RiskModel, list[RiskRecord]]:
    """Fit on all but the latest ``holdout_days``, evaluate on them, and return the model with
    its manifest and the held-out records (for baselines and promotion decisions)."""
    train_records, held_out, cut = time_split(records, holdout_days)
    if not train_records or not held_out:
        raise ValueError(f"the time split at {cut} leaves no training or no held-out records")
    train_records.sort(key=lambda r: r.declared_on or cut)
    encoder, classifier, novelty = fit(train_records, extras, params, novelty_keys=novelty_keys)
    held_out_dates = [r.declared_on for r in held_out if r.declared_on is not None]  # time_split kept dated ones only
    settings = {**DEFAULT_PARAMS, **(params or {})}
    version_source = json.dumps({"data": data_sha256, "params": settings, "novelty_params": NOVELTY_PARAMS,
                                 "features": encoder.feature_names + encoder.novelty_feature_names,
                                 "profile": PROFILE, "format": FORMAT,
                                 "holdout_days": holdout_days, "extras": list(extras)}, sort_keys=True)
    version = "rm-" + hashlib.sha256(version_source.encode()).hexdigest()[:12]
    fraud = labels_of(train_records)[0]
    manifest: dict[str, Any] = {
        "version": version,
        "format": FORMAT,
        "created_at": utcnow().isoformat(timespec="seconds"),
        "algorithm": "sklearn.ensemble.HistGradientBoostingClassifier x2 (profiles seen before / new profiles)",
        "sklearn_version": sklearn.__version__,
        "params": settings,
        "novelty_params": NOVELTY_PARAMS if novelty is not None else None,
        "training_data": {"source": source, "sha256": data_sha256, "mapping": mapping, "rows": len(records),
                          "train_rows": len(train_records), "held_out_rows": len(held_out),
                          "train_until": cut, "held_out_from": min(held_out_dates).isoformat(),
                          "held_out_until": max(held_out_dates).isoformat(),
                          "fraud_rate": round(float(fraud.mean()), 4),
                          "goods_profiles": len(encoder.profiles)},
        "validation": f"time split: trained on declarations up to {cut}, evaluated on the following "
                      f"{holdout_days} days (never a random split); every training row's history features "
                      "come from the days before it",
        "features": encoder.feature_names,
        "novelty_features": encoder.novelty_feature_names,
        "goods_profile": PROFILE,
    }
    model = RiskModel(encoder, classifier, novelty, manifest)
    manifest["metrics"] = evaluate(model, held_out)
    return model, held_out
