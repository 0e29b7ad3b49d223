"""Measure on demand: compile and simulate each configuration with the VTA model."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..space.templates import get_template
from ..vta.target import Target
from ..vta.workload import Conv2D
from ._base import RESULT_COLUMNS, Measurer

__all__ = ["LiveMeasurer"]


class LiveMeasurer(Measurer):
    """Runs :func:`ml2tuner.vta.harness.measure` for every requested configuration.

    For spaces too large to pre-measure. ``config_id`` is the index in the template's
    enumeration (as in ``space.parquet``). Results are cached: asking twice costs once.

    Args:
        workload: the layer.
        target: the VTA target.
        template: the template name (``nestc`` or ``autotvm``).
    """

    name = "live"

    def __init__(self, workload: Conv2D, target: Target, template: str) -> None:
        self.workload, self.target, self.template = workload, target, template
        self._configs = get_template(template).enumerate(workload, target)
        self._cache: dict[int, dict] = {}

    def _measure_one(self, config_id: int) -> dict:
        from ..vta.harness import measure  # numba-compiled simulator: import when first used

        result = measure(self.workload, self.target, self.template, self._configs[config_id])
        return {
            "config_id": config_id,
            "status": result.status,
            "error_no": result.error_no,
            "error_kind": result.error_kind,
            "cycles": result.cycles,
            "latency_us": result.latency_us,
        }

    def _measure(self, config_ids: np.ndarray) -> pd.DataFrame:
        rows = []
        for cid in (int(c) for c in config_ids):
            if not 0 <= cid < len(self._configs):
                continue
            if cid not in self._cache:
                self._cache[cid] = self._measure_one(cid)
            rows.append(self._cache[cid])
        return pd.DataFrame(rows, columns=list(RESULT_COLUMNS))
