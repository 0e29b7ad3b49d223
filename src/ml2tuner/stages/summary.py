"""Stage ``summary``: the report's metrics per tuning run, per strategy, per space.

Writes ``results/summary/{runs,strategies,comparisons,spaces,models,curves,claims,scores,
ranking}.parquet`` (``docs/artifacts.md``); the metric definitions are in
:mod:`ml2tuner.report.metrics`, the statistics in :mod:`ml2tuner.report.stats`, the aggregate
score in :mod:`ml2tuner.report.aggregate` (``docs/report.md``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from .. import __version__
from ..report.aggregate import ranking_table, unit_scores
from ..report.claims import unit_claims
from ..report.metrics import (
    BEST_TOLERANCE,
    REFERENCE_STRATEGY,
    UNIT_KEYS,
    curve_table,
    invalid_share,
    latency_cut,
    match_references,
    run_metrics,
    samples_to_best,
    samples_to_match,
)
from ..report.model_metrics import long_model_metrics, model_value
from ..report.strategies import comparison_table, strategy_table
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
            cut_latency_us=latency_cut(measured),
        )
    else:
        row.update(
            optimum_latency_us=float("nan"),
            optimum_config_id=-1,
            median_valid_latency_us=float("nan"),
            cut_latency_us=float("nan"),
        )
    return row


def _unit(meta: dict[str, str]) -> tuple[str, str, str]:
    return meta["target"], meta["layer"], meta["template"]


def _claim_rows(comparisons: pd.DataFrame, models: pd.DataFrame, units) -> pd.DataFrame:
    rows = []
    for key in units:
        unit = pd.DataFrame([key], columns=UNIT_KEYS)
        unit_models = models.merge(unit, on=UNIT_KEYS)
        values = {f"rmse_{m}": model_value(unit_models, m, "rmse") for m in ("P", "A")}
        mine = comparisons.merge(unit, on=UNIT_KEYS) if len(comparisons) else comparisons
        for r in unit_claims(mine, values):
            rows.append(
                {
                    **dict(zip(UNIT_KEYS, key, strict=True)),
                    "claim": r.claim.name,
                    "quote": r.claim.quote,
                    "source": r.claim.source,
                    "metric": r.claim.metric,
                    "claimed_ratio": r.claim.claimed_ratio,
                    "ratio": r.ratio,
                    "ci_low": r.ci_low,
                    "ci_high": r.ci_high,
                    "p_value": r.p_value,
                    "verdict": r.verdict,
                    "reason": r.reason,
                }
            )
    return pd.DataFrame(rows, columns=[name for name, _ in SUMMARY_TABLES["claims"]])


def _frame(rows: pd.DataFrame | list, name: str) -> pd.DataFrame:
    """``rows`` with the columns of the summary table ``name`` (an empty table when none)."""
    columns = [column for column, _ in SUMMARY_TABLES[name]]
    if isinstance(rows, pd.DataFrame) and len(rows):
        return rows[columns]
    return pd.DataFrame(rows if len(rows) else None, columns=columns)


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
        a frame per name of :data:`~ml2tuner.workflow.columns.SUMMARY_TABLES`.
    """
    spaces = pd.DataFrame(
        [
            {**dict(zip(UNIT_KEYS, key, strict=True)), **space_row(frame)}
            for key, frame in measured.items()
        ],
        columns=[name for name, _ in SUMMARY_TABLES["spaces"]],
    )
    space = dict(zip(measured, spaces.to_dict("records"), strict=True))
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

    def run_row(meta: dict, trials: pd.DataFrame) -> dict:
        key, seed = _unit(meta), int(meta["seed"])
        reference = references.get((*key, seed), references.get((*key, -1), np.nan))
        return {
            **dict(zip(UNIT_KEYS, key, strict=True)),
            "strategy": meta["strategy"],
            "seed": seed,
            **run_metrics(trials, space[key], reference),
        }

    runs = [run_row(meta, trials) for meta, trials in tuning]
    runs_frame = _frame(runs, "runs")
    # Against autotvm, a strategy with a longer budget (the 1,000-trial prototype) is measured
    # on its first trials up to autotvm's budget: its invalid share over 1,000 trials, or a
    # cut it reached after autotvm had stopped, would not compare like with like.
    reference_trials = (
        runs_frame[runs_frame["strategy"] == REFERENCE_STRATEGY]
        .groupby(UNIT_KEYS)["n_trials"]
        .max()
        .to_dict()
    )
    matched = [
        run_row(meta, trials.iloc[: reference_trials[_unit(meta)]])
        if len(trials) > reference_trials.get(_unit(meta), len(trials))
        else row
        for (meta, trials), row in zip(tuning, runs, strict=True)
    ]
    curves, bests, budget = [], {}, {}
    for (key, strategy), group in _group_runs(tuning).items():
        best = [t["best_latency_us"].to_numpy(float) for _, t in group]
        curve = curve_table(best)
        curves.append(curve.assign(**dict(zip(UNIT_KEYS, key, strict=True)), strategy=strategy))
        bests[(key, strategy)] = best
        # the window every strategy of the unit ran through: the shortest budget (a variant
        # such as the 1,000-trial prototype is not scored on measurements the others lack)
        budget[key] = min(budget.get(key, np.inf), max(len(b) for b in best))
    models = [
        frame.assign(**dict(zip(UNIT_KEYS, key, strict=True))) for key, frame in metrics.items()
    ]
    models_frame = _frame(pd.concat(models, ignore_index=True) if models else [], "models")
    comparisons = _frame(comparison_table(_frame(matched, "runs")), "comparisons")
    scores = _frame(unit_scores(measured, bests, budget), "scores")
    return {
        "runs": runs_frame,
        "strategies": _frame(strategy_table(runs_frame), "strategies"),
        "comparisons": comparisons,
        "spaces": spaces,
        "models": models_frame,
        "curves": _frame(pd.concat(curves, ignore_index=True) if curves else [], "curves"),
        "claims": _claim_rows(comparisons, models_frame, list(measured)),
        "scores": scores,
        "ranking": _frame(ranking_table(scores) if len(scores) else [], "ranking"),
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
    # per kind of input, their count and one digest of their config hashes in input order: the
    # hashes themselves, 7,200 of them on the full run, made every summary table 1.1 MB
    section = {
        kind: {
            "n": len(paths),
            "sha256": config_hash({"inputs": [read_metadata(p)["config_hash"] for p in paths]}),
        }
        for kind, paths in (
            ("measured", measured_paths),
            ("tuning", tuning_paths),
            ("metrics", metrics_paths),
        )
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
