"""Hyper-parameter search with Optuna (TPE), persisted in a journal file.

One study per model (and per layer/target: the caller names the study). :func:`run_study` is
the one home of the persistence, for every model family: the study lives in an Optuna
``JournalStorage`` file, so a search that was interrupted resumes: completed trials are kept,
trials left running are marked failed, and only the missing completed trials run.
:func:`search_hyperparameters` searches an XGBoost model's parameters with it; the first trial
of a new study is the paper's setting, so the search never returns something worse (on its own
cross-validation) than :data:`~ml2tuner.models.xgb.PAPER_PARAMS`.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import pandas as pd
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend
from optuna.trial import TrialState

from ..workflow.columns import SEARCH_PARAMETERS
from .metrics import rmse, spearman
from .xgb import PAPER_PARAMS, ModelSettings, XGBModel

__all__ = [
    "SearchSettings",
    "SearchResult",
    "run_study",
    "suggest_booster",
    "search_hyperparameters",
    "quiet_optuna",
    "SEARCH_PARAMETERS",
    "search_history",
]


@dataclass(frozen=True)
class SearchSettings:
    """Settings of one hyper-parameter search.

    Attributes:
        n_trials: total trials of the study (a resumed study runs only the missing ones).
        n_folds: cross-validation folds on the training rows.
        seed: seed of the TPE sampler and of the folds.
    """

    n_trials: int = 30
    n_folds: int = 3
    seed: int = 0

    def __post_init__(self) -> None:
        if self.n_trials < 1:
            raise ValueError("n_trials must be ≥ 1")
        if self.n_folds < 2:
            raise ValueError("n_folds must be ≥ 2")


@dataclass(frozen=True)
class SearchResult:
    """Outcome of :func:`search_hyperparameters`.

    Attributes:
        settings: the best model settings found.
        best_params: one row: ``study``, ``value`` and the best parameters as columns.
        trials: the study's history (Optuna's ``trials_dataframe`` plus ``study``).
    """

    settings: ModelSettings
    best_params: pd.DataFrame
    trials: pd.DataFrame


@contextlib.contextmanager
def quiet_optuna() -> Iterator[None]:
    """Silence Optuna's per-trial INFO lines for the duration (restores the level after)."""
    level = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        yield
    finally:
        optuna.logging.set_verbosity(level)


def suggest_booster(trial: optuna.Trial) -> tuple[dict[str, Any], int]:
    """An XGBoost booster's parameters and rounds for one trial (the search space)."""
    params = {
        "eta": trial.suggest_float("eta", 0.01, 0.3, log=True),
        "max_depth": trial.suggest_int("max_depth", 2, 10),
        "alpha": trial.suggest_float("alpha", 1e-4, 1.0, log=True),
        "lambda": trial.suggest_float("lambda", 1e-3, 10.0, log=True),
        "subsample": trial.suggest_float("subsample", 0.5, 1.0),
        "colsample_bytree": trial.suggest_float("colsample_bytree", 0.5, 1.0),
        "min_child_weight": trial.suggest_float("min_child_weight", 1e-2, 10.0, log=True),
    }
    return params, trial.suggest_int("num_boost_round", 30, 400)


def _cv_loss(
    settings: ModelSettings, x: np.ndarray, y: np.ndarray, folds: list[np.ndarray], seed: int
) -> float:
    """Mean validation loss: log-loss (V), RMSE (regression), 1 − Spearman (rank)."""
    losses = []
    for i, test in enumerate(folds):
        train = np.concatenate([f for j, f in enumerate(folds) if j != i])
        model = XGBModel(settings, seed=seed + i)
        model.fit(x[train], y[train])
        pred = model.predict(x[test])
        if settings.objective == "binary:logistic":
            p = np.clip(pred, 1e-12, 1 - 1e-12)
            losses.append(float(-np.mean(y[test] * np.log(p) + (1 - y[test]) * np.log(1 - p))))
        elif settings.objective == "reg:squarederror":
            losses.append(rmse(y[test], pred))
        else:
            rho = spearman(y[test], pred)
            losses.append(1.0 - (0.0 if np.isnan(rho) else rho))
    return float(np.mean(losses))


def run_study(
    objective_fn: Callable[[optuna.Trial], float],
    *,
    journal_path: str | Path,
    study_name: str,
    n_trials: int,
    seed: int,
    first_params: Mapping[str, Any] | None = None,
) -> optuna.Study:
    """Run (or resume) a minimising TPE study persisted in an Optuna journal file.

    Args:
        objective_fn: the loss of one trial (Optuna's objective).
        journal_path: the journal file (created if missing; resumed if present).
        study_name: the study's name inside the journal.
        n_trials: completed trials wanted in all; a resumed study runs only the missing ones.
        seed: seed of the TPE sampler.
        first_params: parameters of the first trial of a new study (a known-good setting).
    Returns:
        The study, with at least ``n_trials`` completed trials.
    """
    # Absolute: Optuna's lock is a symlink to the journal, and a relative target resolves from
    # the lock's own folder, where nothing is; a lock left by a killed job would then never
    # go stale and a rerun would wait on it forever. With a target that exists, Optuna
    # releases a stale lock after its 30 s grace period.
    storage = JournalStorage(JournalFileBackend(str(Path(journal_path).resolve())))
    with quiet_optuna():
        study = optuna.create_study(
            study_name=study_name,
            storage=storage,
            direction="minimize",
            load_if_exists=True,
            sampler=optuna.samplers.TPESampler(seed=seed),
        )
        for stale in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
            study.tell(stale.number, state=TrialState.FAIL)  # left by an interrupted run
        pending = (TrialState.COMPLETE, TrialState.WAITING)
        if first_params is not None and not study.get_trials(deepcopy=False, states=pending):
            study.enqueue_trial(dict(first_params))
        done = len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)))
        if n_trials > done:
            study.optimize(objective_fn, n_trials=n_trials - done)
    return study


def search_hyperparameters(
    x: np.ndarray,
    y: np.ndarray,
    *,
    objective: str,
    journal_path: str | Path,
    study_name: str,
    settings: SearchSettings = SearchSettings(),
) -> SearchResult:
    """Tune one model's XGBoost hyper-parameters by cross-validation.

    Args:
        x: training features (n, d).
        y: labels (normalised throughput, or 0/1 validity).
        objective: the model's XGBoost objective.
        journal_path: Optuna journal file (created if missing; resumed if present).
        study_name: the study's name inside the journal (e.g. ``"zcu102/C2/nestc/P"``).
        settings: trials, folds, seed.
    Returns:
        best settings, best parameters (one row) and the trials history.
    """
    x, y = np.asarray(x, np.float32), np.asarray(y, np.float64)
    if len(x) < settings.n_folds:
        raise ValueError(f"{len(x)} rows cannot make {settings.n_folds} folds")
    rng = np.random.default_rng(settings.seed)
    folds = np.array_split(rng.permutation(len(x)), settings.n_folds)

    def objective_fn(trial: optuna.Trial) -> float:
        params, rounds = suggest_booster(trial)
        model_settings = ModelSettings(objective=objective, params=params, num_boost_round=rounds)
        return _cv_loss(model_settings, x, y, folds, settings.seed)

    study = run_study(
        objective_fn,
        journal_path=journal_path,
        study_name=study_name,
        n_trials=settings.n_trials,
        seed=settings.seed,
        first_params={
            **PAPER_PARAMS,
            "lambda": 1.0,
            "min_child_weight": 1.0,
            "num_boost_round": 100,
        },
    )
    best = study.best_trial
    rounds = int(best.params["num_boost_round"])
    params = {k: v for k, v in best.params.items() if k != "num_boost_round"}
    trials = study.trials_dataframe()
    trials.insert(0, "study", study_name)
    best_row = pd.DataFrame(
        [
            {
                "study": study_name,
                "objective": objective,
                "value": float(best.value),
                "trial": int(best.number),
                "params_json": json.dumps(best.params, sort_keys=True),
                **{f"params_{k}": v for k, v in best.params.items()},
            }
        ]
    )
    return SearchResult(
        ModelSettings(objective=objective, params=params, num_boost_round=rounds), best_row, trials
    )


def search_history(trials: pd.DataFrame, best_params: pd.DataFrame) -> pd.DataFrame:
    """Optuna's trials of one or more studies as a flat, typed table.

    Args:
        trials: :attr:`SearchResult.trials` rows (with ``study`` and, for several models,
            ``model``).
        best_params: :attr:`SearchResult.best_params` rows (``study``, ``trial``).
    Returns:
        ``model, study, trial, state, value, best, duration_s`` and ``params_<name>`` for each
        of :data:`SEARCH_PARAMETERS` (float64, NaN where a trial did not get that far);
        ``best`` marks each study's best trial, ``duration_s`` is wall time.
    """
    columns = [
        "model",
        "study",
        "trial",
        "state",
        "value",
        "best",
        "duration_s",
        *(f"params_{name}" for name in SEARCH_PARAMETERS),
    ]
    if trials.empty:
        return pd.DataFrame({c: [] for c in columns})
    best = set(zip(best_params["study"], best_params["trial"].astype(int), strict=True))
    out = pd.DataFrame(
        {
            "model": trials["model"] if "model" in trials else "",
            "study": trials["study"],
            "trial": trials["number"].astype(np.int64),
            "state": trials["state"].astype(str),
            "value": trials["value"].astype(float),
            "duration_s": trials["duration"].dt.total_seconds() if "duration" in trials else np.nan,
        }
    )
    out["best"] = [(s, int(t)) in best for s, t in zip(out["study"], out["trial"], strict=True)]
    for name in SEARCH_PARAMETERS:
        column = f"params_{name}"
        out[column] = trials[column].astype(float) if column in trials else np.nan
    return out[columns].reset_index(drop=True)
