"""``simstats``: tune on a predictor of the counting pass's statistics (Pelke et al.).

Every configuration the compiler accepted has counting-pass statistics
(:mod:`ml2tuner.vta.counting`), computed without any measurement on the target. The strategy:

1. measures ``n_init`` random configurations among those with a stream (the compiler refused
   the others, which needs no measurement to know);
2. fits a predictor of latency from the statistics (:mod:`ml2tuner.models.simstats`, family
   ``predictor``) on the valid measurements so far, ranks every unmeasured configuration by
   its prediction, and measures the fastest-predicted ``batch_size``;
3. refits on what it measured, and repeats. Each proposal's predicted latency (µs) is logged
   as its ``p_score``.

Defaults and why:

* ``predictor="mlr"`` with the family's default parameters (a near-unpenalised linear
  regression of log latency on log statistics) — the statistics act on time through sums of
  bytes and work at fixed rates, which a linear model of logs captures from few samples; it
  refits in about a millisecond. The offline stage compares the families (``docs/report.md``).
* ``n_init=16`` — the predictor has 34 inputs but a ridge fit needs no more rows than that to
  rank well; 16 is Pelke's "small sample" scale (3 % of the default spaces' valid
  configurations is 10–40) and leaves most of the budget to the predictor.
* ``batch_size=8`` — AutoTVM's ``n_parallel``: a batch is what parallel simulators measure at
  once (``LiveMeasurer(n_workers=...)``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..models.simstats import FAMILIES, make_predictor
from ._base import Tuner, TunerSettings, register

__all__ = ["SimstatsTuner", "SimstatsTunerSettings"]

# Fewest valid measurements the predictor is fitted on; below, the proposals stay random.
_MIN_VALID = 3


@dataclass(frozen=True)
class SimstatsTunerSettings(TunerSettings):
    """Options of the ``simstats`` strategy (defaults justified in the module docstring).

    Attributes:
        batch_size: configurations measured per step.
        n_init: random measurements before the predictor takes over.
        predictor: the predictor family (``ml2tuner.models.simstats.FAMILIES``).
        params: the family's hyper-parameters (e.g. the simstats stage's Optuna best);
            its defaults if None.
    """

    batch_size: int = 8
    n_init: int = 16
    predictor: str = "mlr"
    params: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.n_init < 0:
            raise ValueError("n_init must be ≥ 0")
        if self.predictor not in FAMILIES:
            raise ValueError(f"predictor {self.predictor!r}: allowed {', '.join(FAMILIES)}")


@register
class SimstatsTuner(Tuner):
    """Measures configurations in the order a statistics predictor ranks them, refitting it."""

    name = "simstats"
    settings_class = SimstatsTunerSettings

    def __init__(self, space, *, seed: int = 0, settings=None) -> None:
        super().__init__(space, seed=seed, settings=settings)
        if not space.has_statistics:
            raise ValueError("simstats needs the counting-pass statistics (TuningSpace statistics)")
        self._stream = space.has_stream()

    def _propose(self, n: int) -> np.ndarray:
        # Configurations without a stream are known failures: they come last, at random.
        candidates = np.flatnonzero(~self.taken & self._stream)
        if len(candidates) < n:
            rest = self.random_rows(n - len(candidates), exclude=candidates)
            return np.concatenate([candidates, rest])
        n_valid = int(self.hist_valid.sum())
        if len(self.hist_rows) < self.settings.n_init or n_valid < _MIN_VALID:
            return self.rng.choice(candidates, size=n, replace=False)
        rows = self.hist_rows[self.hist_valid]
        latency = 1.0 / self.hist_thr[self.hist_valid]
        model = make_predictor(self.settings.predictor, self.settings.params, self.seed)
        model.fit(self.space.statistics_x(rows), latency)
        predicted = model.predict(self.space.statistics_x(candidates))
        best = np.argsort(predicted, kind="stable")[:n]
        self.record(candidates[best], p=predicted[best])
        return candidates[best]
