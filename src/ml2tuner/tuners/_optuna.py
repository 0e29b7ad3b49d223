"""``optuna``: Optuna's TPE sampler over the template's knobs (ask/tell).

Each template knob is an integer parameter: the index of its value (``IntDistribution(0,
dims-1)``, values in ascending order, so TPE sees an ordered axis). The objective is latency in
µs, minimised. A failed configuration (any non-valid status) is told as a **failed trial**, which
TPE leaves out of its densities.

TPE may suggest a configuration that was already measured: that trial is told the known
result at once (no measurement) and TPE is asked again, up to ``max_retries`` times; then an
unmeasured configuration is drawn at random and enqueued, so the study still records it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import optuna
import pandas as pd
from optuna.distributions import IntDistribution
from optuna.trial import TrialState

from ..models.hpo import quiet_optuna
from ._base import Tuner, TunerSettings, register

__all__ = ["OptunaTuner", "OptunaSettings"]


@dataclass(frozen=True)
class OptunaSettings(TunerSettings):
    """Options of the TPE tuner.

    Attributes:
        batch_size: trials asked before their results are told (1: sequential TPE).
        n_startup_trials: TPE's random start (Optuna's default 10).
        multivariate: TPE's joint density over the knobs.
        max_retries: re-asks after a suggestion that was already measured.
    """

    batch_size: int = 1
    n_startup_trials: int = 10
    multivariate: bool = False
    max_retries: int = 3

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.n_startup_trials < 0 or self.max_retries < 0:
            raise ValueError("n_startup_trials and max_retries must be ≥ 0")


@register
class OptunaTuner(Tuner):
    """Optuna TPE over the knob grid (see the module docstring)."""

    name = "optuna"
    settings_class = OptunaSettings

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        grid = self.space.grid
        self.distributions = {
            name: IntDistribution(0, int(dim) - 1)
            for name, dim in zip(grid.names, grid.dims, strict=True)
        }
        sampler = optuna.samplers.TPESampler(
            seed=int(self.rng.integers(2**31)),
            n_startup_trials=self.settings.n_startup_trials,
            multivariate=self.settings.multivariate,
        )
        with quiet_optuna():
            self.study = optuna.create_study(direction="minimize", sampler=sampler)
        self.pending: dict[int, int] = {}  # row -> trial number
        self.known: dict[int, float | None] = {}  # row -> latency (None: failed)

    def _row_of(self, params: dict[str, int]) -> int:
        index = np.array([[params[name] for name in self.space.grid.names]])
        return int(self.space.grid.rows_of_index(index)[0])

    def _params_of(self, row: int) -> dict[str, int]:
        return {
            name: int(v)
            for name, v in zip(self.space.grid.names, self.space.grid.index[row], strict=True)
        }

    def _tell(self, number: int, latency: float | None) -> None:
        if latency is None:
            self.study.tell(number, state=TrialState.FAIL)
        else:
            self.study.tell(number, latency)

    def _propose(self, n: int) -> np.ndarray:
        chosen: list[int] = []
        with quiet_optuna():
            for _ in range(n):
                chosen.append(self._ask_one(set(chosen)))
        return np.array(chosen, np.int64)

    def _ask_one(self, chosen: set[int]) -> int:
        for _ in range(self.settings.max_retries + 1):
            trial = self.study.ask(self.distributions)
            row = self._row_of(trial.params)
            if row >= 0 and not self.taken[row] and row not in chosen:
                self.pending[row] = trial.number
                return row
            # Already measured: tell what we know. Pending or outside the table: a failure.
            self._tell(trial.number, self.known.get(row) if row in self.known else None)
        exclude = np.array(sorted(chosen), np.int64)
        row = int(self.random_rows(1, exclude=exclude)[0])
        self.study.enqueue_trial(self._params_of(row))
        self.pending[row] = self.study.ask(self.distributions).number
        return row

    def _observe(self, rows: np.ndarray, results: pd.DataFrame) -> None:
        latency = results["latency_us"].to_numpy(np.float64, na_value=np.nan)
        valid = (results["status"].astype(str) == "valid").to_numpy()
        with quiet_optuna():
            for row, ok, lat in zip(rows.tolist(), valid, latency, strict=True):
                value = float(lat) if ok and np.isfinite(lat) else None
                self.known[row] = value
                number = self.pending.pop(row, None)
                if number is not None:
                    self._tell(number, value)
