"""The tuners' view of a search space: rows, knob grid and feature matrices.

Tuners work on row numbers ``0..n-1`` (rows of ``space.parquet`` sorted by ``config_id``) and
hand ``config_id`` values to the outside world.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..models.features import FEATURE_SETS, feature_table, knob_columns
from ..space.grid import KnobGrid
from ..space.templates import get_template
from ..vta.target import Target
from ..vta.workload import Conv2D

__all__ = ["TuningSpace", "KnobGrid"]


class TuningSpace:
    """A space's configurations and features, as tuners need them.

    Args:
        space: ``space.parquet``.
        layer: the layer.
        target: the target.
        compiled: ``compiled.parquet`` (hidden features for A, compile status); optional.
        template: the template the space was enumerated from; it gives the knob grid
            (:meth:`ml2tuner.space.Template.knob_grid`).
        statistics: ``simstats.parquet``, the counting pass's statistics (``s_*``) per
            configuration, which cost no measurement; optional (the ``simstats`` strategy).
    """

    def __init__(
        self,
        space: pd.DataFrame,
        layer: Conv2D,
        target: Target,
        compiled: pd.DataFrame | None = None,
        *,
        template: str,
        statistics: pd.DataFrame | None = None,
    ) -> None:
        space = space.sort_values("config_id", kind="stable").reset_index(drop=True)
        if space["config_id"].duplicated().any():
            raise ValueError("space has duplicate config_id")
        self.config_ids = space["config_id"].to_numpy(np.int64)
        self.n = len(space)
        self.knob_names = knob_columns(space)
        self.knobs = space[self.knob_names].reset_index(drop=True)
        self.grid = get_template(template).knob_grid(layer, target, self.config_ids)
        table = feature_table(space, layer, target, compiled)
        self.knob_x = table[[f"k_{c}" for c in self.knob_names]].to_numpy(np.float32)
        self.config_names = FEATURE_SETS["config"].columns(table)
        self.config_x = table[self.config_names].to_numpy(np.float32)
        self.hidden_names = [c for c in table.columns if c.startswith("h_")]
        self._hidden = (
            table[self.hidden_names].to_numpy(np.float32) if compiled is not None else None
        )
        self.compile_ok: np.ndarray | None = None
        if compiled is not None and "compile_status" in compiled.columns:
            status = compiled.set_index("config_id")["compile_status"].astype(str)
            self.compile_ok = (status.reindex(self.config_ids) == "ok").to_numpy()
        self.statistics_names: list[str] = []
        self._statistics: np.ndarray | None = None
        if statistics is not None:
            stats = statistics.set_index("config_id").reindex(self.config_ids)
            if stats.isna().any().any():
                raise ValueError("statistics lack configurations of the space")
            self.statistics_names = [c for c in stats.columns if c.startswith("s_")]
            self._statistics = stats[self.statistics_names].to_numpy(np.float64)
        if self.config_ids.size and np.array_equal(self.config_ids, np.arange(self.n)):
            self._row_of_id: dict[int, int] | None = None
        else:
            self._row_of_id = dict(zip(self.config_ids.tolist(), range(self.n), strict=True))

    @property
    def has_hidden(self) -> bool:
        return self._hidden is not None

    def rows(self, config_ids: Any) -> np.ndarray:
        """Rows of ``config_ids`` (KeyError for an id not in the space)."""
        ids = np.asarray(config_ids, np.int64).reshape(-1)
        if self._row_of_id is None:
            if ids.size and (ids.min() < 0 or ids.max() >= self.n):
                raise KeyError(f"config_id out of range 0..{self.n - 1}")
            return ids
        return np.array([self._row_of_id[int(i)] for i in ids], np.int64)

    @property
    def has_statistics(self) -> bool:
        return self._statistics is not None

    def statistics_x(self, rows: np.ndarray) -> np.ndarray:
        """Counting-pass statistics of ``rows`` (-1 throughout where no stream was compiled)."""
        if self._statistics is None:
            raise ValueError("this space has no counting-pass statistics (no simstats table)")
        return self._statistics[rows]

    def has_stream(self) -> np.ndarray:
        """Per row: the compiler produced a stream, so the counting pass has statistics."""
        return (self.statistics_x(np.arange(self.n)) >= 0).all(axis=1)

    def hidden_x(self, rows: np.ndarray) -> np.ndarray:
        """Hidden features of ``rows``."""
        if self._hidden is None:
            raise ValueError("this space has no hidden features (no compiled table)")
        return self._hidden[rows]

    def full_x(self, rows: np.ndarray) -> np.ndarray:
        """``config+hidden`` features (model A) of ``rows``."""
        return np.hstack([self.config_x[rows], self.hidden_x(rows)])

    @property
    def full_names(self) -> list[str]:
        return self.config_names + self.hidden_names
