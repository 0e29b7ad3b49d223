"""The report's metric definitions, quantiles with censored runs, claims and model metrics."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from ml2tuner.models.metrics import roc_auc
from ml2tuner.report.claims import claims_paragraph, unit_claims
from ml2tuner.report.metrics import (
    curve_table,
    match_references,
    quantile,
    samples_to_best,
    samples_to_match,
    spread,
)
from ml2tuner.report.model_metrics import long_model_metrics, model_value, roc_curve
from ml2tuner.report.strategies import comparison_table, strategy_table

NAN = float("nan")


def test_samples_to_best_and_to_match():
    best = np.array([NAN, 12.0, 10.5, 10.05, 10.0])
    assert samples_to_best(best, 10.0) == 4  # 10.05 is within 1 %
    assert samples_to_best(best, 9.0) == -1
    assert samples_to_best(best, NAN) == -1
    assert samples_to_match(best, 10.5) == 3  # equal counts as matched
    assert samples_to_match(best, 12.0) == 2
    assert samples_to_match(best, 9.99) == -1
    assert samples_to_match(best, NAN) == -1


@pytest.mark.parametrize("values", [[3.0], [1.0, 2.0], [5.0, 1.0, 4.0, 2.0, 9.0], list(range(10))])
def test_quantile_equals_pandas_on_finite_values(values):
    for q in (0.25, 0.5, 0.75):
        assert quantile(values, q) == pytest.approx(pd.Series(values).quantile(q))


def test_quantile_ranks_never_reached_runs_above_every_count():
    assert quantile([10.0, math.inf], 0.0) == 10.0
    assert math.isinf(quantile([10.0, math.inf], 0.5))  # numpy would say NaN
    s = spread([10.0, 20.0, math.inf, math.inf])
    assert s.q25 == pytest.approx(17.5) and math.isinf(s.median) and math.isinf(s.q75)
    s = spread([10.0, 20.0, 30.0, math.inf])
    assert s.median == 25.0 and s.q25 == 17.5 and math.isinf(s.q75)
    assert math.isnan(spread([]).median) and spread([NAN, 1.0]).n == 1


def test_curve_table_ranks_no_valid_yet_as_worst():
    curves = curve_table(
        [np.array([NAN, 5.0, 4.0]), np.array([NAN, NAN, 6.0]), np.array([7.0, 7.0, 3.0])]
    )
    assert list(curves["n_measurements"]) == [1, 2, 3]
    assert np.isnan(curves.loc[0, "best_latency_us_median"])  # two of three have nothing yet
    assert curves.loc[1, "best_latency_us_median"] == 7.0  # [5, inf, 7]
    assert curves.loc[2, "best_latency_us_median"] == 4.0
    assert curves.loc[2, "best_latency_us_q25"] == 3.5


def _runs(rows):
    frame = pd.DataFrame(
        rows,
        columns=[
            "strategy",
            "seed",
            "final_best_latency_us",
            "samples_to_best",
            "samples_to_match",
            "invalid_share",
        ],
    )
    return frame.assign(target="t", layer="l", template="nestc", n_trials=10)


def test_match_references_pair_seeds_and_fall_back_to_the_median():
    runs = _runs(
        [
            ("autotvm", 0, 10.0, 1, 1, 0.5),
            ("autotvm", 1, 20.0, 1, 1, 0.5),
            ("autotvm", 2, 30.0, 1, 1, 0.5),
        ]
    )
    refs = match_references(runs)
    assert refs[("t", "l", "nestc", 1)] == 20.0
    assert refs[("t", "l", "nestc", -1)] == 20.0  # a seed autotvm did not run


def test_strategy_table_medians_with_intervals_and_reached_shares():
    runs = _runs(
        [
            ("autotvm", 0, 10.0, 8, 8, 0.5),
            ("autotvm", 1, 10.0, 4, 6, 0.3),
            ("ml2tuner", 0, 9.0, 2, 2, 0.1),
            ("ml2tuner", 1, 12.0, -1, -1, 0.2),
        ]
    ).assign(samples_to_cut=[3, 5, 1, -1], best_over_optimum=[1.0, 1.1, 1.0, 1.3])
    runs["match_reference_latency_us"] = 10.0
    table = strategy_table(runs).set_index("strategy")
    assert table.loc["autotvm", "samples_to_match_median"] == 7.0
    assert table.loc["ml2tuner", "samples_to_match_median"] == math.inf  # [2, never]
    assert table.loc["ml2tuner", "samples_to_cut_reached"] == 0.5
    assert table.loc["autotvm", "invalid_share_median"] == pytest.approx(0.4)
    for metric in ("samples_to_cut", "invalid_share", "best_over_optimum"):
        low, med, high = (
            table.loc["autotvm", f"{metric}_{q}"] for q in ("ci_low", "median", "ci_high")
        )
        assert low <= med <= high
    runs["match_reference_latency_us"] = NAN  # no autotvm to match: undefined, not "never"
    assert np.isnan(strategy_table(runs)["samples_to_match_median"]).all()


def test_comparisons_hold_the_ratio_of_medians_and_the_rank_test():
    rng = np.random.default_rng(3)
    rows = [
        ("autotvm", k, 10.0, int(c), int(c), 0.5) for k, c in enumerate(rng.integers(50, 90, 12))
    ]
    rows += [
        ("ml2tuner", k, 9.0, int(c), int(c), 0.1) for k, c in enumerate(rng.integers(5, 15, 12))
    ]
    runs = _runs(rows)
    runs = runs.assign(
        samples_to_cut=runs["samples_to_best"],
        best_over_optimum=1.0,
        match_reference_latency_us=10.0,
    )
    table = comparison_table(runs).set_index("metric")
    assert set(table["strategy"]) == {"ml2tuner"}  # autotvm is the reference
    cut = table.loc["samples_to_cut"]
    mine = runs[runs["strategy"] == "ml2tuner"]["samples_to_cut"]
    ref = runs[runs["strategy"] == "autotvm"]["samples_to_cut"]
    assert cut["ratio"] == pytest.approx(mine.median() / ref.median())
    assert cut["ratio_ci_low"] <= cut["ratio"] <= cut["ratio_ci_high"] < 1
    assert cut["p_value"] == pytest.approx(stats.mannwhitneyu(mine, ref).pvalue)
    assert table.loc["best_over_optimum", "p_value"] == 1.0  # identical samples


def _comparison(metric, ratio, low, high, median=1.0, reference=1.0, n=10):
    return dict(
        strategy="ml2tuner",
        metric=metric,
        ratio=ratio,
        ratio_ci_low=low,
        ratio_ci_high=high,
        p_value=0.01,
        median=median,
        reference_median=reference,
        n=n,
        n_reference=n,
    )


def test_unit_claims_read_both_wordings_from_the_comparisons():
    comparisons = pd.DataFrame(
        [
            _comparison("samples_to_cut", 0.3, 0.2, 0.5),
            _comparison("invalid_share", 0.5, 0.35, 0.7),
        ]
    )
    results = {r.claim.name: r for r in unit_claims(comparisons, {"rmse_P": 0.2, "rmse_A": 0.1})}
    assert results["samples_only"].verdict == "contradicted"  # 0.2 > 0.123
    assert results["samples_fewer"].verdict == "supported"  # below 1, reaches 0.877
    assert results["invalid_by"].verdict == "supported"  # 0.35 ≤ 0.392
    assert results["invalid_to"].verdict == "supported"
    assert results["rmse"].verdict == "inconclusive" and results["rmse"].ratio == 0.5
    assert "no confidence interval" in results["rmse"].reason
    none = unit_claims(comparisons.iloc[:0], {"rmse_P": NAN, "rmse_A": NAN})
    assert {r.verdict for r in none} == {"not testable"}
    assert "no ml2tuner and autotvm runs" in none[0].reason
    zero = pd.DataFrame([_comparison("invalid_share", NAN, NAN, NAN, median=0.0, reference=0.0)])
    invalid = [r for r in unit_claims(zero, {}) if r.claim.metric == "invalid_share"]
    assert [r.verdict for r in invalid] == ["not testable"] * 2
    text = claims_paragraph({"C2": list(results.values()), "C4": none})
    assert "contradicted on 1 of 2 units (C2)" in text
    assert "not testable on 1 of 2 units (C4)" in text


def test_long_model_metrics_keeps_the_summary_columns():
    long = pd.DataFrame(
        {
            "model": ["P", "A", "V"],
            "metric": ["rmse", "rmse", "roc_auc"],
            "value": [0.2, 0.1, 0.9],
            "n_train": [5, 5, 9],
            "n_test": [2, 2, 3],
            "objective": ["reg:squarederror"] * 2 + ["binary:logistic"],
        }
    )
    out = long_model_metrics(long)
    assert list(out.columns) == ["model", "metric", "value", "n_train", "n_test"]
    assert model_value(out, "A", "rmse") / model_value(out, "P", "rmse") == 0.5
    assert model_value(out, "V", "roc_auc") == 0.9
    assert np.isnan(model_value(out, "V", "accuracy"))


def test_roc_curve_area_equals_roc_auc():
    rng = np.random.default_rng(0)
    labels = rng.random(200) < 0.4
    scores = np.round(labels * 0.3 + rng.random(200), 1)  # ties included
    fpr, tpr = roc_curve(labels, scores)
    assert (fpr[0], tpr[0], fpr[-1], tpr[-1]) == (0.0, 0.0, 1.0, 1.0)
    assert np.all(np.diff(fpr) >= 0) and np.all(np.diff(tpr) >= 0)
    assert np.trapezoid(tpr, fpr) == pytest.approx(roc_auc(labels, scores))
