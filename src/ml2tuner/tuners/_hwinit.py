"""``hwinit``: AutoTVM with Rieber et al.'s hardware-aware, validity-driven initialisation.

Rieber, Reiber, Bringmann, Fröning (2022) observe on VTA that most configurations are invalid,
that valid ones cluster on the knob grid, and that AutoTVM's random first plan, full of invalid
configurations scored 0, trains a poor first model. Their remedy changes only the
initialisation. Our reading of it:

* **hardware-aware**: configurations that the compiler's hardware checks reject (on-chip
  buffer capacity after thread duplication, DMA pattern, uop buffer — the ``compile_status``
  of ``compiled.parquet``, known without running anything) are not sampled;
* **validity-driven**: once a valid configuration is found, the initialisation samples its
  grid neighbours (±1 step of one knob) with probability ``neighbour_prob``, exploiting the
  clustering; otherwise it samples at random;
* the first model is trained once ``init_valid`` valid configurations (default
  ``plan_size``) have been measured (or after ``init_max`` measurements), and from then on the
  tuner is AutoTVM's ``XGBTuner`` unchanged (refit every ``plan_size`` measurements).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._autotvm import AutoTVMSettings, AutoTVMTuner
from ._base import register

__all__ = ["HWInitTuner", "HWInitSettings"]


@dataclass(frozen=True)
class HWInitSettings(AutoTVMSettings):
    """AutoTVM's settings plus the initialisation's.

    Attributes:
        init_valid: valid measurements to gather before the first fit (0: ``plan_size``).
        init_max: most measurements the initialisation may use (0: ``4 * plan_size``).
        neighbour_prob: probability that an initial sample is a grid neighbour of a valid one.
        static_check: skip configurations the compiler rejects (needs ``compiled.parquet``).
    """

    init_valid: int = 0
    init_max: int = 0
    neighbour_prob: float = 0.5
    static_check: bool = True

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.init_valid < 0 or self.init_max < 0:
            raise ValueError("init_valid and init_max must be ≥ 0")
        if not 0 <= self.neighbour_prob <= 1:
            raise ValueError("neighbour_prob must be in [0, 1]")


@register
class HWInitTuner(AutoTVMTuner):
    """AutoTVM's ``XGBTuner`` after a validity-driven initialisation (see the module doc)."""

    name = "hwinit"
    settings_class = HWInitSettings

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        s = self.settings
        self.init_valid = s.init_valid or s.plan_size
        self.init_max = s.init_max or 4 * s.plan_size
        self.init_end: int | None = None  # measurements when the first model was trained
        ok = self.space.compile_ok
        self.static_ok = ok if (s.static_check and ok is not None) else np.ones(self.space.n, bool)

    def _propose(self, n: int) -> np.ndarray:
        if self.init_end is not None:
            return super()._propose(n)
        chosen: list[int] = []
        valid_rows = self.hist_rows[self.hist_valid]
        frontier = self.space.grid.neighbours(valid_rows) if valid_rows.size else valid_rows
        for _ in range(n):
            allowed = ~self.taken & self.static_ok
            allowed[chosen] = False
            near = frontier[allowed[frontier]] if frontier.size else frontier
            if near.size and self.rng.random() < self.settings.neighbour_prob:
                chosen.append(int(self.rng.choice(near)))
            elif allowed.any():
                chosen.append(int(self.rng.choice(np.flatnonzero(allowed))))
            else:  # everything statically fine was tried: fall back to any free row
                chosen.append(int(self.random_rows(1, exclude=np.array(chosen, np.int64))[0]))
        return np.array(chosen, np.int64)

    def _should_train(self) -> bool:
        n, n_valid = len(self.hist_rows), int(self.hist_valid.sum())
        if self.init_end is None:
            if n_valid >= self.init_valid or (n >= self.init_max and n_valid > 0):
                self.init_end = n
                return True
            return False
        return n >= self.init_end + self.settings.plan_size * self.train_ct
