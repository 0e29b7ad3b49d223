"""Simulation-statistics predictors: best_rank, the families, training, the resumable search."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from ml2tuner.models.metrics import best_rank, best_rank_pct
from ml2tuner.models.simstats import (
    FAMILIES,
    SIMSTATS_METRICS,
    evaluate_predictors,
    make_predictor,
)
from ml2tuner.workflow.config import SimstatsSection, config_schema


def test_best_rank_counts_ties_against_the_predictor():
    latency = np.array([5.0, 1.0, 3.0, 2.0])
    assert best_rank(latency, latency) == 1
    assert best_rank_pct(latency, latency) == 25.0
    assert best_rank(latency, -latency) == 4  # predicted slowest
    assert best_rank(latency, np.zeros(4)) == 4  # a constant predictor ranks it last
    assert best_rank(latency, np.array([0.0, 1.0, 1.0, 2.0])) == 3
    # a configuration as fast as the fastest (the same program) is the best too
    twins = np.array([5.0, 1.0, 3.0, 1.0])
    assert best_rank(twins, np.array([9.0, 2.0, 2.0, 2.0])) == 2
    assert best_rank(twins, np.array([0.0, 9.0, 1.0, 2.0])) == 3


def test_the_schema_lists_every_family():
    schema = config_schema()["properties"]["simstats"]["properties"]["predictors"]
    assert set(schema["items"]["enum"]) == set(FAMILIES) == set(SimstatsSection().predictors)


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_each_family_learns_a_multiplicative_latency(family):
    rng = np.random.default_rng(0)
    x = rng.integers(1, 10_000, size=(200, 3)).astype(float)
    latency = 0.01 * x[:, 0] ** 0.7 * x[:, 1] ** 0.3  # what the statistics do to time
    model = make_predictor(family, seed=1).fit(x[:150], latency[:150])
    predicted = model.predict(x[150:])
    assert np.corrcoef(np.log(predicted), np.log(latency[150:]))[0, 1] > 0.9
    again = make_predictor(family, seed=1).fit(x[:150], latency[:150]).predict(x[150:])
    np.testing.assert_array_equal(predicted, again)


def test_a_predictor_needs_positive_latencies():
    with pytest.raises(ValueError, match="positive"):
        make_predictor("mlr").fit(np.ones((3, 2)), np.array([1.0, np.nan, 2.0]))


def _tables(n=300, seed=0):
    """Statistics and a measured table whose valid latency follows two of the statistics."""
    rng = np.random.default_rng(seed)
    stats = pd.DataFrame(
        {"config_id": np.arange(n), "s_a": rng.integers(1, 1000, n), "s_b": rng.integers(1, 50, n)}
    )
    status = np.where(rng.random(n) < 0.8, "valid", "wrong_answer")
    latency = np.where(status == "valid", stats["s_a"] * 0.5 + stats["s_b"] * 3.0, np.nan)
    return pd.DataFrame(
        {"config_id": stats["config_id"], "status": status, "latency_us": latency}
    ), stats


def test_evaluation_trains_on_the_sample_and_scores_the_rest():
    measured, stats = _tables()
    settings = SimstatsSection(optuna_trials=0, predictors=("mlr", "forest"))
    result = evaluate_predictors(measured, stats, settings)
    n_valid = int((measured["status"] == "valid").sum())
    n_train = max(settings.min_train, math.ceil(0.03 * n_valid))
    metrics = result.metrics
    assert metrics["metric"].tolist() == list(SIMSTATS_METRICS) * 2
    assert (metrics["n_train"] == n_train).all() and (metrics["n_test"] == n_valid - n_train).all()
    assert json.loads(metrics["features"].iloc[0]) == ["s_a", "s_b"]
    pred = result.predictions
    assert set(pred["config_id"]) == set(measured.loc[measured["status"] == "valid", "config_id"])
    assert (
        pred.groupby("predictor")["split"].apply(lambda s: (s == "train").sum()) == n_train
    ).all()
    by = metrics.set_index(["model", "metric"])["value"]
    for model in ("mlr", "forest"):
        test = pred[(pred["predictor"] == model) & (pred["split"] == "test")]
        assert by[(model, "mae")] == pytest.approx(
            np.mean(np.abs(test["predicted_us"] - test["latency_us"]))
        )
        assert by[(model, "best_rank_pct")] == best_rank_pct(
            test["latency_us"], test["predicted_us"]
        )
    assert by[("mlr", "spearman")] > 0.9  # a near-linear relation, learnt from 12 rows


def test_search_persists_in_its_journal_and_resumes(tmp_path):
    measured, stats = _tables(seed=1)
    journal = tmp_path / "simstats.journal"

    def search(trials):
        settings = SimstatsSection(optuna_trials=trials, predictors=("mlr",))
        return evaluate_predictors(measured, stats, settings, journal_path=journal).trials

    first = search(2)
    assert first["trial"].tolist() == [0, 1] and first["best"].sum() == 1
    assert json.loads(first["params_json"].iloc[0]) == dict(FAMILIES["mlr"].default)
    longer = search(3)  # the same study: two trials kept, one more run
    assert longer["trial"].tolist() == [0, 1, 2]
    pd.testing.assert_frame_equal(
        longer.iloc[:2].drop(columns=["best", "duration_s"]),
        first.drop(columns=["best", "duration_s"]),
    )


def test_too_few_valid_configurations_are_refused():
    measured, stats = _tables(n=10)
    with pytest.raises(ValueError, match="too few"):
        evaluate_predictors(measured, stats, SimstatsSection(optuna_trials=0))
