"""Stage ``summary``: the metrics of DESIGN.md §7 per tuning run, per strategy, per space.

Writes ``results/summary/{runs,strategies,spaces,models}.parquet`` (``docs/artifacts.md``).
The metric functions are small and pure so the report (and its tests) can reuse them.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from .. import __version__
from ..workflow.columns import (
    MODELS_COLUMNS,
    RUNS_COLUMNS,
    SPACES_COLUMNS,
    STATUS_COUNT_COLUMNS,
    STRATEGIES_COLUMNS,
)
from ..workflow.config import canonical_json, config_hash
from ..workflow.tables import read_metadata, read_table, write_table

__all__ = ["BEST_TOLERANCE", "samples_to_best", "invalid_share", "space_row", "run_row",
           "strategy_rows", "run_summary"]

logger = logging.getLogger(__name__)

BEST_TOLERANCE = 0.01  # "within 1 % of the space's true optimum"
UNIT_KEYS = ["target", "layer", "template"]


def samples_to_best(best_latency_us: np.ndarray, optimum_us: float,
                    tolerance: float = BEST_TOLERANCE) -> int:
    """Measurements until the running best is within ``tolerance`` of ``optimum_us``; -1 never.

    Args:
        best_latency_us: the running best latency after each trial (NaN before a valid one).
        optimum_us: the space's true optimum (best valid latency in ``measured.parquet``).
    """
    if not np.isfinite(optimum_us):
        return -1
    hits = np.flatnonzero(np.asarray(best_latency_us) <= optimum_us * (1.0 + tolerance))
    return int(hits[0]) + 1 if hits.size else -1


def invalid_share(status: Sequence[str]) -> float:
    """Share of measurements that were not ``valid`` (NaN for no measurement)."""
    status = np.asarray(status)
    return float((status != "valid").mean()) if status.size else float("nan")


def space_row(measured: pd.DataFrame) -> dict:
    """Size, outcome counts and optimum of one measured space."""
    valid = measured[measured["status"] == "valid"]
    counts = measured["status"].value_counts()
    row = {"n_configs": len(measured)}
    row.update({name: int(counts.get(name.removeprefix("n_"), 0))
                for name, _ in STATUS_COUNT_COLUMNS})
    if len(valid):
        best = valid.loc[valid["latency_us"].idxmin()]
        row.update(optimum_latency_us=float(best["latency_us"]),
                   optimum_config_id=int(best["config_id"]),
                   median_valid_latency_us=float(valid["latency_us"].median()))
    else:
        row.update(optimum_latency_us=float("nan"), optimum_config_id=-1,
                   median_valid_latency_us=float("nan"))
    return row


def run_row(trials: pd.DataFrame, optimum_us: float) -> dict:
    """The metrics of one tuning run."""
    best = trials["best_latency_us"].to_numpy(dtype=float)
    return {
        "placeholder_strategy": bool(trials["placeholder_strategy"].any()),
        "n_trials": len(trials),
        "optimum_latency_us": optimum_us,
        "final_best_latency_us": float(best[-1]) if len(best) else float("nan"),
        "samples_to_best": samples_to_best(best, optimum_us),
        "n_invalid": int((trials["status"] != "valid").sum()),
        "invalid_share": invalid_share(trials["status"].to_numpy()),
    }


def _quantiles(values: pd.Series, prefix: str) -> dict:
    values = values.dropna()
    if values.empty:
        return {f"{prefix}_median": np.nan, f"{prefix}_q25": np.nan, f"{prefix}_q75": np.nan}
    return {f"{prefix}_median": float(values.median()),
            f"{prefix}_q25": float(values.quantile(0.25)),
            f"{prefix}_q75": float(values.quantile(0.75))}


def strategy_rows(runs: pd.DataFrame) -> pd.DataFrame:
    """Median and quartiles over seeds, per unit and strategy."""
    rows = []
    for key, group in runs.groupby(UNIT_KEYS + ["strategy"], sort=False):
        reached = group["samples_to_best"] > 0
        rows.append({
            **dict(zip(UNIT_KEYS + ["strategy"], key, strict=True)),
            "placeholder_strategy": bool(group["placeholder_strategy"].any()),
            "n_seeds": len(group),
            "reached_share": float(reached.mean()),
            **_quantiles(group.loc[reached, "samples_to_best"].astype(float), "samples_to_best"),
            "invalid_share_median": float(group["invalid_share"].median()),
            **_quantiles(group["final_best_latency_us"], "final_best_latency_us"),
        })
    return pd.DataFrame(rows, columns=[name for name, _ in STRATEGIES_COLUMNS])


def _unit_key(path: str | Path) -> tuple[dict[str, str], tuple[str, str, str]]:
    meta = read_metadata(path)
    return meta, (meta["target"], meta["layer"], meta["template"])


def run_summary(measured_paths: Sequence[str | Path], tuning_paths: Sequence[str | Path],
                metrics_paths: Sequence[str | Path], out_dir: str | Path) -> None:
    """Write ``runs``, ``strategies``, ``spaces`` and ``models`` tables into ``out_dir``."""
    out_dir = Path(out_dir)
    spaces, optimum = [], {}
    for path in measured_paths:
        _, key = _unit_key(path)
        row = space_row(read_table(path, columns=["config_id", "status", "latency_us"]))
        optimum[key] = row["optimum_latency_us"]
        spaces.append({**dict(zip(UNIT_KEYS, key, strict=True)), **row})
    runs = []
    for path in tuning_paths:
        meta, key = _unit_key(path)
        trials = read_table(path)
        runs.append({**dict(zip(UNIT_KEYS, key, strict=True)), "strategy": meta["strategy"],
                     "seed": int(meta["seed"]), **run_row(trials, optimum[key])})
    models = []
    for path in metrics_paths:
        _, key = _unit_key(path)
        metrics = read_table(path)
        for name, value in zip(UNIT_KEYS, key, strict=True):
            metrics[name] = value
        models.append(metrics)
    runs_frame = pd.DataFrame(runs, columns=[name for name, _ in RUNS_COLUMNS])
    section = {"measured": [read_metadata(p)["config_hash"] for p in measured_paths],
               "tuning": [read_metadata(p)["config_hash"] for p in tuning_paths]}
    meta = {"ml2tuner_version": __version__, "stage": "summary",
            "config_section": canonical_json(section), "config_hash": config_hash(section)}
    write_table(runs_frame, out_dir / "runs.parquet", meta, RUNS_COLUMNS)
    write_table(strategy_rows(runs_frame), out_dir / "strategies.parquet", meta,
                STRATEGIES_COLUMNS)
    write_table(pd.DataFrame(spaces), out_dir / "spaces.parquet", meta, SPACES_COLUMNS)
    models_frame = (pd.concat(models, ignore_index=True) if models
                    else pd.DataFrame(columns=[name for name, _ in MODELS_COLUMNS]))
    write_table(models_frame, out_dir / "models.parquet", meta, MODELS_COLUMNS)
    logger.info("summary: %d spaces, %d tuning runs, %d model metrics", len(spaces), len(runs),
                len(models_frame))
