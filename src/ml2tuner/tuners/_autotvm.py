"""``autotvm``: a re-implementation of AutoTVM's ``XGBTuner`` as TVM ships it.

Three parts, as in ``autotvm/tuner/``:

* :class:`AutoTVMCostModel` (``XGBoostCostModel`` with ``feature_type="knob"``): the knob values
  as features; labels are throughput normalised by its maximum, failures 0; TVM's booster
  parameters (depth 3, eta 0.3, gamma 1e-4, …); up to 8000 rounds with early stopping after 20
  rounds without improvement of the *average recall@plan_size* curve on the training set.
* :class:`~ml2tuner.tuners._sa.SimulatedAnnealingOptimizer` (``n_iter`` 500, ``parallel_size``
  128, ``early_stop`` 50, persistent chains).
* :class:`AutoTVMTuner` (``ModelBasedTuner``): the first ``plan_size`` measurements are random
  (the model is not trained yet); every ``plan_size`` new measurements the model is refitted
  and SA plans the next ``plan_size`` configurations; the last ``int(0.05 * plan_size)`` of each
  plan are drawn at random instead (ε-greedy).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    import xgboost as xgb

from ..models.xgb import CostModel
from ._base import Tuner, TunerSettings, register
from ._sa import SASettings, SimulatedAnnealingOptimizer

__all__ = ["AutoTVMTuner", "AutoTVMSettings", "AutoTVMCostModel", "average_recall"]

# autotvm/tuner/xgboost_cost_model.py: XGBoostCostModel.__init__
TVM_XGB_PARAMS = {
    "max_depth": 3,
    "gamma": 0.0001,
    "min_child_weight": 1,
    "subsample": 1.0,
    "eta": 0.3,
    "lambda": 1.0,
    "alpha": 0,
}
LOSS_OBJECTIVES = {"rank": "rank:pairwise", "reg": "reg:squarederror"}


def average_recall(labels: np.ndarray, preds: np.ndarray, n: int) -> float:
    """TVM's ``xgb_average_recalln_curve_score``: mean of the first ``n`` recall-curve points.

    ``curve[i] = #{j < i : true rank of the j-th best prediction ≤ i} / (i + 1)`` (TVM's
    ``recall_curve``, including its ``[:i]``).
    """
    trials = np.argsort(preds, kind="stable")[::-1]
    values = labels[trials]
    order = np.argsort(-values, kind="stable")
    ranks = np.empty(len(values), np.int64)
    ranks[order] = np.arange(1, len(values) + 1)
    m = min(n, len(ranks))
    i = np.arange(m)
    hits = (ranks[None, :m] <= i[:, None]) & (np.arange(m)[None, :] < i[:, None])
    curve = hits.sum(axis=1) / (i + 1)
    return float(curve.sum() / n)


class AutoTVMCostModel(CostModel):
    """TVM's ``XGBoostCostModel`` (knob features) trained with its recall early stopping.

    Args:
        loss_type: ``"rank"`` or ``"reg"``.
        plan_size: ``n`` of the recall@n stopping metric.
        rng: the owning tuner's generator (row shuffling and booster seed).
        nthread: XGBoost threads.
    """

    max_rounds = 8000
    stopping_rounds = 20

    def __init__(
        self, loss_type: str, plan_size: int, rng: np.random.Generator, nthread: int = 1
    ) -> None:
        self.params = {
            **TVM_XGB_PARAMS,
            "objective": LOSS_OBJECTIVES[loss_type],
            "nthread": nthread,
            "verbosity": 0,
        }
        self.plan_size = plan_size
        self.rng = rng
        self.booster: xgb.Booster | None = None

    @property
    def fitted(self) -> bool:
        return self.booster is not None

    def fit(self, x: np.ndarray, y: np.ndarray) -> None:
        import xgboost as xgb  # on use (ml2tuner.models.xgb says why)

        y = np.asarray(y, np.float64)
        y = y / max(float(y.max()), 1e-8)
        index = self.rng.permutation(len(x))
        x, y = np.asarray(x, np.float32)[index], y[index]
        dtrain = xgb.DMatrix(x, label=y, nthread=self.params["nthread"])
        params = {**self.params, "seed": int(self.rng.integers(2**31))}
        booster = xgb.Booster(params, [dtrain])
        best, best_round = -np.inf, 0
        for round_ in range(self.max_rounds):
            booster.update(dtrain, round_)
            score = average_recall(y, booster.inplace_predict(x), self.plan_size)
            if score > best:
                best, best_round = score, round_
            elif round_ - best_round >= self.stopping_rounds:
                break
        self.booster = booster

    def predict(self, x: np.ndarray) -> np.ndarray:
        if self.booster is None:
            raise RuntimeError("predict before fit")
        return self.booster.inplace_predict(np.asarray(x, np.float32)).astype(np.float64)


@dataclass(frozen=True)
class AutoTVMSettings(TunerSettings):
    """AutoTVM's ``XGBTuner`` defaults.

    Attributes:
        batch_size: measurements per step (AutoTVM's ``n_parallel``; it only changes how
            proposals are grouped, the model refits every ``plan_size`` measurements).
        plan_size: measurements between refits and length of each SA plan.
        loss_type: ``"rank"`` (``rank:pairwise``, the VTA tutorial's choice) or ``"reg"``.
        epsilon: share of each plan drawn at random (``int(epsilon * plan_size)`` trials).
        n_iter, parallel_size, early_stop, temp, persistent: simulated annealing.
        nthread: XGBoost threads.
    """

    batch_size: int = 8
    plan_size: int = 64
    loss_type: str = "rank"
    epsilon: float = 0.05
    n_iter: int = 500
    parallel_size: int = 128
    early_stop: int = 50
    temp: tuple[float, float] = (1.0, 0.0)
    persistent: bool = True
    nthread: int = 1

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.loss_type not in LOSS_OBJECTIVES:
            raise ValueError(f"loss_type {self.loss_type!r}: allowed rank, reg")
        if self.plan_size < 1 or self.parallel_size < 1 or self.n_iter < 0:
            raise ValueError("plan_size and parallel_size must be ≥ 1, n_iter ≥ 0")
        if not 0 <= self.epsilon <= 1:
            raise ValueError("epsilon must be in [0, 1]")


@register
class AutoTVMTuner(Tuner):
    """AutoTVM's ``XGBTuner`` (see the module docstring)."""

    name = "autotvm"
    settings_class = AutoTVMSettings

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        s = self.settings
        self.cost_model = AutoTVMCostModel(s.loss_type, s.plan_size, self.rng, s.nthread)
        self.optimizer = SimulatedAnnealingOptimizer(
            self.space.grid,
            SASettings(s.n_iter, tuple(s.temp), s.persistent, s.parallel_size, s.early_stop),
            self.rng,
        )
        self.trials: list[int] = []
        self.trial_pt = 0
        self.train_ct = 0
        self.scores: np.ndarray | None = None  # the current model's score of every row

    # ModelBasedTuner.next_batch
    def _propose(self, n: int) -> np.ndarray:
        n_random_tail = int(self.settings.epsilon * self.settings.plan_size)
        chosen: list[int] = []
        while len(chosen) < n:
            while self.trial_pt < len(self.trials) and self.taken[self.trials[self.trial_pt]]:
                self.trial_pt += 1
            if self.trial_pt >= len(self.trials) - n_random_tail:
                row = int(self.random_rows(1)[0])
            else:
                row = self.trials[self.trial_pt]
            chosen.append(row)
            self.taken[row] = True  # AutoTVM's visited set; the base class sets it again
        rows = np.array(chosen, np.int64)
        self.taken[rows] = False
        if self.scores is not None:
            self.record(rows, p=self.scores[rows])
        return rows

    # ModelBasedTuner.update
    def _observe(self, rows: np.ndarray, results: pd.DataFrame) -> None:
        if not self._should_train():
            return
        x = self.space.knob_x[self.hist_rows]
        y = np.nan_to_num(self.hist_thr, nan=0.0)  # failures are scored 0
        self.cost_model.fit(x, y)
        self.scores = self.cost_model.predict(self.space.knob_x)
        exclusive = set(np.flatnonzero(self.taken).tolist())
        self.trials = self.optimizer.find_maximums(
            lambda r: self.scores[r], self.settings.plan_size, exclusive
        )
        self.trial_pt = 0
        self.train_ct += 1

    def _should_train(self) -> bool:
        """AutoTVM refits every ``plan_size`` samples once any succeeded (``flops_max > 0``)."""
        enough = len(self.hist_rows) >= self.settings.plan_size * (self.train_ct + 1)
        return enough and bool(self.hist_valid.any())
