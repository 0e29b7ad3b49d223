"""The tuners' view of a search space: rows, knob grid and feature matrices.

Tuners work on row numbers ``0..n-1`` (rows of ``space.parquet`` sorted by ``config_id``) and
hand ``config_id`` values to the outside world.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd

from ..models.features import FEATURE_SETS, category_code, feature_table, knob_columns

__all__ = ["TuningSpace", "KnobGrid"]

_MAX_DENSE_POINTS = 50_000_000


class KnobGrid:
    """The template's knobs as a regular grid (AutoTVM's ``ConfigSpace`` index arithmetic).

    ``index[r, j]`` is the value index of knob ``j`` in row ``r``; a grid *point* is the
    mixed-radix number of those indices, first knob fastest. A table that is not a full product
    (another tool's space) simply has points without a row.
    """

    def __init__(self, names: list[str], index: np.ndarray, dims: np.ndarray) -> None:
        self.names = names
        self.index = index.astype(np.int64)
        self.dims = dims.astype(np.int64)
        self.radix = np.concatenate([[1], np.cumprod(self.dims)[:-1]]).astype(np.int64)
        points = self.index @ self.radix
        total = int(np.prod(self.dims.astype(float)))
        if total <= _MAX_DENSE_POINTS:
            self._dense = np.full(total, -1, np.int64)
            self._dense[points] = np.arange(len(points))
            self._sparse: dict[int, int] | None = None
        else:
            self._dense = None
            self._sparse = dict(zip(points.tolist(), range(len(points)), strict=True))

    @classmethod
    def from_space(cls, space: pd.DataFrame) -> KnobGrid:
        """Group knob columns into template knobs (``tile_h`` ← ``tile_h_outer/inner``)."""
        columns = knob_columns(space)
        groups = _knob_groups(space, columns)
        index, dims = [], []
        for cols in groups.values():
            values = space[cols].to_numpy(np.int64)
            _, inverse = np.unique(values, axis=0, return_inverse=True)
            inverse = inverse.reshape(-1)
            index.append(inverse)
            dims.append(int(inverse.max()) + 1 if len(inverse) else 1)
        return cls(list(groups), np.stack(index, axis=1), np.array(dims))

    def rows_of_points(self, points: np.ndarray) -> np.ndarray:
        """Row of each point, -1 where the table has none."""
        if self._dense is not None:
            return self._dense[points]
        return np.array([self._sparse.get(int(p), -1) for p in points], np.int64)

    def rows_of_index(self, index: np.ndarray) -> np.ndarray:
        return self.rows_of_points(np.asarray(index, np.int64) @ self.radix)

    def neighbours(self, rows: np.ndarray) -> np.ndarray:
        """Distinct rows one grid step (±1 value index in one knob) from any of ``rows``."""
        idx = self.index[np.asarray(rows, np.int64)]
        steps = []
        for j in range(len(self.dims)):
            for delta in (-1, 1):
                cand = idx.copy()
                cand[:, j] += delta
                inside = (cand[:, j] >= 0) & (cand[:, j] < self.dims[j])
                steps.append(self.rows_of_index(cand[inside]))
        found = np.concatenate(steps) if steps else np.empty(0, np.int64)
        return np.unique(found[found >= 0])

    def random_walk(
        self, rows: np.ndarray, rng: np.random.Generator, max_tries: int = 100
    ) -> np.ndarray:
        """AutoTVM's ``random_walk``: each row moves to a row differing in one random knob.

        Redraws (knob, value) until the value differs and the point exists in the table, as
        ``ConfigSpace.random_walk`` does; a row with no neighbour stays where it is.
        """
        rows = np.asarray(rows, np.int64)
        out = rows.copy()
        movable = self.dims > 1
        if not movable.any():
            return out
        pending = np.arange(len(rows))
        old = self.index[rows]
        for _ in range(max_tries):
            if pending.size == 0:
                break
            knob = rng.integers(0, len(self.dims), size=pending.size)
            value = rng.integers(0, self.dims[knob])
            cand = old[pending].copy()
            cand[np.arange(pending.size), knob] = value
            new_rows = self.rows_of_index(cand)
            ok = (value != old[pending, knob]) & (new_rows >= 0)
            out[pending[ok]] = new_rows[ok]
            pending = pending[~ok]
        return out


def _knob_groups(space: pd.DataFrame, columns: list[str]) -> dict[str, list[str]]:
    """Template knob → its columns, from the keys of ``knobs_json`` (else one per column)."""
    if "knobs_json" in space.columns and len(space):
        try:
            keys = list(json.loads(str(space["knobs_json"].iloc[0])))
        except (ValueError, TypeError):
            keys = []
        groups = {}
        for key in keys:
            cols = [c for c in columns if c == key or c in (f"{key}_outer", f"{key}_inner")]
            if cols:
                groups[key] = cols
        if sorted(c for cols in groups.values() for c in cols) == sorted(columns):
            return groups
    return {c: [c] for c in columns}


class TuningSpace:
    """A space's configurations and features, as tuners need them.

    Args:
        space: ``space.parquet``.
        layer: the layer (Conv2D or its fields).
        target: the target (Target or its parameters).
        compiled: ``compiled.parquet`` (hidden features for A, compile status); optional.
        compiler: ``(workload, target, template)`` to compile on demand when ``compiled`` is
            not given (hidden features of only the configurations a tuner asks about).
    """

    def __init__(
        self,
        space: pd.DataFrame,
        layer: Any,
        target: Any,
        compiled: pd.DataFrame | None = None,
        *,
        compiler: tuple[Any, Any, str] | None = None,
    ) -> None:
        space = space.sort_values("config_id", kind="stable").reset_index(drop=True)
        if space["config_id"].duplicated().any():
            raise ValueError("space has duplicate config_id")
        self.config_ids = space["config_id"].to_numpy(np.int64)
        self.n = len(space)
        self.knob_names = knob_columns(space)
        self.knobs = space[self.knob_names].reset_index(drop=True)
        self.grid = KnobGrid.from_space(space)
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
        self._compiler = compiler if compiled is None else None
        if self._compiler is not None:
            from ..vta.compiler import HIDDEN_FEATURES

            self.hidden_names = [f"h_{h}" for h in HIDDEN_FEATURES]
            self._hidden_cache: dict[int, np.ndarray] = {}
            self._configs: list[dict] | None = None
        if self.config_ids.size and np.array_equal(self.config_ids, np.arange(self.n)):
            self._row_of_id: dict[int, int] | None = None
        else:
            self._row_of_id = dict(zip(self.config_ids.tolist(), range(self.n), strict=True))

    @property
    def has_hidden(self) -> bool:
        return self._hidden is not None or self._compiler is not None

    def rows(self, config_ids: Any) -> np.ndarray:
        """Rows of ``config_ids`` (KeyError for an id not in the space)."""
        ids = np.asarray(config_ids, np.int64).reshape(-1)
        if self._row_of_id is None:
            if ids.size and (ids.min() < 0 or ids.max() >= self.n):
                raise KeyError(f"config_id out of range 0..{self.n - 1}")
            return ids
        return np.array([self._row_of_id[int(i)] for i in ids], np.int64)

    def hidden_x(self, rows: np.ndarray) -> np.ndarray:
        """Hidden features of ``rows`` (compiling them first when compiling on demand)."""
        if self._hidden is not None:
            return self._hidden[rows]
        if self._compiler is None:
            raise ValueError("this space has no hidden features (no compiled table)")
        return (
            np.stack([self._compile_hidden(int(r)) for r in rows])
            if len(rows)
            else np.empty((0, len(self.hidden_names)), np.float32)
        )

    def full_x(self, rows: np.ndarray) -> np.ndarray:
        """``config+hidden`` features (model A) of ``rows``."""
        return np.hstack([self.config_x[rows], self.hidden_x(rows)])

    @property
    def full_names(self) -> list[str]:
        return self.config_names + self.hidden_names

    def _compile_hidden(self, row: int) -> np.ndarray:
        if row not in self._hidden_cache:
            from ..space.templates import get_template
            from ..vta.compiler import compile_conv2d

            workload, target, template = self._compiler
            if self._configs is None:
                self._configs = get_template(template).enumerate(workload, target)
            knobs = self._configs[int(self.config_ids[row])]
            hidden = compile_conv2d(workload, target, template, knobs).hidden
            self._hidden_cache[row] = np.array(
                [
                    category_code(v) if isinstance(v, str) else float(v)
                    for v in (hidden[n[2:]] for n in self.hidden_names)
                ],
                np.float32,
            )
        return self._hidden_cache[row]
