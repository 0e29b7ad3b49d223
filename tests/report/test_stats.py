"""Bootstrap intervals, censoring, the rank test and the verdict rule (property tests)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from ml2tuner.report.metrics import samples_to_target
from ml2tuner.report.stats import median, median_ci, rank_test, ratio_ci, verdict

ORDER = {"contradicted": 0, "inconclusive": 1, "supported": 2}
counts = st.lists(st.integers(1, 200), min_size=2, max_size=12)
intervals = st.tuples(st.floats(0, 3, allow_nan=False), st.floats(0, 3, allow_nan=False)).map(
    sorted
)
claimed = st.floats(0.01, 0.99)


@given(intervals, claimed)
def test_verdict_follows_the_rule(interval, claim):
    low, high = interval
    v = verdict(low, high, claim)
    assert (v == "contradicted") == (low > claim)
    assert (v == "supported") == (low <= claim and high < 1.0)


@given(intervals, claimed, st.floats(0, 2))
def test_a_better_interval_never_gets_a_worse_verdict(interval, claim, shift):
    low, high = interval
    better = verdict(max(low - shift, 0.0), max(high - shift, 0.0), claim)
    assert ORDER[better] >= ORDER[verdict(low, high, claim)]


@given(claimed)
def test_an_undefined_interval_is_inconclusive(claim):
    assert verdict(math.nan, math.nan, claim) == "inconclusive"


def test_never_a_verdict_from_medians_alone():
    # the median ratio is far below the claim, but three seeds cannot exclude "no effect"
    ratio = ratio_ci([1.0, 2.0, 300.0], [100.0, 110.0, 120.0])
    assert ratio.value < 0.123
    assert ratio.ci_high >= 1.0
    assert verdict(ratio.ci_low, ratio.ci_high, 0.123) == "inconclusive"


@given(counts)
def test_median_ci_is_deterministic_and_contains_the_median(values):
    a, b = median_ci(values), median_ci(values)
    assert a == b
    assert a.value == pytest.approx(np.median(values))
    assert a.ci_low <= a.value <= a.ci_high
    assert min(values) <= a.ci_low and a.ci_high <= max(values)


@given(counts, st.data())
@settings(max_examples=50)
def test_censoring_a_run_never_lowers_the_median_or_its_interval(values, data):
    i = data.draw(st.integers(0, len(values) - 1))
    censored = np.array(values, float)
    censored[i] = math.inf
    before, after = median_ci(values), median_ci(censored)
    assert after.value >= before.value
    assert after.ci_low >= before.ci_low and after.ci_high >= before.ci_high


def test_censored_medians_are_more_than_the_budget():
    assert median([3.0, math.inf, math.inf]) == math.inf
    assert median([3.0, 4.0, math.inf]) == 4.0
    assert median_ci([5.0, math.inf, math.inf, math.inf]).ci_high == math.inf
    assert math.isnan(median([math.nan]))


@given(counts, counts, st.floats(0.1, 10))
@settings(max_examples=50)
def test_ratio_ci_is_scale_free(values, reference, scale):
    a = ratio_ci(values, reference)
    b = ratio_ci(np.array(values) * scale, np.array(reference) * scale)
    assert b.value == pytest.approx(a.value)
    assert (b.ci_low, b.ci_high) == pytest.approx((a.ci_low, a.ci_high))
    assert a.ci_low <= a.value <= a.ci_high


def test_ratio_ci_with_censored_medians():
    assert ratio_ci([math.inf] * 3 + [4.0], [10.0, 12.0, 14.0]).value == math.inf
    assert ratio_ci([4.0, 5.0, 6.0], [math.inf] * 3 + [1.0]).value == 0.0
    both = ratio_ci([math.inf] * 3, [math.inf] * 3)
    assert math.isnan(both.value) and math.isnan(both.ci_low)
    assert ratio_ci([0.1, 0.2], [0.0, 0.0]).ci_low == math.inf  # x / 0
    assert math.isnan(ratio_ci([0.0, 0.1], [0.0, 0.0]).ci_high)  # 0 / 0 in some resamples


@given(counts, counts)
@settings(max_examples=50)
def test_rank_test_is_scipys_mann_whitney(values, reference):
    p = rank_test(values, reference)
    if len(set(values) | set(reference)) == 1:
        assert p == 1.0
    else:
        assert p == pytest.approx(stats.mannwhitneyu(values, reference).pvalue)


def test_rank_test_tells_separated_samples_apart():
    assert rank_test(range(10, 20), range(50, 60)) < 0.001
    assert rank_test([math.inf] * 8, range(1, 9)) < 0.001  # never beats every count


running_best = st.lists(st.floats(1, 100, allow_nan=False), min_size=1, max_size=30).map(
    lambda v: np.minimum.accumulate(np.array(v))
)


@given(running_best, st.floats(1, 100), st.floats(0, 50))
def test_samples_to_target_is_monotone_in_the_target(best, target, more):
    def count(t):
        n = samples_to_target(best, t)
        return math.inf if n < 0 else n

    assert count(target + more) <= count(target)


@given(running_best, st.floats(1, 100), st.integers(1, 30))
def test_a_shorter_run_is_censored_not_shortened(best, target, budget):
    full, short = samples_to_target(best, target), samples_to_target(best[:budget], target)
    if 0 < full <= budget:
        assert short == full
    else:
        assert short == -1
