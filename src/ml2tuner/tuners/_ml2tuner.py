"""``ml2tuner``: multi-level models steer the search (Cha et al., ML²Tuner).

Each step, after ``n_random`` random measurements:

1. **P** (configuration features) scores every unmeasured configuration (a random pool of
   ``max_pool`` when the space is larger) and proposes its top ``n_candidates``;
2. **V** (same features) estimates each candidate's probability of being valid and drops those
   below ``v_threshold``; if fewer than a batch survive, V goes on down P's ranking of the pool
   and adds the next configurations it passes until a batch does (only if fewer than a batch
   pass in the whole pool are the most probably valid measured): V *filters out* what it
   predicts invalid, as the paper has it ("a validity prediction model to filter out invalid
   configurations", Cha et al., abstract);
3. **A** (configuration + the compiler's hidden features) re-ranks the survivors;
4. the top ``batch_size`` are measured (each slot is a random configuration instead with
   probability ``epsilon``), and P, V and A are retrained on everything measured so far.

P and A learn normalised throughput of **valid** measurements (the multi-level split: V owns
validity, so the performance models are not asked to also encode failure as "0 throughput");
V learns valid vs any failure from all measurements.

Defaults and why:

* ``batch_size=5`` — the paper's prototype ("5 new samples a step").
* ``n_random=32`` — the three models are refitted after every batch, so, unlike AutoTVM (which
  plans ``plan_size`` = 64 trials from each model), ml2tuner needs no full plan of random
  samples before its first model; every random sample is a likely failure (a third to two
  thirds of the default spaces are invalid), while too few starve V and P (with 8 the search
  collapses onto one region). 32 ≈ six batches, about ten examples of each class for V.
  Against 64 and 16 on zcu102 layers and seeds the workflow does not use, 32 needed fewer
  samples to come within 1 % of the optimum on three of four layers and measured fewer invalid
  configurations on all four (docs/models-and-tuners.md, ``benchmarks/ml2tuner_ablation.py``).
  The prototype's "first 100 random" is ``n_random: 100``; at the workflow's budget of 200 it
  spends half the run before any model acts.
* ``objective="rank:pairwise"`` with the paper's booster parameters — what the prototype used
  for P and A; only the order of the candidates matters to the tuner.
* ``n_candidates=64`` — AutoTVM's plan size: P's shortlist is as long as the list AutoTVM
  would measure from one model, which leaves V and A room to change the choice (≈13 batches)
  while keeping A's hidden features to the configurations P already likes.
* ``v_threshold=0.5`` — the Bayes decision for "valid" with equal costs of a wasted
  measurement and a missed valid configuration; lower it to explore more.
* ``epsilon=0.05`` — AutoTVM's 5 % random share, the exploration the poster credits.

Where this departs from the authors' prototype (etri/nest-compiler
``utils/autotuning/xgboost_rank.py``, docs/nestc.md): ``n_random`` 32 instead of its 100,
``epsilon`` 0.05 where it takes only model picks, V and A (the prototype has one ranking
model), and a refit from scratch on 100 rounds where it trains up to 300 rounds, stopping early
on a held-out test set (which a tuner does not have). ``preset: prototype``
(:data:`PRESETS`) restores the prototype's numbers: 5 per step, the first 100 random, no
ε-random slots; options given beside it override it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..models.xgb import PAPER_PARAMS, ModelSettings, XGBModel
from ._base import Tuner, TunerSettings, register

__all__ = ["ML2Tuner", "ML2TunerSettings", "PRESETS"]

# Named sets of options; ``preset: prototype`` is the authors' prototype's loop.
PRESETS: dict[str, dict[str, Any]] = {
    "prototype": {"batch_size": 5, "n_random": 100, "epsilon": 0.0},
}


@dataclass(frozen=True)
class ML2TunerSettings(TunerSettings):
    """Options of the ML²Tuner loop (defaults justified in the module docstring).

    Attributes:
        batch_size: configurations measured per step.
        n_random: random measurements before the models take over.
        n_candidates: P's shortlist per step.
        v_threshold: V's minimum probability of validity.
        epsilon: probability that a slot is filled at random.
        objective: P's and A's objective (``rank:pairwise`` or ``reg:squarederror``).
        num_boost_round: boosting rounds of each model.
        p_params, v_params, a_params: booster parameters (e.g. Optuna's best); paper's if None.
        max_pool: most unmeasured configurations P scores per step.
        nthread: XGBoost threads.
        preset: a name of :data:`PRESETS` whose options :meth:`from_options` fills in (options
            given beside it win), or None.
    """

    batch_size: int = 5
    n_random: int = 32
    n_candidates: int = 64
    v_threshold: float = 0.5
    epsilon: float = 0.05
    objective: str = "rank:pairwise"
    num_boost_round: int = 100
    p_params: Mapping[str, Any] | None = None
    v_params: Mapping[str, Any] | None = None
    a_params: Mapping[str, Any] | None = None
    max_pool: int = 100_000
    nthread: int = 1
    preset: str | None = None

    @classmethod
    def from_options(cls, options: Mapping[str, Any] | None) -> ML2TunerSettings:
        """Settings from a mapping; ``preset`` fills in the options not given."""
        options = dict(options or {})
        preset = options.get("preset")
        if preset is not None and preset not in PRESETS:
            raise ValueError(f"preset {preset!r}: allowed {', '.join(PRESETS)}")
        return super().from_options({**PRESETS.get(preset, {}), **options})

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.preset is not None and self.preset not in PRESETS:
            raise ValueError(f"preset {self.preset!r}: allowed {', '.join(PRESETS)}")
        if self.objective not in ("rank:pairwise", "reg:squarederror"):
            raise ValueError("objective: allowed rank:pairwise, reg:squarederror")
        if not 0 <= self.v_threshold <= 1 or not 0 <= self.epsilon <= 1:
            raise ValueError("v_threshold and epsilon must be in [0, 1]")
        if self.n_random < 0 or self.n_candidates < 1 or self.max_pool < 1:
            raise ValueError("n_random ≥ 0, n_candidates ≥ 1, max_pool ≥ 1")

    def model_settings(self, role: str) -> ModelSettings:
        params = {"P": self.p_params, "V": self.v_params, "A": self.a_params}[role]
        objective = "binary:logistic" if role == "V" else self.objective
        return ModelSettings(
            objective=objective,
            params=dict(params or PAPER_PARAMS),
            num_boost_round=self.num_boost_round,
            nthread=self.nthread,
        )


@register
class ML2Tuner(Tuner):
    """P proposes, V filters, A re-ranks (see the module docstring).

    The steps are methods so that :mod:`._ml2tuner_plus` changes one step at a time: which
    features a model sees (:meth:`_features`), which configurations are candidates
    (:meth:`_candidates`), which of A's ranking make the batch (:meth:`_pick`), how a model is
    fitted (:meth:`_fit`) and when the models take over (:meth:`_n_random`).
    """

    name = "ml2tuner"
    settings_class = ML2TunerSettings

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not self.space.has_hidden:
            raise ValueError(
                f"{self.name} needs hidden features: "
                "give TuningSpace compiled.parquet or a compiler"
            )
        self.models: dict[str, XGBModel | None] = {"P": None, "V": None, "A": None}
        self.v_constant: float | None = None  # V's answer while only one class was seen

    # ---- propose ------------------------------------------------------------------------
    def _propose(self, n: int) -> np.ndarray:
        s = self.settings
        if len(self.hist_rows) < self._n_random() or self.models["A"] is None:
            return self.random_rows(n)
        cand, beyond = self._candidates(n)
        threshold = self._v_threshold()
        v_cand = self._v_prob(cand)
        keep = v_cand >= threshold
        if keep.sum() < n and len(beyond):
            # V filters out what it predicts invalid: go on down P's ranking until a batch
            # passes, rather than measure shortlisted configurations V rejects
            v_beyond = self._v_prob(beyond)
            passing = np.flatnonzero(v_beyond >= threshold)[: n - keep.sum()]
            cand, v_cand = np.r_[cand, beyond[passing]], np.r_[v_cand, v_beyond[passing]]
            keep = np.r_[keep, np.ones(len(passing), bool)]
        if keep.sum() < n:  # fewer than a batch pass V in the whole pool: the most probable
            keep = np.zeros(len(cand), bool)
            keep[np.argsort(-v_cand, kind="stable")[:n]] = True
        survivors = cand[keep]
        a_surv = self.models["A"].predict(self._features("A", survivors))
        ranked = survivors[np.argsort(-a_surv, kind="stable")]
        chosen = self._pick(ranked, n)
        explore = self.rng.random(n) < s.epsilon
        if explore.any():
            chosen[explore] = self.random_rows(int(explore.sum()), exclude=chosen[~explore])
        self._record_predictions(chosen)
        return chosen

    def _v_threshold(self) -> float:
        """V's minimum probability of validity for this step."""
        return self.settings.v_threshold

    def _pick(self, ranked: np.ndarray, n: int) -> np.ndarray:
        """The batch from A's ranking of the survivors: its top ``n``."""
        return ranked[:n].copy()

    def _n_random(self) -> int:
        """Random measurements before the models choose."""
        return self.settings.n_random

    def _pool(self) -> np.ndarray:
        """Unmeasured rows the models score (a random ``max_pool`` of them if more)."""
        free = self.free_rows()
        if len(free) > self.settings.max_pool:
            free = np.sort(self.rng.choice(free, self.settings.max_pool, replace=False))
        return free

    def _candidates(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """P's shortlist, its top ``n_candidates`` (at least ``n``) of the pool, and the rest
        of the pool in P's order (where V looks when too few of the shortlist pass)."""
        free = self._pool()
        p_free = self.models["P"].predict(self._features("P", free))
        ranked = free[np.argsort(-p_free, kind="stable")]
        k = max(self.settings.n_candidates, n)
        return ranked[:k], ranked[k:]

    def _features(self, role: str, rows: np.ndarray) -> np.ndarray:
        """The feature matrix model ``role`` sees: configuration features, A also hidden."""
        return self.space.full_x(rows) if role == "A" else self.space.config_x[rows]

    def _v_prob(self, rows: np.ndarray) -> np.ndarray:
        if self.models["V"] is None:
            return np.full(len(rows), self.v_constant if self.v_constant is not None else 1.0)
        return self.models["V"].predict(self._features("V", rows))

    def _record_predictions(self, rows: np.ndarray) -> None:
        p = self.models["P"]
        self.record(
            rows,
            p=p.predict(self._features("P", rows)) if p is not None else None,
            v=self._v_prob(rows),
            a=self.models["A"].predict(self._features("A", rows)),
        )

    # ---- observe: all three retrain -----------------------------------------------------
    def _observe(self, rows: np.ndarray, results: pd.DataFrame) -> None:
        if len(self.hist_rows) < min(self._n_random(), self.space.n):
            return
        valid_rows, y = self.normalised_targets()
        if len(valid_rows) >= 2:
            for role, offset in (("P", 0), ("A", 2)):
                if role in self._roles():
                    self.models[role] = self._fit(role, valid_rows, y, offset)
        if self._v_needs_both_classes() and (self.hist_valid.all() or not self.hist_valid.any()):
            self.models["V"], self.v_constant = None, float(self.hist_valid.all())
        else:
            self.models["V"] = self._fit("V", self.hist_rows, self.hist_valid.astype(float), 1)

    def _roles(self) -> tuple[str, ...]:
        """The performance models this strategy trains (P shortlists, A ranks)."""
        return ("P", "A")

    def _v_needs_both_classes(self) -> bool:
        """Whether V must have seen a valid and an invalid measurement to be fitted."""
        return True

    def _fit(self, role: str, rows: np.ndarray, y: np.ndarray, offset: int) -> XGBModel:
        model = XGBModel(
            self.settings.model_settings(role), seed=int(self.rng.integers(2**31)) + offset
        )
        model.fit(self._features(role, rows), y)
        return model
