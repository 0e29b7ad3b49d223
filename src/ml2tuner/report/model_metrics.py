"""The models' held-out quality for the report: metrics in one long form, and V's ROC curve.

``models/metrics.parquet`` is read in either form the ``train`` stage writes: *long* (one row per
model and metric: ``model, metric, value, n_train, n_test, placeholder``) or *wide* (one row per
model, one column per metric, ``ml2tuner.models.training.METRIC_COLUMNS``).
:func:`long_model_metrics` turns both into the long form of ``results/summary/models.parquet``.

V's ROC curve is recomputed from the unit's tables: ``models/V.json`` is loaded with XGBoost,
the configuration features are rebuilt with :mod:`ml2tuner.models.features`, and V predicts the
held-out split — ``models/split.parquet`` when the train stage wrote one, else the split
re-derived the way :func:`ml2tuner.models.training.train_models` draws it (stratified by
validity, ``model.train_fraction`` and ``seed`` from the metrics table's ``config_section``).
When the train stage reported an ROC-AUC, the recomputed one is checked against it.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..workflow.tables import read_metadata, read_table

__all__ = [
    "LONG_METRIC_COLUMNS",
    "RocCurve",
    "long_model_metrics",
    "model_value",
    "roc_curve",
    "validity_roc",
]

logger = logging.getLogger(__name__)

LONG_METRIC_COLUMNS = ["model", "metric", "value", "n_train", "n_test", "placeholder"]
# Columns of the wide form that are metrics (everything else describes the model).
_WIDE_METRICS = (
    "rmse",
    "spearman",
    "top_k_recall",
    "accuracy",
    "precision",
    "recall",
    "roc_auc",
    "log_loss",
    "majority_accuracy",
)
_ALWAYS = {"P": ("rmse",), "A": ("rmse",), "V": ("accuracy", "roc_auc")}
AUC_TOLERANCE = 1e-6


def long_model_metrics(metrics: pd.DataFrame, placeholder: bool = False) -> pd.DataFrame:
    """``metrics.parquet`` (long or wide form) as ``model, metric, value, n_train, n_test,
    placeholder``.

    Args:
        metrics: one unit's metrics table.
        placeholder: the table's ``placeholder`` metadata (used when it has no such column).
    """
    if {"metric", "value"} <= set(metrics.columns):
        out = metrics.copy()
        if "placeholder" not in out:
            out["placeholder"] = placeholder
    else:
        rows = []
        for _, row in metrics.iterrows():
            for metric in _WIDE_METRICS:
                value = float(row.get(metric, np.nan))
                if math.isnan(value) and metric not in _ALWAYS.get(str(row["model"]), ()):
                    continue
                rows.append(
                    {
                        "model": str(row["model"]),
                        "metric": metric,
                        "value": value,
                        "n_train": row.get("n_train", -1),
                        "n_test": row.get("n_test", -1),
                        "placeholder": bool(row.get("placeholder", placeholder)),
                    }
                )
        out = pd.DataFrame(rows, columns=LONG_METRIC_COLUMNS)
    for name in ("n_train", "n_test"):
        out[name] = pd.to_numeric(out[name], errors="coerce").fillna(-1).astype("int64")
    out["value"] = pd.to_numeric(out["value"], errors="coerce").astype("float64")
    out["placeholder"] = out["placeholder"].astype(bool)
    return out[LONG_METRIC_COLUMNS].reset_index(drop=True)


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
        split_source: ``"split.parquet"`` or ``"re-derived"``.
        note: a caveat for the reader ("" when none).
    """

    fpr: np.ndarray
    tpr: np.ndarray
    auc: float
    n_test: int
    n_valid: int
    split_source: str
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


def _test_mask(unit_dir: Path, table: pd.DataFrame, valid: np.ndarray) -> tuple[np.ndarray, str]:
    from ..models.training import split_rows

    split_path = unit_dir / "models" / "split.parquet"
    if split_path.exists():
        split = read_table(split_path).set_index("config_id")["split"]
        return (split.reindex(table["config_id"]).astype(str) == "test").to_numpy(), "split.parquet"
    section = json.loads(
        read_metadata(unit_dir / "models" / "metrics.parquet").get("config_section", "{}")
    )
    model = section.get("model", {})
    seed = int(section.get("seed", model.get("seed", 0)))
    train = split_rows(valid, float(model.get("train_fraction", 0.8)), seed)
    return ~train, "re-derived"


def validity_roc(unit_dir: str | Path, reported_auc: float = float("nan")) -> RocCurve | str:
    """V's ROC curve on the unit's held-out split, or why there is none.

    Args:
        unit_dir: ``results/{target}/{layer}/{template}``.
        reported_auc: the train stage's held-out ROC-AUC, to check the split against.
    Returns:
        the curve, or a one-line reason (a placeholder model, a model that does not load).
    """
    from ..models.features import FEATURE_SETS, feature_table, is_valid
    from ..models.metrics import roc_auc
    from ..models.xgb import XGBModel

    unit_dir = Path(unit_dir)
    v_path = unit_dir / "models" / "V.json"
    try:
        if json.loads(v_path.read_text(encoding="utf-8")).get("placeholder"):
            return "V is a placeholder (not trained)"
        model = XGBModel.load(v_path)
    except Exception as exc:  # unreadable JSON, XGBoostError, I/O: a note, not a failure
        return f"V could not be loaded ({type(exc).__name__})"
    measured_path = unit_dir / "measured.parquet"
    meta = read_metadata(measured_path)
    table = feature_table(
        read_table(unit_dir / "space.parquet"),
        json.loads(meta["layer_shape"]),
        json.loads(meta["target_params"]),
        read_table(unit_dir / "compiled.parquet"),
    )
    table = table.merge(
        read_table(measured_path, columns=["config_id", "status"]),
        on="config_id",
        how="inner",
        validate="one_to_one",
    )
    valid = is_valid(table)
    test, source = _test_mask(unit_dir, table, valid)
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
        note = (
            f"recomputed ROC-AUC {auc:.3f} differs from the train stage's "
            f"{reported_auc:.3f}: the held-out split was {source}"
        )
        logger.warning("%s: %s", unit_dir, note)
    return RocCurve(fpr, tpr, auc, int(test.sum()), int(valid[test].sum()), source, note)
