"""The template's knobs as a regular grid: the structure neighbourhood-based tuners walk on."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["KnobGrid"]

_MAX_DENSE_POINTS = 50_000_000


class KnobGrid:
    """The template's knobs as a regular grid (AutoTVM's ``ConfigSpace`` index arithmetic).

    ``index[r, j]`` is the value index of knob ``j`` in row ``r``; a grid *point* is the
    mixed-radix number of those indices, first knob fastest. A table that is not a full product
    (another tool's space) simply has points without a row.
    """

    def __init__(self, names: list[str], index: np.ndarray, dims: np.ndarray) -> None:
        """Prefer :meth:`ml2tuner.space.Template.knob_grid`, which builds it from the template.

        Args:
            names: the knobs, in the template's order.
            index: ``(rows, knobs)`` value index of every row.
            dims: number of values of each knob.
        """
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
    def from_values(cls, values: dict[str, Sequence[Any]], config_ids: np.ndarray) -> KnobGrid:
        """The grid of rows ``config_ids`` of a template whose knobs take ``values``.

        ``config_id`` is the template's mixed-radix index, first knob fastest
        (:meth:`~ml2tuner.space.Template.config_id`). On the grid, a knob's values are in
        ascending order (``[outer, inner]`` splits compared outer first), the order the
        tuners' steps and random walks have always used.

        Args:
            values: each knob's allowed values, in the template's order.
            config_ids: the ``config_id`` of each row of the space table.
        """
        ids = np.asarray(config_ids, np.int64)
        index, dims, radix = [], [], 1
        for name_values in values.values():
            n = len(name_values)
            position = (ids // radix) % n  # the value's position in the template's list
            order = sorted(range(n), key=lambda i: name_values[i])
            rank = np.empty(n, np.int64)
            rank[order] = np.arange(n)
            index.append(rank[position])
            dims.append(n)
            radix *= n
        return cls(list(values), np.stack(index, axis=1), np.array(dims))

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
