"""Simple rankings the learned model must beat: the HS6 code's historical fraud rate and a
logistic regression on one-hot codes and log amounts (both fitted on the training period)."""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from app.domain.risk import RiskRecord
from app.risk.evaluation import evaluation_report
from app.risk.model import expected_revenue, labels_of


def hs6_rate_baseline(train: Sequence[RiskRecord], held_out: Sequence[RiskRecord]) -> dict[str, object]:
    fraud, _ = labels_of(train)
    prior = float(fraud.mean())
    sums: dict[str, list[int]] = {}
    for record, label in zip(train, fraud):
        sums.setdefault(record.hs6, []).append(int(label))
    rates = {hs6: (sum(v) + 20 * prior) / (len(v) + 20) for hs6, v in sums.items()}
    probability = np.array([rates.get(r.hs6, prior) for r in held_out])
    held_fraud, held_revenue = labels_of(held_out)
    return evaluation_report(probability, expected_revenue(probability, held_out), held_fraud, held_revenue)


def _table(records: Sequence[RiskRecord], extras: Sequence[str]) -> tuple[list[list[str]], np.ndarray]:
    categories = [[r.hs6, r.hs_code[:2], r.origin_country, r.departure_country, r.office, r.transport_mode]
                  + [r.extra(name) for name in extras] for r in records]
    numbers = np.array([[math.log1p(max(r.value, 0)), math.log1p(max(r.net_mass, 0)), r.tax_rate]
                        for r in records])
    return categories, numbers


def logistic_baseline(train: Sequence[RiskRecord], held_out: Sequence[RiskRecord],
                      extras: Sequence[str]) -> dict[str, object]:
    fraud, _ = labels_of(train)
    categories, numbers = _table(train, extras)
    width = len(categories[0])
    transformer = ColumnTransformer([
        ("codes", OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=5), list(range(width))),
        ("amounts", StandardScaler(), list(range(width, width + 3))),
    ])
    model = make_pipeline(transformer, LogisticRegression(max_iter=1000, C=0.5))
    model.fit(np.hstack([np.array(categories, dtype=object), numbers.astype(object)]), fraud)
    held_categories, held_numbers = _table(held_out, extras)
    probability = model.predict_proba(np.hstack([np.array(held_categories, dtype=object),
                                                 held_numbers.astype(object)]))[:, 1]
    held_fraud, held_revenue = labels_of(held_out)
    return evaluation_report(probability, expected_revenue(probability, held_out), held_fraud, held_revenue)
