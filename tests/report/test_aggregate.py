"""The aggregate score: random search's exact expected best, the score and the ranking."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ml2tuner.report.aggregate import (
    best_so_far,
    cutoff_window,
    mean_score_curves,
    random_expected_best,
    ranking_table,
    score_curve,
    unit_scores,
)

KEY = ("pynq", "C2", "nestc")
spaces = st.lists(
    st.one_of(st.none(), st.floats(1, 50, allow_nan=False)), min_size=1, max_size=6
).filter(lambda v: any(x is not None for x in v))


def _measured(latencies) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "status": ["timeout" if x is None else "valid" for x in latencies],
            "latency_us": [np.nan if x is None else x for x in latencies],
        }
    )


@given(spaces)
@settings(max_examples=60)
def test_random_expected_best_is_the_mean_over_every_order(latencies):
    measured = _measured(latencies)
    n = len(measured)
    worst = measured["latency_us"].max()
    lat = measured["latency_us"].to_numpy(float)
    total = np.zeros(n)
    orders = list(itertools.permutations(range(n)))
    for order in orders:
        total += best_so_far(np.fmin.accumulate(lat[list(order)]), n, worst)
    np.testing.assert_allclose(random_expected_best(measured, n), total / len(orders))


@given(spaces, st.integers(1, 10))
def test_random_expected_best_falls_from_the_mean_to_the_optimum(latencies, budget):
    measured = _measured(latencies)
    curve = random_expected_best(measured, budget)
    valid = measured["latency_us"].dropna()
    assert (np.diff(curve) <= 1e-12).all()
    assert (curve >= valid.min() - 1e-12).all() and (curve <= valid.max() + 1e-12).all()
    if budget >= len(measured):
        assert curve[-1] == pytest.approx(valid.min())


def test_random_runs_score_zero_on_average():
    rng = np.random.default_rng(0)
    latencies = [*rng.uniform(10, 100, 300), *[None] * 200]
    measured = _measured(latencies)
    lat = measured["latency_us"].to_numpy(float)
    budget, worst = 40, np.nanmax(lat)
    runs = [np.fmin.accumulate(lat[rng.permutation(len(lat))[:budget]]) for _ in range(4000)]
    scores = unit_scores({KEY: measured}, {(KEY, "random"): runs}, {KEY: budget})
    # 4,000 random runs: their mean best is random's expectation, within sampling noise
    bests = np.array([best_so_far(r, budget, worst) for r in runs])
    noise = 4 * bests.std(axis=0) / np.sqrt(len(runs))
    np.testing.assert_array_less(
        np.abs(scores["mean_best_us"] - scores["random_best_us"]), noise + 1e-9
    )
    assert abs(scores["score"].mean()) < 0.05


def test_the_window_ends_where_random_is_expected_95_percent_of_the_way():
    random_best = np.array([100.0, 60.0, 20.0, 14.0, 10.5, 10.0])
    # median 90, optimum 10: the window ends at the first expected best <= 90 - 0.95 * 80 = 14
    assert cutoff_window(random_best, 90.0, 10.0) == 4
    assert cutoff_window(random_best[:3], 90.0, 10.0) == 3  # never reached: the whole budget
    measured = _measured(list(np.linspace(10, 100, 100)))
    budget = 60
    runs = [np.full(budget, 10.0)]  # at the optimum from the start
    scores = unit_scores({KEY: measured}, {(KEY, "oracle"): runs}, {KEY: budget})
    expected = random_expected_best(measured, budget)
    window = cutoff_window(expected, float(np.median(measured["latency_us"])), 10.0)
    assert 1 < window < budget and len(scores) == window
    assert scores["budget_fraction"].iloc[-1] == 1.0 and (scores["score"] == 1.0).all()


def test_score_is_one_at_the_optimum_and_zero_at_randoms_expectation():
    random_best = np.array([50.0, 30.0, 20.0, 10.0])
    assert list(score_curve(np.full(4, 10.0), random_best, 10.0)) == [1.0, 1.0, 1.0, 1.0]
    assert list(score_curve(random_best, random_best, 10.0)) == [0.0, 0.0, 0.0, 1.0]
    assert score_curve(np.array([60.0]), np.array([50.0]), 10.0)[0] == pytest.approx(-0.25)


@given(
    st.lists(
        st.one_of(st.none(), st.sampled_from([161.816817, 0.1 + 0.2, 1000 / 7])), max_size=40
    ).filter(lambda v: any(x is not None for x in v)),
    st.integers(1, 25),
    st.randoms(use_true_random=False),
)
def test_the_score_never_exceeds_one(latencies, n_seeds, rnd):
    # zcu102 C10 nestc_sweep: most of the space ties at the optimum, so random's expected best
    # closes on it to within float noise, and so does a mean over the seeds
    measured = _measured(latencies)
    lat = measured["latency_us"].to_numpy(float)
    order = list(range(len(lat)))
    runs = [np.fmin.accumulate(lat[rnd.sample(order, len(order))]) for _ in range(n_seeds)]
    scores = unit_scores({KEY: measured}, {(KEY, "any"): runs}, {KEY: len(lat)})
    assert (scores["score"] <= 1.0).all()


def test_best_so_far_counts_nothing_valid_as_the_worst_and_holds_the_last_value():
    got = best_so_far(np.array([np.nan, 7.0, 5.0]), 5, 9.0)
    assert list(got) == [9.0, 7.0, 5.0, 5.0, 5.0]


def _scores(values: dict[str, list[float]]) -> pd.DataFrame:
    rows = []
    for strategy, per_unit in values.items():
        for u, score in enumerate(per_unit):
            rows.append(
                pd.DataFrame(
                    {
                        "target": "pynq",
                        "layer": f"C{u}",
                        "template": "nestc",
                        "strategy": strategy,
                        "n_measurements": np.arange(1, 11),
                        "score": np.full(10, score),
                    }
                )
            )
    return pd.concat(rows, ignore_index=True)


def test_ranking_orders_by_mean_score_with_a_ci_over_units():
    scores = _scores({"random": [0.0, 0.1, -0.1, 0.0], "ml2tuner": [0.8, 0.6, 0.9, 0.7]})
    ranking = ranking_table(scores)
    assert list(ranking["strategy"]) == ["ml2tuner", "random"]
    assert list(ranking["rank"]) == [1, 2]
    best = ranking.iloc[0]
    assert best["mean_score"] == pytest.approx(0.75) and best["n_units"] == 4
    assert 0.6 <= best["ci_low"] <= 0.75 <= best["ci_high"] <= 0.9
    curves = mean_score_curves(scores, n=5)
    mine = curves[curves["strategy"] == "ml2tuner"]
    assert list(mine["budget_fraction"]) == [0.2, 0.4, 0.6, 0.8, 1.0]
    np.testing.assert_allclose(mine["mean_score"], 0.75)
