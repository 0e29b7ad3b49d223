"""Stage ``summary``: the report's metrics per tuning run, per strategy, per space.

Writes ``results/summary/{runs,strategies,spaces,models,curves,claims}.parquet``
(``docs/artifacts.md``); the metric definitions are in :mod:`ml2tuner.report.metrics` and
``docs/report.md``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from .. import __version__
from ..report.claims import unit_claims
from ..report.metrics import (
    BEST_TOLERANCE,
    UNIT_KEYS,
    curve_table,
    invalid_share,
    match_references,
    run_metrics,
    samples_to_best,
    samples_to_match,
    strategy_table,
)
from ..report.model_metrics import long_model_metrics, model_value
from ..workflow.columns import STATUS_COUNT_COLUMNS, SUMMARY_TABLES
from ..workflow.config import Unit, canonical_json, config_hash, unit_for_path
from ..workflow.tables import TableError, read_metadata, read_table, write_table

__all__ = [
    "BEST_TOLERANCE",
    "samples_to_best",
    "samples_to_match",
    "invalid_share",
    "space_row",
    "summarise",
    "run_summary",
]

logger = logging.getLogger(__name__)


def space_row(measured: pd.DataFrame) -> dict:
    """Size, outcome counts and optimum of one measured space."""
    valid = measured[measured["status"] == "valid"]
    counts = measured["status"].value_counts()
    row = {"n_configs": len(measured)}
    row.update(
        {name: int(counts.get(name.removeprefix("n_"), 0)) for name, _ in STATUS_COUNT_COLUMNS}
    )
    if len(valid):
        best = valid.loc[valid["latency_us"].idxmin()]
        row.update(
            optimum_latency_us=float(best["latency_us"]),
            optimum_config_id=int(best["config_id"]),
            median_valid_latency_us=float(valid["latency_us"].median()),
        )
    else:
        row.update(
            optimum_latency_us=float("nan"),
            optimum_config_id=-1,
            median_valid_latency_us=float("nan"),
        )
    return row


def _unit(meta: dict[str, str]) -> tuple[str, str, str]:
    return meta["target"], meta["layer"], meta["template"]


def _claim_rows(strategies: pd.DataFrame, models: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for key, mine in strategies.groupby(UNIT_KEYS, sort=False):
        unit_models = models.merge(pd.DataFrame([key], columns=UNIT_KEYS), on=UNIT_KEYS)
        values = {f"rmse_{m}": model_value(unit_models, m, "rmse") for m in ("P", "A")}
        for result in unit_claims(mine, values):
            rows.append(
                {
                    **dict(zip(UNIT_KEYS, key, strict=True)),
                    "claim": result.claim.name,
                    "quote": result.claim.quote,
                    "measure": result.claim.measure,
                    "paper_value": result.claim.paper_value,
                    "reproduced_value": result.value,
                    "verdict": result.verdict,
                    "reason": result.reason,
                }
            )
    return pd.DataFrame(rows, columns=[name for name, _ in SUMMARY_TABLES["claims"]])


def summarise(
    measured: dict[tuple, pd.DataFrame],
    tuning: Sequence[tuple[dict, pd.DataFrame]],
    metrics: dict[tuple, pd.DataFrame],
) -> dict[str, pd.DataFrame]:
    """Every summary table from in-memory tables.

    Args:
        measured: unit key → ``measured.parquet`` (``config_id, status, latency_us``).
        tuning: ``(metadata, trial log)`` of every tuning run.
        metrics: unit key → the unit's model metrics in long form
            (:func:`ml2tuner.report.model_metrics.long_model_metrics`).
    Returns:
        ``{"runs", "strategies", "spaces", "models", "curves", "claims"}`` frames.
    """
    spaces = pd.DataFrame(
        [
            {**dict(zip(UNIT_KEYS, key, strict=True)), **space_row(frame)}
            for key, frame in measured.items()
        ],
        columns=[name for name, _ in SUMMARY_TABLES["spaces"]],
    )
    optimum = {
        key: row["optimum_latency_us"]
        for key, row in zip(measured, spaces.to_dict("records"), strict=True)
    }
    heads = pd.DataFrame(
        [
            {
                **dict(zip(UNIT_KEYS, _unit(meta), strict=True)),
                "strategy": meta["strategy"],
                "seed": int(meta["seed"]),
                "final_best_latency_us": trials["best_latency_us"].min(),
            }
            for meta, trials in tuning
        ],
        columns=[*UNIT_KEYS, "strategy", "seed", "final_best_latency_us"],
    )
    references = match_references(heads)
    runs, curves = [], []
    for meta, trials in tuning:
        key = _unit(meta)
        seed = int(meta["seed"])
        reference = references.get((*key, seed), references.get((*key, -1), np.nan))
        row = run_metrics(trials, optimum[key], reference)
        runs.append(
            {
                **dict(zip(UNIT_KEYS, key, strict=True)),
                "strategy": meta["strategy"],
                "seed": seed,
                **row,
            }
        )
    runs_frame = pd.DataFrame(runs, columns=[name for name, _ in SUMMARY_TABLES["runs"]])
    for (key, strategy), group in _group_runs(tuning).items():
        curve = curve_table([t["best_latency_us"].to_numpy(float) for _, t in group])
        curves.append(curve.assign(**dict(zip(UNIT_KEYS, key, strict=True)), strategy=strategy))
    models = [
        frame.assign(**dict(zip(UNIT_KEYS, key, strict=True))) for key, frame in metrics.items()
    ]
    models_frame = (
        pd.concat(models, ignore_index=True)
        if models
        else pd.DataFrame(columns=[name for name, _ in SUMMARY_TABLES["models"]])
    )
    strategies = strategy_table(runs_frame)
    return {
        "runs": runs_frame,
        "strategies": strategies,
        "spaces": spaces,
        "models": models_frame,
        "curves": (
            pd.concat(curves, ignore_index=True)
            if curves
            else pd.DataFrame(columns=[name for name, _ in SUMMARY_TABLES["curves"]])
        ),
        "claims": _claim_rows(strategies, models_frame),
    }


def _group_runs(tuning: Sequence[tuple[dict, pd.DataFrame]]) -> dict[tuple, list]:
    groups: dict[tuple, list] = {}
    for meta, trials in tuning:
        groups.setdefault((_unit(meta), meta["strategy"]), []).append((meta, trials))
    return groups


def run_summary(
    measured_paths: Sequence[str | Path],
    tuning_paths: Sequence[str | Path],
    metrics_paths: Sequence[str | Path],
    out_dir: str | Path,
    units: Sequence[Unit],
) -> None:
    """Write the summary tables (see :func:`summarise`) into ``out_dir``.

    Args:
        measured_paths, tuning_paths, metrics_paths: every unit's tables.
        out_dir: ``results/summary``.
        units: the configured units; each table is checked against the unit whose folder
            holds it.
    """
    out_dir = Path(out_dir)

    def read(path, kind, columns=None):
        try:
            unit = unit_for_path(path, units)
        except ValueError:
            raise TableError(path, "not in the folder of any configured unit") from None
        return read_metadata(path, kind, unit), read_table(path, kind, unit, columns)

    measured = {}
    for path in measured_paths:
        meta, frame = read(path, "measured", ["config_id", "status", "latency_us"])
        measured[_unit(meta)] = frame
    tuning = [read(path, "tuning") for path in tuning_paths]
    metrics = {}
    for path in metrics_paths:
        meta, frame = read(path, "metrics")
        metrics[_unit(meta)] = long_model_metrics(frame)
    tables = summarise(measured, tuning, metrics)
    section = {
        "measured": [read_metadata(p)["config_hash"] for p in measured_paths],
        "tuning": [read_metadata(p)["config_hash"] for p in tuning_paths],
        "metrics": [read_metadata(p)["config_hash"] for p in metrics_paths],
    }
    meta = {
        "ml2tuner_version": __version__,
        "stage": "summary",
        "config_section": canonical_json(section),
        "config_hash": config_hash(section),
    }
    for name, columns in SUMMARY_TABLES.items():
        write_table(tables[name], out_dir / f"{name}.parquet", name, meta, columns)
    logger.info(
        "summary: %d spaces, %d tuning runs, %d model metrics, %d claims",
        len(tables["spaces"]),
        len(tables["runs"]),
        len(tables["models"]),
        len(tables["claims"]),
    )
