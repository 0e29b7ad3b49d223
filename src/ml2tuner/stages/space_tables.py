"""Build the tables of a (small) space in memory: enumerate, compile, simulate (and count).

The stages' own builders (:mod:`ml2tuner.stages.enumerate`, ``.compile``, ``.simulate``) make
the rows, and the tables get the column types of ``space.parquet`` /
``compiled.parquet`` / ``measured.parquet`` (docs/artifacts.md) as if read back from Parquet —
without files or metadata: for tests, benchmarks and quick experiments. The workflow's stages
write the real, sharded, cached tables.
"""

from __future__ import annotations

import pandas as pd
import pyarrow as pa

from ..vta.target import Target
from ..vta.workload import Conv2D
from ..workflow.columns import (
    Column,
    compiled_columns,
    measured_columns,
    space_columns,
    statistics_columns,
)
from ..workflow.config import Unit
from ..workflow.tables import arrow_schema
from .compile import compiled_frame
from .enumerate import space_frame
from .simulate import simulate_frames

__all__ = ["space_table", "measure_space", "measure_space_statistics"]


def _typed(frame: pd.DataFrame, columns: list[Column]) -> pd.DataFrame:
    """``frame`` with the declared column types, exactly as ``read_table`` would return it."""
    return pa.Table.from_pandas(
        frame[[name for name, _ in columns]], schema=arrow_schema(columns), preserve_index=False
    ).to_pandas()


def space_table(workload: Conv2D, target: Target, template: str) -> pd.DataFrame:
    """``space.parquet``'s columns: ``config_id``, ``knobs_json``, one column per knob value."""
    return _typed(
        space_frame(Unit(target, workload, template)), space_columns(template, workload, target)
    )


def measure_space(
    workload: Conv2D, target: Target, template: str
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Enumerate, compile and simulate every configuration.

    Returns:
        ``(space, compiled, measured)`` tables.
    """
    return measure_space_statistics(workload, target, template)[:3]


def measure_space_statistics(
    workload: Conv2D, target: Target, template: str
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Enumerate, compile, simulate and count every configuration.

    Returns:
        ``(space, compiled, measured, statistics)`` tables (``statistics``: ``simstats.parquet``).
    """
    unit = Unit(target, workload, template)
    space = space_table(workload, target, template)
    compiled = _typed(compiled_frame(unit, space), compiled_columns())
    measured, statistics = simulate_frames(unit, space, compiled)
    return (
        space,
        compiled,
        _typed(measured, measured_columns()),
        _typed(statistics, statistics_columns()),
    )
