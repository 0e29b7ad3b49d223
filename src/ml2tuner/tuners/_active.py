"""``active``: ALT-style active learning (validity filter + uncertainty + diversity).

After ``n_init`` random measurements, each step:

1. a **filter** (XGBoost binary classifier, valid vs not, configuration features) removes
   configurations whose probability of being valid is below ``v_threshold``;
2. a **score predictor** — an ensemble of ``n_models`` XGBoost regressors on bootstrap
   resamples of the valid measurements (normalised throughput) — gives each remaining
   configuration a mean ``μ`` and an **uncertainty** ``σ`` (the ensemble's spread); the
   acquisition is ``μ + kappa·σ``;
3. **diversity**: from the ``pool_factor × batch_size`` best by acquisition, the batch is
   picked greedily, each next configuration maximising
   ``rank-normalised acquisition + diversity_weight × (distance to the chosen / max distance)``
   in standardised knob space, so a batch does not spend itself on near-duplicates.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..models.xgb import PAPER_PARAMS, ModelSettings, XGBModel
from ._base import Tuner, TunerSettings, register

__all__ = ["ActiveTuner", "ActiveSettings"]


@dataclass(frozen=True)
class ActiveSettings(TunerSettings):
    """Options of the active-learning tuner (see the module docstring)."""

    batch_size: int = 8
    n_init: int = 32
    n_models: int = 5
    kappa: float = 1.0
    v_threshold: float = 0.5
    pool_factor: int = 8
    diversity_weight: float = 0.5
    num_boost_round: int = 60
    max_pool: int = 100_000
    nthread: int = 1

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.n_models < 2:
            raise ValueError("n_models must be ≥ 2 (the uncertainty is their spread)")
        if self.n_init < 0 or self.pool_factor < 1 or self.max_pool < 1:
            raise ValueError("n_init ≥ 0, pool_factor ≥ 1, max_pool ≥ 1")
        if not 0 <= self.v_threshold <= 1:
            raise ValueError("v_threshold must be in [0, 1]")


@register
class ActiveTuner(Tuner):
    """ALT-style active learning (see the module docstring)."""

    name = "active"
    settings_class = ActiveSettings

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        x = self.space.knob_x
        std = x.std(axis=0)
        self.knob_z = (x - x.mean(axis=0)) / np.where(std > 0, std, 1.0)
        self.ensemble: list[XGBModel] = []
        self.filter: XGBModel | None = None
        self.filter_constant = 1.0

    def _propose(self, n: int) -> np.ndarray:
        s = self.settings
        if len(self.hist_rows) < s.n_init or not self.ensemble:
            return self.random_rows(n)
        free = self.free_rows()
        if len(free) > s.max_pool:
            free = np.sort(self.rng.choice(free, s.max_pool, replace=False))
        v = self._valid_prob(free)
        keep = v >= s.v_threshold
        if keep.sum() < n:
            keep = np.zeros(len(free), bool)
            keep[np.argsort(-v, kind="stable")[:n]] = True
        cand, v = free[keep], v[keep]
        preds = np.stack([m.predict(self.space.config_x[cand]) for m in self.ensemble])
        mu, sigma = preds.mean(axis=0), preds.std(axis=0)
        acq = mu + s.kappa * sigma
        pool = np.argsort(-acq, kind="stable")[: s.pool_factor * n]
        picked = self._diverse(cand[pool], acq[pool], n)
        lookup = {int(r): i for i, r in enumerate(cand)}
        idx = np.array([lookup[int(r)] for r in picked])
        self.record(picked, p=mu[idx], v=v[idx])
        return picked

    def _diverse(self, rows: np.ndarray, acq: np.ndarray, n: int) -> np.ndarray:
        """Greedy batch: acquisition (rank-normalised) plus distance to what is chosen."""
        quality = 1.0 - np.argsort(np.argsort(-acq, kind="stable"), kind="stable") / max(
            len(acq), 1
        )
        z = self.knob_z[rows]
        chosen = [int(np.argmax(quality))]
        dmin = np.linalg.norm(z - z[chosen[0]], axis=1)
        while len(chosen) < n:
            gain = quality + self.settings.diversity_weight * dmin / max(dmin.max(), 1e-12)
            gain[chosen] = -np.inf
            nxt = int(np.argmax(gain))
            chosen.append(nxt)
            dmin = np.minimum(dmin, np.linalg.norm(z - z[nxt], axis=1))
        return rows[chosen]

    def _valid_prob(self, rows: np.ndarray) -> np.ndarray:
        if self.filter is None:
            return np.full(len(rows), self.filter_constant)
        return self.filter.predict(self.space.config_x[rows])

    def _observe(self, rows: np.ndarray, results: pd.DataFrame) -> None:
        s = self.settings
        if len(self.hist_rows) < min(s.n_init, self.space.n):
            return
        if self.hist_valid.all() or not self.hist_valid.any():
            self.filter, self.filter_constant = None, float(self.hist_valid.all())
        else:
            self.filter = self._model("binary:logistic")
            self.filter.fit(self.space.config_x[self.hist_rows], self.hist_valid.astype(float))
        valid_rows, y = self.normalised_targets()
        if len(valid_rows) < 2:
            return
        self.ensemble = []
        for _ in range(s.n_models):
            boot = self.rng.integers(0, len(valid_rows), len(valid_rows))
            model = self._model("reg:squarederror")
            model.fit(self.space.config_x[valid_rows[boot]], y[boot])
            self.ensemble.append(model)

    def _model(self, objective: str) -> XGBModel:
        settings = ModelSettings(
            objective=objective,
            params=dict(PAPER_PARAMS),
            num_boost_round=self.settings.num_boost_round,
            nthread=self.settings.nthread,
        )
        return XGBModel(settings, seed=int(self.rng.integers(2**31)))
