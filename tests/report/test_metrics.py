"""The report's metric definitions, quantiles with censored runs, claims and model metrics."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from ml2tuner.models.metrics import roc_auc
from ml2tuner.report.claims import PAPER_CLAIMS, claims_paragraph, judge, unit_claims
from ml2tuner.report.metrics import (
    curve_table,
    match_references,
    quantile,
    samples_to_best,
    samples_to_match,
    spread,
    strategy_table,
)
from ml2tuner.report.model_metrics import long_model_metrics, model_value, roc_curve

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


def test_strategy_table_ratios_to_autotvm():
    runs = _runs(
        [
            ("autotvm", 0, 10.0, 8, 8, 0.5),
            ("autotvm", 1, 10.0, 4, 6, 0.3),
            ("ml2tuner", 0, 9.0, 2, 2, 0.1),
            ("ml2tuner", 1, 12.0, -1, -1, 0.2),
        ]
    )
    runs["match_reference_latency_us"] = 10.0
    table = strategy_table(runs).set_index("strategy")
    assert table.loc["autotvm", "samples_to_match_median"] == 7.0
    assert table.loc["ml2tuner", "samples_to_match_median"] == math.inf  # [2, never]
    assert table.loc["ml2tuner", "samples_vs_reference"] == math.inf
    assert table.loc["ml2tuner", "invalid_vs_reference"] == pytest.approx(0.15 / 0.4)
    assert table.loc["ml2tuner", "reached_share"] == 0.5
    assert table.loc["autotvm", "samples_vs_reference"] == 1.0
    runs["match_reference_latency_us"] = NAN  # no autotvm to match: undefined, not "never"
    assert np.isnan(strategy_table(runs)["samples_to_match_median"]).all()


def test_verdicts_follow_the_documented_thresholds():
    samples = PAPER_CLAIMS["samples"]  # paper: 12.3 % of the samples, a saving of 87.7 %
    assert judge(samples, 0.3).verdict == "supported"  # saving 70 % ≥ half of 87.7 %
    assert judge(samples, 0.8).verdict == "partly supported"
    assert judge(samples, 1.2).verdict == "not supported"
    assert judge(samples, math.inf).verdict == "not supported"
    assert judge(samples, NAN).verdict == "not testable"
    invalid = PAPER_CLAIMS["invalid"]
    assert judge(invalid, 0.4).verdict == "supported"
    assert judge(invalid, 0.1).verdict == "partly supported"
    assert judge(invalid, 0.05).verdict == "not supported"  # below a tenth of 60.8 %
    assert "below a tenth" in judge(invalid, 0.05).reason
    assert judge(invalid, -0.1).verdict == "not supported"
    assert judge(PAPER_CLAIMS["rmse"], 0.95).verdict == "supported"  # 5 % ≥ half of 8.4 %
    assert judge(PAPER_CLAIMS["rmse"], 0.97).verdict == "partly supported"


def test_unit_claims_name_what_makes_a_claim_untestable():
    strategies = pd.DataFrame(
        {
            "strategy": ["autotvm", "ml2tuner"],
            "samples_vs_reference": [1.0, 0.1],
            "invalid_vs_reference": [1.0, 0.2],
        }
    )
    results = unit_claims(strategies.iloc[1:], {"rmse_P": 0.2, "rmse_A": 0.1})
    assert [r.verdict for r in results] == ["not testable", "not testable", "supported"]
    assert "no autotvm runs in this experiment" in results[0].reason
    results = unit_claims(strategies, {"rmse_P": NAN, "rmse_A": NAN})
    assert [r.verdict for r in results] == ["supported", "supported", "not testable"]
    assert results[1].value == pytest.approx(0.8)
    text = claims_paragraph({"C2": results})
    assert "This run supports the claim that ML²Tuner makes 60.8 % fewer" in text
    assert "fewer invalid attempts on C2" in text
    assert "cannot be tested here: no RMSE was reported" in text


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
