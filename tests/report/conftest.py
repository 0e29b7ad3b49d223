"""A tiny experiment for the report tests: two 128-configuration units measured with the real VTA
model and trained with the real train stage, and hand-made trial logs of three strategies."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ml2tuner.stages import (
    run_compile,
    run_enumerate,
    run_merge,
    run_merge_statistics,
    run_simulate_shard,
    run_train,
)
from ml2tuner.workflow import Unit, read_metadata, read_table, write_table
from ml2tuner.workflow.columns import knob_names, tuning_columns
from ml2tuner.workflow.config import load_config
from ml2tuner.workflow.tables import derived_metadata

STRATEGIES = ("random", "autotvm", "ml2tuner")
SEEDS = (0, 1, 2)
BUDGET = 24
TINY_CONFIG = {
    "targets": ["pynq"],
    "layers": ["M", "N"],
    "templates": ["nestc"],
    "strategies": list(STRATEGIES),
    "seeds": list(SEEDS),
    "budget": BUDGET,
    "shard_size": 200,
    "layer_definitions": {
        "M": {"h": 4, "w": 4, "ic": 16, "oc": 16, "kernel": 3, "pad": 1},
        "N": {"h": 4, "w": 4, "ic": 16, "oc": 32, "kernel": 1, "pad": 0},
    },
}


def trial_order(measured: pd.DataFrame, strategy: str, seed: int) -> np.ndarray:
    """The configurations a hand-made run measures: random for ``random`` and ``autotvm``;
    ``ml2tuner`` tries valid configurations first (fewer invalid, faster to good latencies)."""
    rng = np.random.default_rng(1000 * seed + STRATEGIES.index(strategy))
    order = rng.permutation(len(measured))
    if strategy == "ml2tuner":
        valid = measured["status"].to_numpy()[order] == "valid"
        order = np.r_[order[valid], order[~valid]]
    return order[:BUDGET]


def write_trial_log(unit: Unit, unit_dir: Path, strategy: str, seed: int) -> Path:
    """A trial log in the tune stage's format and metadata, replayed on ``measured``."""
    measured = read_table(unit_dir / "measured.parquet", "measured", unit)
    space = read_table(unit_dir / "space.parquet", "space", unit)
    rows = measured.iloc[trial_order(measured, strategy, seed)].reset_index(drop=True)
    rows = rows.merge(space, on="config_id", how="left")
    latency = rows["latency_us"].where(rows["status"] == "valid")
    knobs = knob_names(unit.template, unit.workload, unit.target)
    frame = pd.DataFrame(
        {
            "trial": np.arange(len(rows)),
            "batch": np.arange(len(rows)),
            "config_id": rows["config_id"],
            **{name: rows[name] for name in knobs},
            "status": rows["status"],
            "error_no": rows["error_no"],
            "error_kind": rows["error_kind"],
            "latency_us": rows["latency_us"],
            "best_latency_us": latency.cummin().ffill(),
            "p_score": np.nan,
            "v_prob": np.nan,
            "a_score": np.nan,
            "tuner_wall_s": 0.001,
        }
    )
    meta = derived_metadata(
        read_metadata(unit_dir / "measured.parquet", "measured", unit),
        "tune",
        {"strategy": strategy, "seed": seed, "budget": BUDGET},
    )
    meta.update(strategy=strategy, seed=str(seed))
    path = unit_dir / "tuning" / strategy / f"seed{seed}.parquet"
    write_table(frame, path, "tuning", meta, tuning_columns(knobs))
    return path


@dataclass
class TinyExperiment:
    """Paths of the tiny experiment (``root`` holds ``results/...`` as the workflow lays it)."""

    root: Path
    units: list[Unit]
    unit_dirs: list[Path]
    tuning: list[Path]
    strategies: tuple[str, ...] = STRATEGIES
    seeds: tuple[int, ...] = SEEDS
    budget: int = BUDGET
    config: dict = field(default_factory=lambda: dict(TINY_CONFIG))

    @property
    def measured(self) -> list[Path]:
        return [d / "measured.parquet" for d in self.unit_dirs]

    @property
    def metrics(self) -> list[Path]:
        return [d / "models" / "metrics.parquet" for d in self.unit_dirs]


@pytest.fixture(scope="session")
def tiny_experiment(tmp_path_factory) -> TinyExperiment:
    cfg = load_config(TINY_CONFIG)
    root = tmp_path_factory.mktemp("report")
    unit_dirs, tuning = [], []
    for unit in cfg.units():
        d = root / "results" / unit.path
        run_enumerate(unit, d / "space.parquet")
        run_compile(unit, d / "space.parquet", d / "compiled.parquet")
        shard, stats = d / "measured" / "shard0.parquet", d / "simstats" / "shard0.parquet"
        run_simulate_shard(
            unit,
            d / "space.parquet",
            d / "compiled.parquet",
            cfg.shard_bounds(unit)[0],
            shard,
            stats,
        )
        run_merge(unit, [shard], d / "measured.parquet")
        run_merge_statistics(unit, [stats], d / "simstats.parquet")  # a tune input
        shard.unlink()
        stats.unlink()
        run_train(
            unit,
            d / "space.parquet",
            d / "compiled.parquet",
            d / "measured.parquet",
            d / "models",
            cfg.model.as_dict(),
            cfg.model.seed,
        )
        unit_dirs.append(d)
        tuning += [write_trial_log(unit, d, s, seed) for s in STRATEGIES for seed in SEEDS]
    return TinyExperiment(root, cfg.units(), unit_dirs, tuning)
