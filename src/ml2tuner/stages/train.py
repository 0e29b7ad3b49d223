"""Stage ``train``: models P, then V, then A of a unit, evaluated on a held-out split.

Writes into the unit's ``models/`` folder (columns in ``docs/artifacts.md``):

* ``P.json``, ``V.json``, ``A.json`` — the boosters as XGBoost JSON, with their settings and
  feature names as attributes (:meth:`ml2tuner.models.XGBModel.load` reads them back);
* ``metrics.parquet`` — one row per model and held-out metric (RMSE of normalised throughput
  for P and A, V's accuracy / precision / recall / ROC-AUC, …, top-k recall) with the features
  each model used;
* ``split.parquet`` — which configurations were trained on and which were held out;
* ``search.parquet`` — the Optuna trials of the hyper-parameter search (no rows when
  ``model.optuna_trials`` is 0);
* ``optuna.journal`` — the studies, only when searching. It is deliberately not a declared
  output: Snakemake deletes the outputs of an interrupted job, and the journal is what lets
  the re-run resume the studies instead of starting over.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..models import SearchSettings, TrainSettings, metric_rows, search_history, train_models
from ..workflow.columns import METRICS_COLUMNS, MODEL_FILES, SPLIT_COLUMNS, search_columns
from ..workflow.config import ModelSection, Unit, config_hash
from ..workflow.tables import atomic_write, derived_metadata, read_metadata, read_table, write_table

__all__ = ["JOURNAL_NAME", "train_settings", "run_train"]

logger = logging.getLogger(__name__)

JOURNAL_NAME = "optuna.journal"


def train_settings(section: Mapping[str, Any], seed: int) -> TrainSettings:
    """The library's :class:`~ml2tuner.models.TrainSettings` from the config's ``model`` section.

    Args:
        section: the ``model`` section (missing keys take :class:`ModelSection`'s defaults).
        seed: seed of the split, the boosters and the search.
    """
    m = ModelSection(**section)
    search = SearchSettings(n_trials=m.optuna_trials, seed=seed) if m.optuna_trials else None
    return TrainSettings(
        train_fraction=m.train_fraction,
        performance_objective=m.objective,
        params=m.booster_params(),
        num_boost_round=m.n_estimators,
        seed=seed,
        search=search,
    )


def run_train(
    unit: Unit,
    space_path: str | Path,
    compiled_path: str | Path,
    measured_path: str | Path,
    out_dir: str | Path,
    settings: Mapping[str, Any],
    seed: int,
) -> None:
    """Train P, then V, then A on a unit's tables and write them with held-out metrics.

    Args:
        unit: the job's unit; every input table is checked against it.
        space_path, compiled_path, measured_path: the unit's tables.
        out_dir: the unit's ``models/`` folder (see the module docstring for what it gets).
        settings: the ``model`` section of the configuration.
        seed: seed of the split, the models and the hyper-parameter search.
    """
    out_dir = Path(out_dir)
    upstream = read_metadata(measured_path, "measured", unit)
    train = train_settings(settings, seed)
    section = {**ModelSection().as_dict(), **dict(settings)}
    # A study belongs to its data and settings; only its length may change and still resume.
    study_key = config_hash(
        {
            "measured": upstream["config_hash"],
            "seed": seed,
            "model": {k: v for k, v in section.items() if k != "optuna_trials"},
        }
    )[:12]
    journal = out_dir / JOURNAL_NAME if train.search else None
    if journal is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        logger.info(
            "hyper-parameter search: %d Optuna trials per model, journal %s%s",
            train.search.n_trials,
            journal,
            " (resuming)" if journal.exists() else "",
        )
    result = train_models(
        read_table(space_path, "space", unit),
        read_table(compiled_path, "compiled", unit),
        read_table(measured_path, "measured", unit, ["config_id", "status", "latency_us"]),
        unit.workload,
        unit.target,
        train,
        journal_path=journal,
        study_prefix=f"{unit.path}/{study_key}/",
    )
    for role, model in result.models.items():
        atomic_write(out_dir / MODEL_FILES[role], model.save)
    metrics = metric_rows(result.metrics)
    for row in result.metrics.itertuples(index=False):
        shown = ", ".join(
            f"{r.metric} {r.value:.4g}" for r in metrics.itertuples() if r.model == row.model
        )
        logger.info(
            "%s (%s, %s, %d features; %d train / %d test rows): %s",
            row.model,
            row.objective,
            row.feature_set,
            row.n_features,
            row.n_train,
            row.n_test,
            shown,
        )
    rmse = metrics.set_index(["model", "metric"])["value"]
    if np.isfinite(rmse.get(("P", "rmse"), np.nan)) and rmse[("P", "rmse")] > 0:
        logger.info("RMSE(A) / RMSE(P) = %.3f", rmse[("A", "rmse")] / rmse[("P", "rmse")])
    meta = derived_metadata(upstream, "train", {"model": section, "seed": seed})
    meta["top_k"] = str(train.top_k)
    meta["throughput_scale"] = repr(float(result.metrics["throughput_scale"].iloc[0]))
    write_table(metrics, out_dir / "metrics.parquet", "metrics", meta, METRICS_COLUMNS)
    write_table(result.split, out_dir / "split.parquet", "split", meta, SPLIT_COLUMNS)
    write_table(
        search_history(result.trials, result.best_params),
        out_dir / "search.parquet",
        "search",
        meta,
        search_columns(),
    )
