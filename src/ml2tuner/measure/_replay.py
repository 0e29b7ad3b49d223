"""Replay measurements from a table (``measured.parquet``): exact, because the simulator is."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._base import RESULT_COLUMNS, Measurer

__all__ = ["ReplayMeasurer"]


class ReplayMeasurer(Measurer):
    """Looks up each configuration in a measured table.

    Args:
        measured: a ``measured.parquet`` table (one row per ``config_id``).
    """

    name = "replay"

    def __init__(self, measured: pd.DataFrame) -> None:
        missing = [c for c in RESULT_COLUMNS if c not in measured.columns]
        if missing:
            raise ValueError(f"measured table lacks column(s) {', '.join(missing)}")
        if measured["config_id"].duplicated().any():
            raise ValueError("measured table has duplicate config_id")
        self._table = measured[list(RESULT_COLUMNS)].set_index("config_id")

    def _measure(self, config_ids: np.ndarray) -> pd.DataFrame:
        present = self._table.index.intersection(config_ids)
        return self._table.loc[present].reset_index()
