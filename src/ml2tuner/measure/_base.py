"""The :class:`Measurer` role: turn configuration ids into measurement results."""

from __future__ import annotations

import abc
from collections.abc import Sequence

import numpy as np
import pandas as pd

__all__ = ["Measurer", "RESULT_COLUMNS", "empty_results"]

# Columns of every measurer's result table, in this order (types as measured.parquet).
RESULT_COLUMNS: dict[str, str] = {
    "config_id": "int64",
    "status": "string",
    "error_no": "int64",
    "error_kind": "string",
    "cycles": "int64",
    "latency_us": "float64",
}


def empty_results() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in RESULT_COLUMNS.items()})


class Measurer(abc.ABC):
    """Measures configurations of one space (a replayed table, the simulator, a board).

    A measurer does not count or deduplicate: the tuning driver owns the budget.
    """

    name: str

    @abc.abstractmethod
    def _measure(self, config_ids: np.ndarray) -> pd.DataFrame:
        """Results of ``config_ids`` (any row order; at least :data:`RESULT_COLUMNS`)."""

    def measure(self, config_ids: Sequence[int]) -> pd.DataFrame:
        """Measure ``config_ids``.

        Returns:
            one row per requested id, in request order, with exactly :data:`RESULT_COLUMNS`.
        Raises:
            KeyError: an id is not in the space.
        """
        ids = np.asarray(list(config_ids), np.int64)
        if ids.size == 0:
            return empty_results()
        raw = self._measure(ids)
        out = raw.set_index("config_id").reindex(ids)
        if out["status"].isna().any():
            missing = ids[out["status"].isna().to_numpy()]
            raise KeyError(f"{self.name}: configuration(s) not in the space: {missing[:10]}")
        out = out.reset_index()
        return pd.DataFrame({c: out[c].astype(t) for c, t in RESULT_COLUMNS.items()})
