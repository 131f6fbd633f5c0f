"""Simple rankings the learned model must beat, fitted on the same training period and saved
beside it (``baselines.joblib``) so that any later file is scored by all of them alike:

- ``hs6_rate``: the HS6 code's smoothed historical fraud rate;
- ``profile_history``: the share of fraud among earlier inspections of the same (HS6, net mass)
  pair, else the HS6 rate: remembering outcomes and nothing more;
- ``logistic_regression``: one-hot codes and log amounts."""
from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import joblib
import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from app.domain.risk import RiskRecord
from app.risk.features import Pair, goods_pair
from app.risk.model import labels_of

ARTEFACT = "baselines.joblib"
SMOOTHING = 20.0


class Baseline(Protocol):
    def probabilities(self, records: Sequence[RiskRecord]) -> np.ndarray: ...


@dataclass(frozen=True)
class Hs6Rate:
    rates: dict[str, float]
    prior: float

    @classmethod
    def fit(cls, records: Sequence[RiskRecord]) -> Hs6Rate:
        fraud, _ = labels_of(records)
        prior = float(fraud.mean())
        sums: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for record, label in zip(records, fraud):
            sums[record.hs6][0] += 1
            sums[record.hs6][1] += int(label)
        return cls({hs6: (bad + SMOOTHING * prior) / (n + SMOOTHING) for hs6, (n, bad) in sums.items()}, prior)

    def probabilities(self, records: Sequence[RiskRecord]) -> np.ndarray:
        return np.array([self.rates.get(r.hs6, self.prior) for r in records])


@dataclass(frozen=True)
class ProfileHistory:
    shares: dict[Pair, float]
    hs6: Hs6Rate

    @classmethod
    def fit(cls, records: Sequence[RiskRecord]) -> ProfileHistory:
        fraud, _ = labels_of(records)
        sums: dict[Pair, list[int]] = defaultdict(lambda: [0, 0])
        for record, label in zip(records, fraud):
            sums[goods_pair(record)][0] += 1
            sums[goods_pair(record)][1] += int(label)
        return cls({profile: bad / n for profile, (n, bad) in sums.items()}, Hs6Rate.fit(records))

    def probabilities(self, records: Sequence[RiskRecord]) -> np.ndarray:
        fallback = self.hs6.probabilities(records)
        return np.array([self.shares.get(goods_pair(r), float(rate)) for r, rate in zip(records, fallback)])


@dataclass(frozen=True)
class Logistic:
    pipeline: Pipeline
    extras: tuple[str, ...]

    @staticmethod
    def _table(records: Sequence[RiskRecord], extras: Sequence[str]) -> np.ndarray:
        return np.array([[r.hs6, r.hs_code[:2], r.origin_country, r.departure_country, r.office, r.transport_mode]
                         + [r.extra(name) for name in extras]
                         + [math.log1p(max(r.value, 0)), math.log1p(max(r.net_mass, 0)), r.tax_rate]
                         for r in records], dtype=object)

    @classmethod
    def fit(cls, records: Sequence[RiskRecord], extras: Sequence[str]) -> Logistic:
        fraud, _ = labels_of(records)
        width = 6 + len(extras)
        transformer = ColumnTransformer([
            ("codes", OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=5), list(range(width))),
            ("amounts", StandardScaler(), list(range(width, width + 3))),
        ])
        pipeline = make_pipeline(transformer, LogisticRegression(max_iter=1000, C=0.5))
        pipeline.fit(cls._table(records, extras), fraud)
        return cls(pipeline, tuple(extras))

    def probabilities(self, records: Sequence[RiskRecord]) -> np.ndarray:
        if not records:
            return np.zeros(0)
        return np.asarray(self.pipeline.predict_proba(self._table(records, self.extras))[:, 1])


def fit_baselines(records: Sequence[RiskRecord], extras: Sequence[str]) -> dict[str, Baseline]:
    """All three, on the training period's records."""
    return {"hs6_rate": Hs6Rate.fit(records), "profile_history": ProfileHistory.fit(records),
            "logistic_regression": Logistic.fit(records, extras)}


def save_baselines(directory: Path, baselines: dict[str, Baseline]) -> None:
    joblib.dump(baselines, directory / ARTEFACT, compress=3)


def load_baselines(directory: Path) -> dict[str, Baseline]:
    """The baselines saved beside a model; none when it was trained without them."""
    path = directory / ARTEFACT
    return dict(joblib.load(path)) if path.exists() else {}
