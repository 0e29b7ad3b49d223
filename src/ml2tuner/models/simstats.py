"""Simulation-statistics predictors: latency from the counting pass's statistics (Pelke et al.).

Pelke et al. (DAC 2025) run autotuning candidates on a fast instruction-accurate simulator and
train predictors that map its statistics to the run time on the target. Our adaptation: the
statistics are those of the counting pass (:mod:`ml2tuner.vta.counting`, the unit's
``simstats.parquet``), the "target" is the cycle-level timing simulator (``measured.parquet``).
Features are the statistics only, never the knobs.

Three predictor families (:data:`FAMILIES`), each a regressor of log latency:

* ``mlr`` — multiple linear regression (scikit-learn ``Ridge`` on standardised features; the
  search chooses the ridge penalty, from practically none, and whether the features are
  log-scaled);
* ``xgb`` — XGBoost (:class:`~ml2tuner.models.xgb.XGBModel`, the booster search of
  :mod:`~ml2tuner.models.hpo`);
* ``forest`` — scikit-learn's random forest.

:func:`evaluate_predictors` trains each on a small sample of the valid configurations (default
3 %), its hyper-parameters searched by Optuna on cross-validation of that sample (the study in a
journal file, resumable: :func:`ml2tuner.models.hpo.run_study`), and scores it on the held-out
valid configurations: MAE and MSE of latency (µs, µs²), Spearman, and ``best_rank_pct``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import pandas as pd

from ..workflow.config import SimstatsSection
from .hpo import run_study, suggest_booster
from .metrics import best_rank_pct, spearman
from .xgb import PAPER_PARAMS, ModelSettings, XGBModel

__all__ = [
    "FAMILIES",
    "SIMSTATS_METRICS",
    "Predictor",
    "SimstatsResult",
    "statistics_features",
    "make_predictor",
    "evaluate_predictors",
]

# The held-out metrics of every predictor, in the order of the metrics table's rows.
SIMSTATS_METRICS = ("mae", "mse", "spearman", "best_rank_pct")


def statistics_features(statistics: pd.DataFrame) -> tuple[list[str], np.ndarray]:
    """The feature names (``s_*`` columns) and matrix of a ``simstats.parquet`` table's rows."""
    names = [c for c in statistics.columns if c.startswith("s_")]
    return names, statistics[names].to_numpy(np.float64)


class Predictor:
    """A regressor of latency (µs) from counting-pass statistics.

    Args:
        family: a name of :data:`FAMILIES`.
        params: the family's hyper-parameters (as :func:`make_predictor` gets them).
        seed: seed of the model's randomness (bootstrap, subsampling).
    """

    def __init__(self, family: str, params: Mapping[str, Any], seed: int = 0) -> None:
        if family not in FAMILIES:
            raise ValueError(f"unknown predictor {family!r}: allowed {', '.join(FAMILIES)}")
        self.family, self.params, self.seed = family, dict(params), int(seed)
        self._model: Any = None

    def fit(self, x: np.ndarray, latency_us: np.ndarray) -> Predictor:
        """Fit on statistics ``x`` (n, d) and measured latencies (n,), all valid."""
        x, latency_us = np.asarray(x, np.float64), np.asarray(latency_us, np.float64)
        if len(x) == 0 or not np.all(latency_us > 0):
            raise ValueError("a predictor needs at least one positive measured latency")
        # Log latency: the statistics act multiplicatively on time (bytes × rate, work × cost)
        # and the spread of a space spans more than one order of magnitude.
        self._model = FAMILIES[self.family].build(self.params, self.seed)
        self._model.fit(self._inputs(x), np.log(latency_us))
        return self

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Predicted latency (µs) of statistics ``x``."""
        if self._model is None:
            raise RuntimeError("predict before fit")
        return np.exp(np.asarray(self._model.predict(self._inputs(x)), np.float64))

    def _inputs(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, np.float64)
        return np.log1p(np.maximum(x, 0)) if self.params.get("log_features", False) else x


def make_predictor(family: str, params: Mapping[str, Any] | None = None, seed: int = 0):
    """A :class:`Predictor` of ``family`` with ``params`` (the family's defaults when None)."""
    return Predictor(family, FAMILIES[family].default if params is None else params, seed)


# ---- the families ------------------------------------------------------------------------


class _XGBRegressor:
    """:class:`XGBModel` with scikit-learn's fit/predict names and the search's parameters."""

    def __init__(self, params: Mapping[str, Any], seed: int) -> None:
        booster = {k: v for k, v in params.items() if k not in ("num_boost_round", "log_features")}
        settings = ModelSettings(
            objective="reg:squarederror",
            params=booster,
            num_boost_round=int(params.get("num_boost_round", 100)),
        )
        self._model = XGBModel(settings, seed=seed)

    def fit(self, x: np.ndarray, y: np.ndarray) -> None:
        self._model.fit(x.astype(np.float32), y)

    def predict(self, x: np.ndarray) -> np.ndarray:
        return self._model.predict(x.astype(np.float32))


def _mlr(params: Mapping[str, Any], seed: int):
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), Ridge(alpha=float(params["alpha"])))


def _forest(params: Mapping[str, Any], seed: int):
    from sklearn.ensemble import RandomForestRegressor

    return RandomForestRegressor(
        n_estimators=int(params["n_estimators"]),
        max_depth=int(params["max_depth"]),
        min_samples_leaf=int(params["min_samples_leaf"]),
        max_features=float(params["max_features"]),
        random_state=seed,
        n_jobs=1,
    )


def _suggest_mlr(trial: optuna.Trial) -> dict[str, Any]:
    return {
        "alpha": trial.suggest_float("alpha", 1e-6, 1e2, log=True),
        "log_features": trial.suggest_categorical("log_features", [False, True]),
    }


def _suggest_xgb(trial: optuna.Trial) -> dict[str, Any]:
    params, rounds = suggest_booster(trial)
    return {**params, "num_boost_round": rounds}


def _suggest_forest(trial: optuna.Trial) -> dict[str, Any]:
    return {
        "n_estimators": trial.suggest_int("n_estimators", 50, 300),
        "max_depth": trial.suggest_int("max_depth", 2, 16),
        "min_samples_leaf": trial.suggest_int("min_samples_leaf", 1, 5),
        "max_features": trial.suggest_float("max_features", 0.2, 1.0),
        "log_features": trial.suggest_categorical("log_features", [False, True]),
    }


@dataclass(frozen=True)
class Family:
    """One predictor family: how to build it, its search space and its default (first trial).

    Attributes:
        build: ``(params, seed) -> regressor`` with ``fit(x, y)`` / ``predict(x)``.
        suggest: the Optuna search space (``trial -> params``).
        default: the parameters used without a search, and the first trial of a study.
        objective: what it minimises, for the metrics table's ``objective`` column.
    """

    build: Callable[[Mapping[str, Any], int], Any]
    suggest: Callable[[optuna.Trial], dict[str, Any]]
    default: Mapping[str, Any]
    objective: str


FAMILIES: dict[str, Family] = {
    "mlr": Family(_mlr, _suggest_mlr, {"alpha": 1e-6, "log_features": True}, "ridge:log_latency"),
    "xgb": Family(
        _XGBRegressor,
        _suggest_xgb,
        {**PAPER_PARAMS, "lambda": 1.0, "min_child_weight": 1.0, "num_boost_round": 100},
        "reg:squarederror:log_latency",
    ),
    "forest": Family(
        _forest,
        _suggest_forest,
        {
            "n_estimators": 100,
            "max_depth": 8,
            "min_samples_leaf": 1,
            "max_features": 1.0,
            "log_features": False,
        },
        "squared_error:log_latency",
    ),
}


# ---- offline training and evaluation -----------------------------------------------------


@dataclass(frozen=True)
class SimstatsResult:
    """Outcome of :func:`evaluate_predictors` (tables in ``docs/artifacts.md``).

    Attributes:
        metrics: one row per predictor and held-out metric (the metrics table's columns).
        predictions: every valid configuration × predictor: split, measured, predicted latency.
        trials: the Optuna trials of every study (``simstats_search`` columns).
    """

    metrics: pd.DataFrame
    predictions: pd.DataFrame
    trials: pd.DataFrame


def _cv_loss(family, params, x, y, folds, seed) -> float:
    """Mean squared error of log latency over the folds."""
    losses = []
    for i, test in enumerate(folds):
        train = np.concatenate([f for j, f in enumerate(folds) if j != i])
        model = Predictor(family, params, seed + i).fit(x[train], y[train])
        losses.append(float(np.mean((np.log(model.predict(x[test])) - np.log(y[test])) ** 2)))
    return float(np.mean(losses))


def _search(family, x, y, settings, journal_path, study_name):
    """Best parameters of ``family`` and the study's trials (its default without a search)."""
    if settings.optuna_trials == 0:
        return dict(FAMILIES[family].default), pd.DataFrame()
    rng = np.random.default_rng(settings.seed)
    folds = np.array_split(rng.permutation(len(x)), settings.n_folds)
    suggest = FAMILIES[family].suggest
    study = run_study(
        lambda trial: _cv_loss(family, suggest(trial), x, y, folds, settings.seed),
        journal_path=journal_path,
        study_name=study_name,
        n_trials=settings.optuna_trials,
        seed=settings.seed,
        first_params=FAMILIES[family].default,
    )
    best = study.best_trial
    trials = pd.DataFrame(
        {
            "model": family,
            "study": study_name,
            "trial": [t.number for t in study.trials],
            "state": [t.state.name for t in study.trials],
            "value": [np.nan if t.value is None else float(t.value) for t in study.trials],
            "best": [t.number == best.number for t in study.trials],
            "duration_s": [
                np.nan if t.duration is None else t.duration.total_seconds() for t in study.trials
            ],
            "params_json": [json.dumps(t.params, sort_keys=True) for t in study.trials],
        }
    )
    return dict(best.params), trials


def evaluate_predictors(
    measured: pd.DataFrame,
    statistics: pd.DataFrame,
    settings: SimstatsSection | None = None,
    *,
    journal_path: str | Path | None = None,
    study_prefix: str = "",
) -> SimstatsResult:
    """Train every predictor on a sample of the valid configurations; score it on the rest.

    Args:
        measured: ``config_id, status, latency_us`` of every configuration.
        statistics: ``simstats.parquet`` (``config_id`` and the ``s_*`` statistics).
        settings: sample, search and families.
        journal_path: Optuna journal file of the searches (required when searching).
        study_prefix: prefix of each study's name (``{unit}/{key}/``), the family appended.
    Returns:
        metrics, predictions and search trials (:class:`SimstatsResult`).
    """
    valid = measured.loc[measured["status"] == "valid", ["config_id", "latency_us"]]
    table = valid.merge(statistics, on="config_id", how="inner", validate="one_to_one")
    table = table.sort_values("config_id", ignore_index=True)
    n_train = max(settings.min_train, math.ceil(settings.train_fraction * len(table)))
    if len(table) < n_train + 2:
        raise ValueError(f"{len(table)} valid configurations: too few for {n_train} + 2 held out")
    if settings.optuna_trials and journal_path is None:
        raise ValueError("a search needs journal_path")
    names, x = statistics_features(table)
    y = table["latency_us"].to_numpy(np.float64)
    rng = np.random.default_rng(settings.seed)
    is_train = np.zeros(len(table), bool)
    is_train[rng.choice(len(table), n_train, replace=False)] = True
    split = np.where(is_train, "train", "test")
    metrics, predictions, trials = [], [], []
    for family in settings.predictors:
        params, history = _search(
            family, x[is_train], y[is_train], settings, journal_path, f"{study_prefix}{family}"
        )
        model = Predictor(family, params, settings.seed).fit(x[is_train], y[is_train])
        predicted = model.predict(x)
        test_y, test_p = y[~is_train], predicted[~is_train]
        values = {
            "mae": float(np.mean(np.abs(test_p - test_y))),
            "mse": float(np.mean((test_p - test_y) ** 2)),
            "spearman": spearman(test_y, test_p),
            "best_rank_pct": best_rank_pct(test_y, test_p),
        }
        metrics += [
            {
                "model": family,
                "metric": metric,
                "value": values[metric],
                "n_train": int(is_train.sum()),
                "n_test": int((~is_train).sum()),
                "objective": FAMILIES[family].objective,
                "feature_set": "simstats",
                "n_features": len(names),
                "features": json.dumps(names),
                "params_json": json.dumps(params, sort_keys=True),
            }
            for metric in SIMSTATS_METRICS
        ]
        predictions.append(
            pd.DataFrame(
                {
                    "config_id": table["config_id"],
                    "split": split,
                    "predictor": family,
                    "latency_us": y,
                    "predicted_us": predicted,
                }
            )
        )
        trials.append(history)
    return SimstatsResult(
        pd.DataFrame(metrics),
        pd.concat(predictions, ignore_index=True),
        pd.concat(trials, ignore_index=True) if any(len(t) for t in trials) else pd.DataFrame(),
    )
