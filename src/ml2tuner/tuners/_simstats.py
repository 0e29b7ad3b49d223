"""``simstats``: tune on a predictor of the counting pass's statistics (Pelke et al.).

Every configuration the compiler accepted has counting-pass statistics
(:mod:`ml2tuner.vta.counting`), computed without any measurement on the target. The strategy:

1. measures ``n_init`` random configurations among those with a stream (the compiler refused
   the others, which needs no measurement to know);
2. fits a predictor of latency from the statistics (:mod:`ml2tuner.models.simstats`, family
   ``predictor``) on the valid measurements so far, ranks every unmeasured configuration by
   its prediction, and measures the fastest-predicted ``batch_size`` among those a validity
   classifier on the same statistics (XGBoost, trained on every measurement) thinks valid with
   probability ≥ ``v_threshold`` (if fewer than a batch pass, the most probably valid);
3. refits both on what it measured, and repeats. Each proposal's predicted latency (µs) is
   logged as its ``p_score``, its probability of validity as its ``v_prob``.

Pelke et al.'s implementations all run; on VTA most configurations of a space fail (races,
overruns: a third to four fifths of the default and test spaces), and the latency predictor,
trained on valid runs only, cannot tell. The classifier is the smallest addition that lets the
ranking skip what the measurements so far show to fail.

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
* ``v_threshold=0.5`` — the Bayes decision for "valid" with equal costs of a wasted measurement
  and a missed valid configuration (as ``ml2tuner``'s V).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..models.simstats import FAMILIES, make_predictor
from ..models.xgb import ModelSettings, XGBModel
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
        v_threshold: the validity classifier's minimum probability of validity.
        v_rounds: boosting rounds of the validity classifier.
    """

    batch_size: int = 8
    n_init: int = 16
    predictor: str = "mlr"
    params: Mapping[str, Any] | None = None
    v_threshold: float = 0.5
    v_rounds: int = 50

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.n_init < 0:
            raise ValueError("n_init must be ≥ 0")
        if not 0 <= self.v_threshold <= 1 or self.v_rounds < 1:
            raise ValueError("need 0 ≤ v_threshold ≤ 1 and v_rounds ≥ 1")
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
        x = self.space.statistics_x(candidates)
        model = make_predictor(self.settings.predictor, self.settings.params, self.seed)
        predicted = model.fit(self.space.statistics_x(rows), latency).predict(x)
        valid = self._validity(x)
        keep = np.flatnonzero(valid >= self.settings.v_threshold)
        if len(keep) < n:  # too few pass: the most probably valid, fastest first among equals
            keep = np.lexsort((predicted, -valid))[:n]
        best = keep[np.argsort(predicted[keep], kind="stable")[:n]]
        self.record(candidates[best], p=predicted[best], v=valid[best])
        return candidates[best]

    def _validity(self, x: np.ndarray) -> np.ndarray:
        """Probability that each row of statistics ``x`` is valid (constant while one class)."""
        labels = self.hist_valid.astype(np.float64)
        if labels.min() == labels.max():
            return np.full(len(x), labels[0])
        settings = ModelSettings(
            objective="binary:logistic", num_boost_round=self.settings.v_rounds
        )
        model = XGBModel(settings, seed=self.seed)
        model.fit(self.space.statistics_x(self.hist_rows), labels)
        return model.predict(x)
