"""Stage ``simstats``: the simulation-statistics predictors of a unit, trained and scored.

Pelke et al.'s question on our model: how well does the counting pass (``simstats.parquet``)
predict what the timing simulator measures (``measured.parquet``)? Each predictor family of
:mod:`ml2tuner.models.simstats` is trained on a small sample of the valid configurations (the
config's ``simstats.train_fraction``, 3 % by default), its hyper-parameters searched by Optuna,
and scored on the rest. Writes into the unit's ``models/`` folder (``docs/artifacts.md``):

* ``simstats_metrics.parquet`` — one row per predictor and held-out metric (MAE, MSE,
  Spearman, ``best_rank_pct``), in the form of P, V and A's ``metrics.parquet``;
* ``simstats_predictions.parquet`` — every valid configuration's split, measured and predicted
  latency per predictor (the report's predicted-vs-measured figure and top-k curve);
* ``simstats_search.parquet`` — the Optuna trials (no rows when ``optuna_trials`` is 0);
* ``simstats.journal`` — the studies, only when searching; not a declared output, so that an
  interrupted search resumes (as ``optuna.journal`` of the train stage).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ..models.simstats import evaluate_predictors
from ..report import simstats as report
from ..report.figures import save_figure
from ..workflow.columns import (
    METRICS_COLUMNS,
    SIMSTATS_FILES,
    SIMSTATS_PREDICTION_COLUMNS,
    SIMSTATS_SEARCH_COLUMNS,
)
from ..workflow.config import SimstatsSection, Unit, config_hash, unit_for_path
from ..workflow.tables import (
    atomic_write,
    derived_metadata,
    read_metadata,
    read_table,
    write_table,
)

__all__ = ["SIMSTATS_JOURNAL", "run_simstats", "run_simstats_report"]

logger = logging.getLogger(__name__)

SIMSTATS_JOURNAL = "simstats.journal"


def run_simstats(
    unit: Unit,
    measured_path: str | Path,
    statistics_path: str | Path,
    out_dir: str | Path,
    settings: Mapping[str, Any],
) -> None:
    """Train and score the unit's simulation-statistics predictors; write their tables.

    Args:
        unit: the job's unit; both input tables are checked against it.
        measured_path: ``measured.parquet`` (the latencies to predict).
        statistics_path: ``simstats.parquet`` (the counting pass's statistics, the features).
        out_dir: the unit's ``models/`` folder.
        settings: the config's ``simstats`` section.
    """
    out_dir = Path(out_dir)
    section = SimstatsSection(**settings)
    upstream = read_metadata(measured_path, "measured", unit)
    statistics_meta = read_metadata(statistics_path, "simstats", unit)
    # A study belongs to its data and settings; only its length may change and still resume.
    key = config_hash(
        {
            "measured": upstream["config_hash"],
            "simstats": statistics_meta["config_hash"],
            "settings": {k: v for k, v in section.as_dict().items() if k != "optuna_trials"},
        }
    )[:12]
    journal = out_dir / SIMSTATS_JOURNAL if section.optuna_trials else None
    if journal is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        logger.info(
            "search: %d Optuna trials per predictor, journal %s%s",
            section.optuna_trials,
            journal,
            " (resuming)" if journal.exists() else "",
        )
    result = evaluate_predictors(
        read_table(measured_path, "measured", unit, ["config_id", "status", "latency_us"]),
        read_table(statistics_path, "simstats", unit),
        section,
        journal_path=journal,
        study_prefix=f"{unit.path}/{key}/",
    )
    for model, rows in result.metrics.groupby("model", sort=False):
        first = rows.iloc[0]
        shown = ", ".join(f"{r.metric} {r.value:.4g}" for r in rows.itertuples())
        logger.info(
            "%s (%d train / %d test valid configurations): %s",
            model,
            first.n_train,
            first.n_test,
            shown,
        )
    meta = derived_metadata(upstream, "simstats", {"simstats": section.as_dict()})
    trials = (
        result.trials
        if len(result.trials)
        else pd.DataFrame({name: [] for name, _ in SIMSTATS_SEARCH_COLUMNS})
    )
    for kind, frame, columns in (
        ("simstats_metrics", result.metrics, METRICS_COLUMNS),
        ("simstats_predictions", result.predictions, SIMSTATS_PREDICTION_COLUMNS),
        ("simstats_search", trials, SIMSTATS_SEARCH_COLUMNS),
    ):
        write_table(frame, out_dir / SIMSTATS_FILES[kind], kind, meta, columns)


def run_simstats_report(
    units: Sequence[Unit],
    measured_paths: Sequence[str | Path],
    metrics_paths: Sequence[str | Path],
    prediction_paths: Sequence[str | Path],
    tuning_paths: Sequence[str | Path],
    out_path: str | Path,
) -> None:
    """Write ``simstats.md`` and its figures (beside it) from every unit's tables.

    Args:
        units: the configured units; each path is matched to the unit whose folder holds it.
        measured_paths: every unit's ``measured.parquet`` (the top-1 % latency cut).
        metrics_paths, prediction_paths: every unit's simstats stage tables.
        tuning_paths: every tuning run (strategy and seed are read from its metadata).
        out_path: ``results/report/simstats.md``.
    """
    units = list(units)

    def unit_rows(paths, kind):
        for path in paths:
            unit = unit_for_path(path, units)
            yield unit, read_table(path, kind, unit).assign(unit=unit.path)

    metrics = pd.concat([f for _, f in unit_rows(metrics_paths, "simstats_metrics")])
    predictions = pd.concat([f for _, f in unit_rows(prediction_paths, "simstats_predictions")])
    cuts = {u.path: report.latency_cut(f) for u, f in unit_rows(measured_paths, "measured")}
    runs, budget = [], {}
    for path in tuning_paths:
        unit = unit_for_path(path, units)
        meta = read_metadata(path, "tuning", unit)
        trials = read_table(path, "tuning", unit, ["best_latency_us"])
        budget[unit.path] = max(budget.get(unit.path, 0), len(trials))
        runs.append(
            {
                "unit": unit.path,
                "strategy": meta["strategy"],
                "seed": int(meta["seed"]),
                "samples_to_cut": report.samples_to_cut(trials, cuts[unit.path]),
            }
        )
    runs = pd.DataFrame(runs, columns=["unit", "strategy", "seed", "samples_to_cut"])
    out_path = Path(out_path)
    figures = {
        "simstats_fit": report.plot_predicted_vs_measured(predictions, metrics),
        "simstats_topk": report.plot_topk(report.topk_curves(predictions)),
        "simstats_samples": report.plot_samples_to_cut(runs, budget),
    }
    for stem, fig in figures.items():
        save_figure(fig, out_path.parent / f"{stem}.png", out_path.parent / f"{stem}.svg")
    shown = [
        (
            report.SIMSTATS_FIGURES[stem],
            os.path.relpath(out_path.parent / f"{stem}.png", out_path.parent),
        )
        for stem in figures
    ]
    cut_table = report.cut_summary(runs)
    text = report.render_simstats(report.metrics_table(metrics), cut_table, shown)
    atomic_write(out_path, lambda tmp: tmp.write_text(text + "\n", encoding="utf-8"))
    logger.info("simstats report written to %s", out_path)
