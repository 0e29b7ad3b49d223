"""Offline metrics of the models (numpy only)."""

from __future__ import annotations

import numpy as np

__all__ = [
    "rmse",
    "spearman",
    "top_k_recall",
    "best_rank",
    "best_rank_pct",
    "roc_auc",
    "classification_metrics",
]


def rmse(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Root-mean-square error (NaN for no rows)."""
    y_true, y_pred = np.asarray(y_true, float), np.asarray(y_pred, float)
    if y_true.size == 0:
        return float("nan")
    return float(np.sqrt(np.mean((y_true - y_pred) ** 2)))


def _ranks(values: np.ndarray) -> np.ndarray:
    """Ranks 1..n with ties averaged."""
    order = np.argsort(values, kind="stable")
    ranks = np.empty(len(values), float)
    ranks[order] = np.arange(1, len(values) + 1)
    uniq, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    if len(uniq) < len(values):
        sums = np.bincount(inverse, weights=ranks)
        ranks = (sums / counts)[inverse]
    return ranks


def spearman(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Spearman rank correlation (NaN when either side is constant or has < 2 rows)."""
    if len(y_true) < 2:
        return float("nan")
    a, b = _ranks(np.asarray(y_true, float)), _ranks(np.asarray(y_pred, float))
    if a.std() == 0 or b.std() == 0:
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])


def top_k_recall(y_true: np.ndarray, y_pred: np.ndarray, k: int) -> float:
    """Share of the true top-``k`` (highest ``y_true``) among the predicted top-``k``."""
    y_true, y_pred = np.asarray(y_true, float), np.asarray(y_pred, float)
    k = min(k, len(y_true))
    if k == 0:
        return float("nan")
    true_top = set(np.argsort(-y_true, kind="stable")[:k].tolist())
    pred_top = np.argsort(-y_pred, kind="stable")[:k]
    return float(sum(int(i) in true_top for i in pred_top) / k)


def best_rank(latency: np.ndarray, predicted: np.ndarray) -> int:
    """Rank (1-based) of the truly fastest configuration when sorted by predicted latency.

    Measuring the configurations in predicted order, this many measurements include one of the
    truly fastest (several configurations can share the fastest latency, e.g. the same program
    from different knobs). Ties count against the predictor: a slower configuration predicted
    as fast as the best-predicted fastest one is measured first, so a constant predictor ranks
    the fastest after every slower configuration.
    """
    latency, predicted = np.asarray(latency, float), np.asarray(predicted, float)
    if latency.size == 0:
        raise ValueError("no configurations to rank")
    fastest = latency == latency.min()
    cut = predicted[fastest].min()
    return int((predicted < cut).sum() + ((predicted == cut) & ~fastest).sum() + 1)


def best_rank_pct(latency: np.ndarray, predicted: np.ndarray) -> float:
    """:func:`best_rank` as a percentage of the configurations ranked (Pelke's "top 3 %")."""
    return 100.0 * best_rank(latency, predicted) / len(latency)


def roc_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve (Mann–Whitney U; ties count one half). NaN for one class."""
    labels = np.asarray(labels, bool)
    n_pos, n_neg = int(labels.sum()), int((~labels).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = _ranks(np.asarray(scores, float))
    return float((ranks[labels].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def classification_metrics(
    labels: np.ndarray, prob: np.ndarray, threshold: float = 0.5
) -> dict[str, float]:
    """Accuracy, precision, recall, ROC-AUC, log-loss and the majority-class baseline."""
    labels = np.asarray(labels, bool)
    prob = np.asarray(prob, float)
    pred = prob >= threshold
    tp = int((pred & labels).sum())
    n = len(labels)
    majority = max(labels.mean(), 1 - labels.mean()) if n else float("nan")
    p = np.clip(prob, 1e-12, 1 - 1e-12)
    return {
        "accuracy": float((pred == labels).mean()) if n else float("nan"),
        "precision": tp / int(pred.sum()) if pred.any() else float("nan"),
        "recall": tp / int(labels.sum()) if labels.any() else float("nan"),
        "roc_auc": roc_auc(labels, prob),
        "log_loss": float(-np.mean(labels * np.log(p) + (~labels) * np.log(1 - p)))
        if n
        else float("nan"),
        "majority_accuracy": float(majority),
    }
