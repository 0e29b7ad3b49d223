"""Stage ``merge``: simulation shards into ``measured.parquet`` (and the counting pass's
shards into ``simstats.parquet``), checking they tile the space."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from ..workflow.columns import measured_columns, statistics_columns
from ..workflow.config import Unit
from ..workflow.tables import read_table, unit_metadata, write_table

__all__ = ["merge_frames", "run_merge", "run_merge_statistics"]

logger = logging.getLogger(__name__)


def merge_frames(frames: Sequence[pd.DataFrame], space_size: int) -> pd.DataFrame:
    """Concatenate shards, sorted by ``config_id``; every id ``0..space_size-1`` exactly once."""
    merged = pd.concat(frames, ignore_index=True).sort_values("config_id", ignore_index=True)
    expected = pd.RangeIndex(space_size)
    if len(merged) != space_size or not (merged["config_id"].to_numpy() == expected).all():
        raise ValueError(
            f"shards hold {len(merged)} rows, not config_id 0..{space_size - 1} once each"
        )
    return merged


def run_merge(unit: Unit, shard_paths: Sequence[str | Path], out: str | Path) -> None:
    """Write ``measured.parquet`` from the unit's shard tables."""
    frames = [read_table(path, "measured", unit) for path in shard_paths]
    merged = merge_frames(frames, unit.space_size())
    counts = merged["status"].value_counts().to_dict()
    logger.info(
        "%s: merged %d shards, %d configurations: %s",
        unit.path,
        len(frames),
        len(merged),
        ", ".join(f"{k} {v}" for k, v in counts.items()),
    )
    meta = unit_metadata(unit, "simulate", unit.section())
    meta["n_shards"] = str(len(frames))
    write_table(merged, out, "measured", meta, measured_columns())


def run_merge_statistics(unit: Unit, shard_paths: Sequence[str | Path], out: str | Path) -> None:
    """Write ``simstats.parquet`` from the unit's counting-pass shard tables."""
    frames = [read_table(path, "simstats", unit) for path in shard_paths]
    merged = merge_frames(frames, unit.space_size())
    logger.info(
        "%s: merged %d statistics shards, %d configurations with a stream",
        unit.path,
        len(frames),
        int((merged["s_insn_count"] >= 0).sum()),
    )
    meta = unit_metadata(unit, "simulate", unit.section())
    meta["n_shards"] = str(len(frames))
    write_table(merged, out, "simstats", meta, statistics_columns())
