"""``random``: uniform sampling without replacement (the VTA tutorial's baseline)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._base import Tuner, TunerSettings, register

__all__ = ["RandomTuner", "RandomSettings"]


@dataclass(frozen=True)
class RandomSettings(TunerSettings):
    """Random search has no options beyond the batch size."""


@register
class RandomTuner(Tuner):
    """Measures configurations in a uniformly random order, never twice."""

    name = "random"
    settings_class = RandomSettings

    def _propose(self, n: int) -> np.ndarray:
        return self.random_rows(n)
