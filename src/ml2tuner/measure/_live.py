"""Measure on demand: compile and simulate each configuration with the VTA model."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd

from ..space.templates import get_template
from ..vta.target import Target
from ..vta.workload import Conv2D
from ._base import RESULT_COLUMNS, Measurer

__all__ = ["LiveMeasurer"]


def _measure_one(workload: Conv2D, target: Target, template: str, knobs, config_id: int) -> dict:
    """One result row (module level, so a worker process can run it)."""
    from ..vta.harness import measure  # numba-compiled simulator: import when first used

    result = measure(workload, target, template, knobs)
    return {
        "config_id": config_id,
        "status": result.status,
        "error_no": result.error_no,
        "error_kind": result.error_kind,
        "cycles": result.cycles,
        "latency_us": result.latency_us,
    }


class LiveMeasurer(Measurer):
    """Runs :func:`ml2tuner.vta.harness.measure` for every requested configuration.

    For spaces too large to pre-measure. ``config_id`` is the index in the template's
    enumeration (as in ``space.parquet``). Results are cached: asking twice costs once.

    With ``n_workers`` > 1 a batch runs on that many simulator processes at once (Pelke et al.'s
    "simulators in parallel"); the simulator is deterministic, so the results are those of one
    process, in request order. The processes start with the first batch and live until
    :meth:`close` (or the end of a ``with`` block); they are started by ``spawn``, which, unlike
    ``fork``, is safe in a parent that already runs threads (XGBoost, numba).

    Args:
        workload: the layer.
        target: the VTA target.
        template: the template name (a name of ``ml2tuner.space.TEMPLATES``).
        n_workers: simulator processes (1: measure in this process).
    """

    name = "live"

    def __init__(
        self, workload: Conv2D, target: Target, template: str, *, n_workers: int = 1
    ) -> None:
        if n_workers < 1:
            raise ValueError("n_workers must be ≥ 1")
        self.workload, self.target, self.template = workload, target, template
        self.n_workers = n_workers
        self._configs = get_template(template).enumerate(workload, target)
        self._cache: dict[int, dict] = {}
        self._pool: ProcessPoolExecutor | None = None

    def _measure(self, config_ids: np.ndarray) -> pd.DataFrame:
        known = [int(c) for c in config_ids if 0 <= int(c) < len(self._configs)]
        todo = list(dict.fromkeys(c for c in known if c not in self._cache))
        args = (
            [self.workload] * len(todo),
            [self.target] * len(todo),
            [self.template] * len(todo),
            [self._configs[c] for c in todo],
            todo,
        )
        if self.n_workers > 1 and len(todo) > 1:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    self.n_workers, mp_context=multiprocessing.get_context("spawn")
                )
            # a few chunks per process: fewer round trips, still balanced across processes
            chunk = max(1, len(todo) // (4 * self.n_workers))
            results = self._pool.map(_measure_one, *args, chunksize=chunk)
        else:
            results = map(_measure_one, *args)
        for config_id, row in zip(todo, results, strict=True):
            self._cache[config_id] = row
        return pd.DataFrame([self._cache[c] for c in known], columns=list(RESULT_COLUMNS))

    def close(self) -> None:
        """Stop the simulator processes (a later batch starts them again)."""
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None

    def __enter__(self) -> LiveMeasurer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
