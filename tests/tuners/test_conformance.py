"""One conformance suite for every tuner, on both templates."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ml2tuner.measure import ReplayMeasurer
from ml2tuner.tuners import TUNERS, make_tuner, run_tuning, trial_columns

BUDGET = 48
# Small-space settings so every model-based phase is exercised within the budget.
FAST_OPTIONS = {
    "random": {},
    "autotvm": {"plan_size": 16, "n_iter": 60},
    "hwinit": {"plan_size": 16, "n_iter": 60},
    "ml2tuner": {"n_random": 16, "num_boost_round": 20},
    "ml2tuner_plus": {"n_random": 16, "num_boost_round": 20},
    "active": {"n_init": 16, "num_boost_round": 15, "n_models": 3},
    "optuna": {"n_startup_trials": 8, "batch_size": 4, "max_retries": 1},
    "simstats": {"n_init": 12, "v_rounds": 20},
}


@pytest.fixture(params=sorted(TUNERS))
def strategy(request) -> str:
    return request.param


def _run(strategy, tables, seed, measured=None, budget=BUDGET):
    tuner = make_tuner(strategy, tables.tuning_space(), seed=seed, options=FAST_OPTIONS[strategy])
    return run_tuning(
        tuner, ReplayMeasurer(tables.measured if measured is None else measured), budget
    )


def test_every_strategy_has_fast_options():
    assert set(FAST_OPTIONS) == set(TUNERS)


def test_spends_exactly_the_budget_never_twice(strategy, tables):
    log = _run(strategy, tables, seed=0)
    assert len(log) == BUDGET
    assert log["trial"].tolist() == list(range(BUDGET))
    assert log["config_id"].is_unique
    assert list(log.columns) == trial_columns(tables.tuning_space().knob_names)
    expected = tables.measured.set_index("config_id").loc[log["config_id"]]
    assert log["status"].tolist() == expected["status"].tolist()


def test_best_so_far_is_the_running_minimum_over_valid(strategy, tables):
    log = _run(strategy, tables, seed=1)
    lat = np.where(log["status"] == "valid", log["latency_us"], np.inf)
    best = np.minimum.accumulate(lat)
    np.testing.assert_allclose(
        log["best_latency_us"], np.where(np.isinf(best), np.nan, best), equal_nan=True
    )


def test_deterministic_per_seed(strategy, tables):
    a, b = _run(strategy, tables, seed=3), _run(strategy, tables, seed=3)
    pd.testing.assert_frame_equal(a.drop(columns="tuner_wall_s"), b.drop(columns="tuner_wall_s"))
    c = _run(strategy, tables, seed=4)
    assert a["config_id"].tolist() != c["config_id"].tolist()


def test_survives_a_space_where_everything_fails(strategy, tables):
    log = _run(strategy, tables, seed=0, measured=tables.all_failed())
    assert len(log) == BUDGET and log["config_id"].is_unique
    assert log["best_latency_us"].isna().all()


def test_budget_larger_than_the_space_measures_everything(strategy, autotvm_tables):
    n = len(autotvm_tables.space)
    log = _run(strategy, autotvm_tables, seed=0, budget=n + 50)
    assert sorted(log["config_id"]) == sorted(autotvm_tables.space["config_id"])


def test_model_predictions_are_logged_where_models_exist(strategy, nestc_tables):
    log = _run(strategy, nestc_tables, seed=0)
    used = {
        "random": (),
        "optuna": (),
        "autotvm": ("p_score",),
        "hwinit": ("p_score",),
        "ml2tuner": ("p_score", "v_prob", "a_score"),
        "ml2tuner_plus": ("v_prob", "a_score"),  # A ranks the whole space: no P
        "active": ("p_score", "v_prob"),
        "simstats": ("p_score", "v_prob"),
    }
    for col in ("p_score", "v_prob", "a_score"):
        assert log[col].notna().any() == (col in used[strategy]), col
    assert (log["tuner_wall_s"] >= 0).all()


def test_unknown_options_are_rejected(strategy, nestc_tables):
    with pytest.raises(ValueError, match="unknown option"):
        make_tuner(strategy, nestc_tables.tuning_space(), options={"no_such_option": 1})


def test_unknown_strategy_is_rejected(nestc_tables):
    with pytest.raises(ValueError, match="allowed"):
        make_tuner("grid", nestc_tables.tuning_space())
