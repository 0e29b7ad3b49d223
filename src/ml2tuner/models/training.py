"""Train P, V and A on a measured training split and evaluate them on the held-out rest.

This is the library behind the ``train`` stage: :func:`train_models` returns the three
boosters, ``metrics`` (one row per model, ``models/metrics.parquet``), and — when a
hyper-parameter search is configured — the best parameters and the Optuna trials history.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..workflow.config import ModelSection
from .features import FEATURE_SETS, feature_table, is_valid, normalised_throughput, throughput
from .hpo import SearchSettings, search_hyperparameters
from .metrics import classification_metrics, rmse, spearman, top_k_recall
from .xgb import MODEL_ROLES, PAPER_PARAMS, ModelSettings, XGBModel, default_settings

__all__ = [
    "TrainSettings",
    "TrainedModels",
    "train_models",
    "split_rows",
    "METRIC_COLUMNS",
    "TASK_METRICS",
    "metric_rows",
]

METRIC_COLUMNS = (
    "model",
    "task",
    "objective",
    "feature_set",
    "n_features",
    "features",
    "n_train",
    "n_test",
    "rmse",
    "spearman",
    "top_k",
    "top_k_recall",
    "accuracy",
    "precision",
    "recall",
    "roc_auc",
    "log_loss",
    "majority_accuracy",
    "throughput_scale",
    "params_json",
    "seed",
)
# The held-out metrics of each task, in the order of the long table (:func:`metric_rows`).
TASK_METRICS: dict[str, tuple[str, ...]] = {
    "performance": ("rmse", "spearman", "top_k_recall"),
    "validity": ("accuracy", "precision", "recall", "roc_auc", "log_loss", "majority_accuracy"),
}


@dataclass(frozen=True)
class TrainSettings:
    """Settings of offline training and evaluation.

    Attributes:
        train_fraction: share of measured configurations in the training split (the rest is
            held out), stratified by validity.
        performance_objective: objective of P and A. Regression by default: RMSE on normalised
            throughput is only meaningful for a regression model (with ``rank:pairwise`` the
            RMSE column is NaN and Spearman / top-k recall remain).
        params: booster parameters of all three models when there is no search (the paper's
            by default).
        num_boost_round: boosting rounds when there is no search.
        top_k: ``k`` of top-k recall.
        seed: seed of the split and of the boosters.
        search: Optuna search per model, or None for the paper's parameters.
    """

    train_fraction: float = ModelSection.train_fraction
    performance_objective: str = "reg:squarederror"
    params: Mapping[str, Any] = field(default_factory=lambda: dict(PAPER_PARAMS))
    num_boost_round: int = 100
    top_k: int = 10
    seed: int = 0
    search: SearchSettings | None = None

    def __post_init__(self) -> None:
        if not 0 < self.train_fraction < 1:
            raise ValueError("train_fraction must be in (0, 1)")
        if self.performance_objective not in ("rank:pairwise", "reg:squarederror"):
            raise ValueError("performance_objective: allowed rank:pairwise, reg:squarederror")
        if self.top_k < 1:
            raise ValueError("top_k must be ≥ 1")


@dataclass
class TrainedModels:
    """What :func:`train_models` produced."""

    models: dict[str, XGBModel]
    metrics: pd.DataFrame
    best_params: pd.DataFrame = field(default_factory=pd.DataFrame)
    trials: pd.DataFrame = field(default_factory=pd.DataFrame)
    split: pd.DataFrame = field(default_factory=pd.DataFrame)


def split_rows(labels: np.ndarray, train_fraction: float, seed: int) -> np.ndarray:
    """Boolean train mask, stratified by ``labels`` (each class split at ``train_fraction``)."""
    rng = np.random.default_rng(seed)
    train = np.zeros(len(labels), bool)
    for value in np.unique(labels):
        rows = np.flatnonzero(labels == value)
        rows = rows[rng.permutation(len(rows))]
        train[rows[: max(1, int(round(train_fraction * len(rows))))]] = True
    return train


def train_models(
    space: pd.DataFrame,
    compiled: pd.DataFrame | None,
    measured: pd.DataFrame,
    layer: Any,
    target: Any,
    settings: TrainSettings = TrainSettings(),
    *,
    journal_path: str | Path | None = None,
    study_prefix: str = "",
) -> TrainedModels:
    """Train P, then V, then A, and evaluate each on the held-out split.

    Args:
        space, compiled, measured: the three tables (``compiled`` is required for A).
        layer, target: the layer and target (objects or their fields).
        settings: split, objective, k, seed, optional search.
        journal_path: Optuna journal file (required when ``settings.search`` is set).
        study_prefix: prefix of the study names (e.g. ``"zcu102/C2/nestc/"``).
    Returns:
        the models, the metrics table and the search results.
    """
    if compiled is None:
        raise ValueError("model A needs compiled.parquet (hidden features)")
    if settings.search is not None and journal_path is None:
        raise ValueError("a hyper-parameter search needs journal_path")
    table = feature_table(space, layer, target, compiled).merge(
        measured[["config_id", "status", "latency_us"]],
        on="config_id",
        how="inner",
        validate="one_to_one",
    )
    valid = is_valid(table)
    train = split_rows(valid, settings.train_fraction, settings.seed)
    thr, scale = normalised_throughput(throughput(table)[train & valid])
    y_perf = throughput(table) / scale
    models: dict[str, XGBModel] = {}
    rows, best, trials = [], [], []
    for i, role in enumerate(("P", "V", "A")):
        spec = MODEL_ROLES[role]
        cols = FEATURE_SETS[spec.feature_set].columns(table)
        x = table[cols].to_numpy(np.float32)
        fit_rows = train if spec.task == "validity" else train & valid
        y = valid.astype(float) if spec.task == "validity" else y_perf
        model_settings = default_settings(role, settings.performance_objective).replace(
            params=dict(settings.params), num_boost_round=settings.num_boost_round
        )
        if settings.search is not None:
            result = search_hyperparameters(
                x[fit_rows],
                y[fit_rows],
                objective=model_settings.objective,
                journal_path=journal_path,
                study_name=f"{study_prefix}{role}",
                settings=SearchSettings(
                    settings.search.n_trials, settings.search.n_folds, settings.search.seed + i
                ),
            )
            model_settings = result.settings
            best.append(result.best_params.assign(model=role))
            trials.append(result.trials.assign(model=role))
        model = XGBModel(model_settings, seed=settings.seed + i, feature_names=cols)
        model.fit(x[fit_rows], y[fit_rows])
        models[role] = model
        rows.append(
            _evaluate(role, model, model_settings, cols, x, y, train, valid, settings, scale)
        )
    metrics = pd.DataFrame(rows, columns=list(METRIC_COLUMNS))
    split = pd.DataFrame(
        {
            "config_id": table["config_id"].to_numpy(np.int64),
            "split": np.where(train, "train", "test"),
        }
    )
    split["split"] = split["split"].astype("string")
    return TrainedModels(
        models,
        metrics,
        pd.concat(best, ignore_index=True) if best else pd.DataFrame(),
        pd.concat(trials, ignore_index=True) if trials else pd.DataFrame(),
        split,
    )


def metric_rows(metrics: pd.DataFrame) -> pd.DataFrame:
    """The wide ``metrics`` of :func:`train_models` as one row per model and metric.

    Returns:
        ``model, metric, value, n_train, n_test, objective, feature_set, n_features,
        features, params_json`` — the ``models/metrics.parquet`` table — with P's and A's
        :data:`TASK_METRICS` ``["performance"]`` and V's ``["validity"]``.
    """
    keep = [
        "n_train",
        "n_test",
        "objective",
        "feature_set",
        "n_features",
        "features",
        "params_json",
    ]
    rows = [
        {
            "model": row["model"],
            "metric": metric,
            "value": float(row[metric]),
            **{k: row[k] for k in keep},
        }
        for _, row in metrics.iterrows()
        for metric in TASK_METRICS[row["task"]]
    ]
    return pd.DataFrame(rows, columns=["model", "metric", "value", *keep])


def _evaluate(
    role: str,
    model: XGBModel,
    model_settings: ModelSettings,
    cols: list[str],
    x: np.ndarray,
    y: np.ndarray,
    train: np.ndarray,
    valid: np.ndarray,
    settings: TrainSettings,
    scale: float,
) -> dict[str, Any]:
    spec = MODEL_ROLES[role]
    test = ~train
    row: dict[str, Any] = {c: np.nan for c in METRIC_COLUMNS}
    row.update(
        model=role,
        task=spec.task,
        objective=model_settings.objective,
        feature_set=spec.feature_set,
        n_features=len(cols),
        features=json.dumps(cols),
        top_k=settings.top_k,
        throughput_scale=scale,
        seed=settings.seed,
        params_json=json.dumps(
            {**model_settings.params, "num_boost_round": model_settings.num_boost_round},
            sort_keys=True,
        ),
    )
    if spec.task == "validity":
        row.update(n_train=int(train.sum()), n_test=int(test.sum()))
        row.update(classification_metrics(valid[test], model.predict(x[test])))
        return row
    rows = test & valid
    pred = model.predict(x[rows])
    row.update(
        n_train=int((train & valid).sum()),
        n_test=int(rows.sum()),
        spearman=spearman(y[rows], pred),
        top_k_recall=top_k_recall(y[rows], pred, settings.top_k),
    )
    if model_settings.objective == "reg:squarederror":
        row["rmse"] = rmse(y[rows], pred)
    return row
