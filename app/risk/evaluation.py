"""How well a ranking finds fraud when officers can inspect only k% of declarations.

precision@k: share of the inspected that were fraud; recall@k: share of all frauds found;
revenue@k: share of all fraud value (revenue at stake) found."""
from __future__ import annotations

import numpy as np
from sklearn.metrics import roc_auc_score

RATES = (1, 2, 5, 10)


def ranking_metrics(order_by: np.ndarray, fraud: np.ndarray, revenue: np.ndarray) -> dict[str, float]:
    """Metrics at each inspection rate for the ranking that inspects the highest ``order_by`` first."""
    fraud = fraud.astype(bool)
    fraud_value = np.where(fraud, revenue, 0.0)
    order = np.argsort(-order_by, kind="stable")
    total_fraud = max(int(fraud.sum()), 1)
    total_value = float(fraud_value.sum()) or 1.0
    metrics: dict[str, float] = {}
    for rate in RATES:
        k = max(1, int(round(len(order) * rate / 100)))
        top = order[:k]
        hits = int(fraud[top].sum())
        metrics[f"precision@{rate}"] = round(hits / k, 4)
        metrics[f"recall@{rate}"] = round(hits / total_fraud, 4)
        metrics[f"revenue@{rate}"] = round(float(fraud_value[top].sum()) / total_value, 4)
    return metrics


def auc(scores: np.ndarray, fraud: np.ndarray) -> float | None:
    """Area under the ROC curve (Mann-Whitney, ties counted half); None when the rows hold
    only one class (or none), where it is undefined."""
    fraud = fraud.astype(int)
    if len(fraud) == 0 or fraud.min() == fraud.max():
        return None
    return round(float(roc_auc_score(fraud, scores)), 4)


def evaluation_report(probability: np.ndarray, expected_revenue: np.ndarray, fraud: np.ndarray,
                      revenue: np.ndarray) -> dict[str, object]:
    """The two rankings (fraud probability, expected revenue) and the AUC of the probability."""
    return {
        "fraud": ranking_metrics(probability, fraud, revenue),
        "revenue": ranking_metrics(expected_revenue, fraud, revenue),
        "auc": auc(probability, fraud),
        "rows": int(len(fraud)),
        "frauds": int(fraud.astype(bool).sum()),
    }


def format_table(report: dict[str, object]) -> str:
    """The report as a plain-text table, one line per ranking and rate, then the same for the
    rows whose goods profile is unseen in training when the report has them."""
    lines = [f"{'ranking':<10} {'rate':>5} {'precision':>10} {'recall':>8} {'revenue':>8}"]
    for ranking in ("fraud", "revenue"):
        metrics = report[ranking]
        assert isinstance(metrics, dict)
        for rate in RATES:
            lines.append(f"{ranking:<10} {rate:>4}% {metrics[f'precision@{rate}']:>10.3f} "
                         f"{metrics[f'recall@{rate}']:>8.3f} {metrics[f'revenue@{rate}']:>8.3f}")
    lines.append(f"AUC {report['auc']}  rows {report.get('rows')}  frauds {report.get('frauds')}")
    unseen = report.get("unseen_profiles")
    if isinstance(unseen, dict):
        lines += ["", "rows whose goods profile (HS6, net mass) is unseen in training:", format_table(unseen)]
    return "\n".join(lines)
