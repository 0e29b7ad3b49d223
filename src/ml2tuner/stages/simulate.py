"""Stage ``simulate``: measure a shard of compiled configurations on the timing simulator.

The simulator is deterministic, so a shard recompiles its configurations (cheap) instead of
passing programs between jobs. Configurations the compiler or the runtime refused are not run
again: their status comes from ``compiled.parquet``.

The same pass counts each stream with the instruction-accurate counting simulator
(:func:`ml2tuner.vta.counting.count_stream`, Pelke et al.'s cheap simulator) into a table of
its own (``simstats.parquet``): the decoded stream is in hand here, and compiling it again
elsewhere would cost more than counting it (about 0.1 ms a configuration).
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from ..workflow.columns import measured_columns, statistics_columns
from ..workflow.config import Unit
from ..workflow.progress import Progress
from ..workflow.tables import read_table, unit_metadata, write_table
from .enumerate import knobs_of

__all__ = [
    "measured_row",
    "failed_row",
    "statistics_row",
    "simulate_frames",
    "measured_frame",
    "run_simulate_shard",
]

logger = logging.getLogger(__name__)


def measured_row(config_id: int, measurement, counter_names) -> dict:
    """One ``measured.parquet`` row of a :class:`~ml2tuner.vta.harness.Measurement`."""
    ran = measurement.cycles >= 0
    return {
        "config_id": config_id,
        "status": measurement.status,
        "error_no": measurement.error_no,
        "error_kind": measurement.error_kind,
        "message": measurement.message,
        "cycles": int(measurement.cycles),
        "latency_us": float(measurement.latency_us) if ran else float("nan"),
        **{
            f"c_{name}": int(measurement.counters.get(name, -1)) if ran else -1
            for name in counter_names
        },
    }


def failed_row(config_id: int, status: str, error_kind: str, message: str, counter_names) -> dict:
    """A row for a configuration that never ran (compile or runtime error)."""
    from ..vta.harness import ERROR_NO

    return {
        "config_id": config_id,
        "status": status,
        "error_no": ERROR_NO[status],
        "error_kind": error_kind,
        "message": message,
        "cycles": -1,
        "latency_us": float("nan"),
        **{f"c_{name}": -1 for name in counter_names},
    }


def statistics_row(config_id: int, counts: dict[str, int] | None) -> dict:
    """One ``simstats.parquet`` row: the counting pass's statistics, -1 without a stream."""
    from ..vta.counting import STATISTIC_NAMES

    return {
        "config_id": config_id,
        **{f"s_{name}": -1 if counts is None else int(counts[name]) for name in STATISTIC_NAMES},
    }


def measured_frame(unit: Unit, space: pd.DataFrame, compiled: pd.DataFrame) -> pd.DataFrame:
    """Measure the configurations of ``space`` (rows aligned with ``compiled`` by config_id)."""
    return simulate_frames(unit, space, compiled)[0]


def simulate_frames(
    unit: Unit, space: pd.DataFrame, compiled: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Measure and count the configurations of ``space`` (aligned with ``compiled``).

    Returns:
        ``(measured, statistics)``: the rows of ``measured.parquet`` and ``simstats.parquet``.
    """
    from ..vta.compiler import compile_conv2d
    from ..vta.counting import count_stream
    from ..vta.harness import Workspace, run_compiled
    from ..vta.sim import COUNTER_NAMES

    merged = space[["config_id", "knobs_json"]].merge(
        compiled[["config_id", "compile_status", "error_kind", "message"]],
        on="config_id",
        how="left",
        validate="one_to_one",
    )
    if merged["compile_status"].isna().any():
        raise ValueError(f"{unit.path}: compiled.parquet lacks configurations of the space")
    progress = Progress(f"simulate {unit.path}", len(merged), logger)
    rows, statistics = [], []
    workspace = Workspace()  # each program is run and counted before the next compile
    for row in merged.itertuples(index=False):
        config_id = int(row.config_id)
        if row.compile_status != "ok":
            rows.append(
                failed_row(
                    config_id, row.compile_status, row.error_kind, row.message, COUNTER_NAMES
                )
            )
            statistics.append(statistics_row(config_id, None))
        else:
            program = compile_conv2d(
                unit.workload,
                unit.target,
                unit.template,
                knobs_of(row.knobs_json),
                workspace=workspace.emit,
            )
            if program.program is None:  # the compiler is deterministic: this is a bug
                raise RuntimeError(f"{unit.path}: config {config_id} compiled before, not now")
            measurement = run_compiled(unit.workload, unit.target, program, workspace=workspace.sim)
            rows.append(measured_row(config_id, measurement, COUNTER_NAMES))
            counts = count_stream(unit.target, program.program.executed()[0])
            statistics.append(statistics_row(config_id, counts))
        progress.advance()
    frame = pd.DataFrame(rows, columns=[name for name, _ in measured_columns()])
    counts = frame["status"].value_counts().to_dict()
    logger.info("simulate %s: %s", unit.path, ", ".join(f"{k} {v}" for k, v in counts.items()))
    return frame, pd.DataFrame(statistics, columns=[name for name, _ in statistics_columns()])


def run_simulate_shard(
    unit: Unit,
    space_path: str | Path,
    compiled_path: str | Path,
    bounds: tuple[int, int],
    out: str | Path,
    statistics_out: str | Path | None = None,
) -> None:
    """Write one shard: the configurations with ``start <= config_id < stop``.

    Args:
        statistics_out: where the shard's counting-pass statistics go (``simstats/shard{i}``);
            None counts nothing to keep.
    """
    start, stop = bounds
    space = read_table(space_path, "space", unit, ["config_id", "knobs_json"])
    shard = space[(space["config_id"] >= start) & (space["config_id"] < stop)]
    if len(shard) != stop - start:
        raise ValueError(
            f"{unit.path}: shard [{start}, {stop}) outside the space of {len(space)} configurations"
        )
    compiled = read_table(
        compiled_path, "compiled", unit, ["config_id", "compile_status", "error_kind", "message"]
    )
    logger.info("%s: shard config_id [%d, %d)", unit.path, start, stop)
    meta = unit_metadata(unit, "simulate", unit.section())
    meta["config_id_range"] = f"{start},{stop}"
    measured, statistics = simulate_frames(unit, shard, compiled)
    write_table(measured, out, "measured", meta, measured_columns())
    if statistics_out is not None:
        write_table(statistics, statistics_out, "simstats", meta, statistics_columns())
