"""Stage ``tune``: one tuning run, replayed on ``measured.parquet``.

PLACEHOLDER until ``ml2tuner.tuners`` lands: only ``random`` (uniform random search without
replacement, the VTA tutorial's baseline) is implemented. Every other strategy name runs that
same random search and marks each of its rows ``placeholder_strategy = true``; its model
columns (``p_score``, ``v_prob``, ``a_score``) are NaN.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..workflow.columns import TUNING_COLUMNS
from ..workflow.tables import derived_metadata, read_metadata, read_table, write_table

__all__ = ["STRATEGIES", "IMPLEMENTED", "random_replay", "run_tune"]

logger = logging.getLogger(__name__)

# The strategies of DESIGN.md §6, as config.schema.yaml lists them.
STRATEGIES = ("random", "autotvm", "ml2tuner", "hwinit", "active", "optuna")
IMPLEMENTED = frozenset({"random"})
MODEL_FILES = ("P.json", "V.json", "A.json")


def random_replay(measured: pd.DataFrame, budget: int, seed: int) -> pd.DataFrame:
    """Uniform random search without replacement over ``measured``, ``budget`` trials.

    Args:
        measured: ``config_id, status, error_no, latency_us`` of every configuration.
        budget: trials wanted (capped at the space size).
        seed: seed of the run's own generator.
    Returns:
        One row per trial in order, with the running best latency over valid trials.
    """
    rng = np.random.default_rng(seed)
    ids = measured["config_id"].to_numpy(copy=True)
    status = measured["status"].to_numpy()
    error_no = measured["error_no"].to_numpy()
    latency = measured["latency_us"].to_numpy()
    n = min(budget, len(ids))
    rows, best = [], float("nan")
    for trial in range(n):
        start = time.perf_counter()
        pick = int(rng.integers(trial, len(ids)))  # incremental Fisher-Yates: no repeats
        ids[[trial, pick]] = ids[[pick, trial]]
        config_id = int(ids[trial])  # == its row: measured is sorted by config_id
        wall = time.perf_counter() - start
        if status[config_id] == "valid" and not latency[config_id] >= best:
            best = float(latency[config_id])
        rows.append({"trial": trial, "config_id": config_id, "status": status[config_id],
                     "error_no": int(error_no[config_id]),
                     "latency_us": float(latency[config_id]),
                     "best_latency_us": best, "p_score": float("nan"), "v_prob": float("nan"),
                     "a_score": float("nan"), "tuner_wall_s": wall})
    return pd.DataFrame(rows, columns=[name for name, _ in TUNING_COLUMNS[:-1]])


def run_tune(space_path: str | Path, compiled_path: str | Path, measured_path: str | Path,
             models_dir: str | Path, out_path: str | Path, strategy: str, seed: int, budget: int,
             settings: Mapping[str, Any]) -> None:
    """Run one tuning run of ``strategy`` and write its trials to ``out_path``.

    PLACEHOLDER for every strategy but ``random`` (see the module docstring).

    Args:
        space_path, compiled_path, measured_path: the unit's tables (the replay measurer).
        models_dir: the unit's trained models (``{P,V,A}.json``).
        out_path: ``tuning/{strategy}/seed{seed}.parquet``.
        strategy: a name of :data:`STRATEGIES`.
        seed: the run's seed.
        budget: measurements allowed.
        settings: the strategy's ``tuner_settings`` from the configuration.
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}: allowed {', '.join(STRATEGIES)}")
    missing = [name for name in MODEL_FILES if not (Path(models_dir) / name).exists()]
    if missing:
        raise FileNotFoundError(f"{models_dir}: missing {', '.join(missing)}")
    placeholder = strategy not in IMPLEMENTED
    if placeholder:
        logger.warning("placeholder: strategy %r is not implemented yet (ml2tuner.tuners has "
                       "not landed); running uniform random search instead and marking every "
                       "row placeholder_strategy = true", strategy)
    measured = read_table(measured_path, columns=["config_id", "status", "error_no",
                                                  "latency_us"])
    if not (measured["config_id"].to_numpy() == np.arange(len(measured))).all():
        raise ValueError(f"{measured_path}: config_id is not 0..{len(measured) - 1} in order")
    if budget > len(measured):
        logger.info("budget %d exceeds the space (%d configurations): capped", budget,
                    len(measured))
    frame = random_replay(measured, budget, seed)
    frame["placeholder_strategy"] = placeholder
    best = frame["best_latency_us"].iloc[-1] if len(frame) else float("nan")
    logger.info("%s seed %d: %d trials, %d valid, best %.1f us", strategy, seed, len(frame),
                int((frame["status"] == "valid").sum()), best)
    meta = derived_metadata(read_metadata(measured_path), "tune",
                            {"strategy": strategy, "seed": seed, "budget": budget,
                             "settings": dict(settings)})
    meta["strategy"], meta["seed"] = strategy, str(seed)
    meta["placeholder_strategy"] = "true" if placeholder else "false"
    write_table(frame, out_path, meta, TUNING_COLUMNS)
