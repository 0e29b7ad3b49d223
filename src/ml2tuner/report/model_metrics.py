"""The models' held-out quality for the report: metrics in long form, and V's ROC curve.

``models/metrics.parquet`` (one row per model and held-out metric) becomes the long form of
``results/summary/models.parquet`` (:func:`long_model_metrics`).

V's ROC curve is recomputed from the unit's tables: ``models/V.json`` is loaded with XGBoost,
the configuration features are rebuilt with :mod:`ml2tuner.models.features`, and V predicts the
held-out split of ``models/split.parquet``. The recomputed ROC-AUC is checked against the one the
train stage reported.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..workflow.columns import MODEL_FILES
from ..workflow.config import Unit
from ..workflow.tables import read_table

__all__ = [
    "LONG_METRIC_COLUMNS",
    "RocCurve",
    "long_model_metrics",
    "model_value",
    "roc_curve",
    "validity_roc",
]

logger = logging.getLogger(__name__)

LONG_METRIC_COLUMNS = ["model", "metric", "value", "n_train", "n_test"]
AUC_TOLERANCE = 1e-6


def long_model_metrics(metrics: pd.DataFrame) -> pd.DataFrame:
    """One unit's ``metrics.parquet`` as ``model, metric, value, n_train, n_test``."""
    return metrics[LONG_METRIC_COLUMNS].reset_index(drop=True)


def model_value(models: pd.DataFrame, model: str, metric: str) -> float:
    """One metric of one model from a unit's long metrics (NaN when absent)."""
    hit = models[(models["model"] == model) & (models["metric"] == metric)]["value"].dropna()
    return float(hit.iloc[0]) if len(hit) else float("nan")


@dataclass(frozen=True)
class RocCurve:
    """V's ROC curve on one unit's held-out configurations.

    Attributes:
        fpr, tpr: false / true positive rates, from (0, 0) to (1, 1).
        auc: area under the curve.
        n_test: held-out configurations; ``n_valid`` of them valid.
        note: a caveat for the reader ("" when none).
    """

    fpr: np.ndarray
    tpr: np.ndarray
    auc: float
    n_test: int
    n_valid: int
    note: str = ""


def roc_curve(labels: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """False and true positive rates at every distinct score threshold (ties step together)."""
    labels = np.asarray(labels, bool)
    scores = np.asarray(scores, float)
    order = np.argsort(-scores, kind="stable")
    labels, scores = labels[order], scores[order]
    last_of_tie = np.r_[np.flatnonzero(np.diff(scores)), labels.size - 1]
    tp = np.cumsum(labels)[last_of_tie]
    fp = np.cumsum(~labels)[last_of_tie]
    n_pos, n_neg = max(int(labels.sum()), 1), max(int((~labels).sum()), 1)
    return np.r_[0.0, fp / n_neg], np.r_[0.0, tp / n_pos]


def _test_mask(unit: Unit, unit_dir: Path, table: pd.DataFrame) -> np.ndarray:
    split = read_table(unit_dir / "models" / "split.parquet", "split", unit)
    split = split.set_index("config_id")["split"]
    return (split.reindex(table["config_id"]).astype(str) == "test").to_numpy()


def validity_roc(
    unit: Unit, unit_dir: str | Path, reported_auc: float = float("nan")
) -> RocCurve | str:
    """V's ROC curve on the unit's held-out split, or why there is none.

    Args:
        unit: the unit (its tables are checked against it).
        unit_dir: ``results/{target}/{layer}/{template}``.
        reported_auc: the train stage's held-out ROC-AUC, to check the split against.
    Returns:
        the curve, or a one-line reason (a model that does not load, one class held out).
    """
    from ..models.features import FEATURE_SETS, feature_table, is_valid
    from ..models.metrics import roc_auc
    from ..models.xgb import XGBModel

    unit_dir = Path(unit_dir)
    v_path = unit_dir / "models" / MODEL_FILES["V"]
    try:
        model = XGBModel.load(v_path)
    except Exception as exc:  # unreadable JSON, XGBoostError, I/O: a note, not a failure
        return f"V could not be loaded ({type(exc).__name__})"
    table = feature_table(
        read_table(unit_dir / "space.parquet", "space", unit),
        unit.workload,
        unit.target,
        read_table(unit_dir / "compiled.parquet", "compiled", unit),
    )
    table = table.merge(
        read_table(unit_dir / "measured.parquet", "measured", unit, ["config_id", "status"]),
        on="config_id",
        how="inner",
        validate="one_to_one",
    )
    valid = is_valid(table)
    test = _test_mask(unit, unit_dir, table)
    columns = model.feature_names or FEATURE_SETS["config"].columns(table)
    missing = [c for c in columns if c not in table]
    if missing:
        return f"V's features {', '.join(missing[:3])} are not in the unit's tables"
    if valid[test].all() or not valid[test].any():
        return "the held-out configurations are all of one class (no ROC curve)"
    prob = model.predict(table.loc[test, columns].to_numpy(np.float32))
    fpr, tpr = roc_curve(valid[test], prob)
    auc = roc_auc(valid[test], prob)
    note = ""
    if np.isfinite(reported_auc) and abs(auc - reported_auc) > AUC_TOLERANCE:
        note = f"recomputed ROC-AUC {auc:.3f} differs from the train stage's {reported_auc:.3f}"
        logger.warning("%s: %s", unit_dir, note)
    return RocCurve(fpr, tpr, auc, int(test.sum()), int(valid[test].sum()), note)
