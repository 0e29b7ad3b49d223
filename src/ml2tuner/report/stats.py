"""Statistics over seeds: medians with bootstrap confidence intervals, rank tests against
``autotvm``, and the verdict rule of the paper's claims (``docs/report.md``).

* Every median carries a 95 % percentile-bootstrap interval (:func:`median_ci`,
  ``scipy.stats.bootstrap``, fixed seed, so the numbers are deterministic).
* A strategy is compared with ``autotvm`` by the ratio of medians (strategy / ``autotvm``) with
  its own bootstrap interval (:func:`ratio_ci`, the two samples resampled independently) and
  by a two-sided Mann–Whitney U test (:func:`rank_test`). The samples are not paired: seed *k*
  of two strategies does not share a random start (each tuner draws its start from its own
  ``np.random.default_rng(seed)`` in its own way, ``ml2tuner.tuners``), so the seeds are two
  independent samples.
* Censored runs (never reached the target within the budget) are ``+inf``. Inside the bootstrap
  they stand as :data:`CENSORED`, a finite number above any budget, so that numpy's quantile
  interpolation never meets ``inf``; any statistic above :data:`CENSORED_ABOVE` is read back as
  ``inf`` ("more than the budget"). A ratio whose numerator is censored is ``inf``, whose
  denominator alone is censored is 0, and whose two medians are both censored is undefined
  (NaN): one such resample makes the interval undefined, and the verdict inconclusive.
* :func:`verdict`: "supported" only if the interval of the effect excludes no effect (its upper
  end is below 1) and does not exclude the claimed size (its lower end is at most the claimed
  ratio); "contradicted" if it excludes the claimed size (lower end above the claimed ratio);
  otherwise "inconclusive". Never a verdict from medians alone.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = [
    "CONFIDENCE",
    "N_RESAMPLES",
    "BOOTSTRAP_SEED",
    "CENSORED",
    "CENSORED_ABOVE",
    "RANK_TEST",
    "VERDICTS",
    "Estimate",
    "median",
    "median_ci",
    "ratio_ci",
    "rank_test",
    "verdict",
]

CONFIDENCE = 0.95
# 3,999 resamples: the 2.5th and 97.5th percentiles fall at fractional positions 0.95 and 0.05
# between two resampled values, so an interpolation towards a censored value lands far above
# CENSORED_ABOVE (read as inf) instead of near a finite one.
N_RESAMPLES = 3999
BOOTSTRAP_SEED = 20240  # fixed: the same tables give the same intervals
CENSORED = 1e12  # stands for "never within the budget" inside the bootstrap
CENSORED_ABOVE = 1e9  # statistics above this are "more than the budget" (inf)
RANK_TEST = "mannwhitneyu"  # two-sided; the seeds of two strategies are independent samples
NO_EFFECT = 1.0  # a ratio of medians of 1: the strategy is no different from autotvm
VERDICTS = ("supported", "inconclusive", "contradicted", "not testable")


@dataclass(frozen=True)
class Estimate:
    """A statistic and its bootstrap confidence interval (NaN: undefined)."""

    value: float
    ci_low: float
    ci_high: float


NAN_ESTIMATE = Estimate(math.nan, math.nan, math.nan)


def _clean(values: Sequence[float] | np.ndarray) -> np.ndarray:
    """Values without NaN, ``inf`` as :data:`CENSORED`."""
    v = np.asarray(values, float)
    v = v[~np.isnan(v)]
    return np.where(np.isinf(v), CENSORED, v)


def _decode(value: float) -> float:
    return math.inf if value > CENSORED_ABOVE else float(value)


def _bootstrap(data: tuple[np.ndarray, ...], statistic) -> tuple[float, float]:
    # scipy.stats is imported on use (here and in rank_test): it takes about half a second to
    # load, and the workflow's Snakefile imports the report package to declare its files.
    from scipy import stats

    with warnings.catch_warnings():
        # a degenerate (constant) sample is fine for the percentile interval
        warnings.simplefilter("ignore", stats.DegenerateDataWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        res = stats.bootstrap(
            data,
            statistic,
            n_resamples=N_RESAMPLES,
            vectorized=True,
            paired=False,
            confidence_level=CONFIDENCE,
            method="percentile",
            rng=np.random.default_rng(BOOTSTRAP_SEED),
        )
    return float(res.confidence_interval.low), float(res.confidence_interval.high)


def _median(x: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.median(x, axis=axis)


def median(values: Sequence[float] | np.ndarray) -> float:
    """The median of ``values`` (NaN dropped, ``inf``: censored); NaN for no value."""
    v = _clean(values)
    return _decode(float(np.median(v))) if v.size else math.nan


def median_ci(values: Sequence[float] | np.ndarray) -> Estimate:
    """The median of ``values`` (NaN dropped, ``inf``: censored) with its bootstrap interval.

    Fewer than two values: the median without an interval (NaN bounds).
    """
    v = _clean(values)
    if v.size == 0:
        return NAN_ESTIMATE
    value = _decode(float(np.median(v)))
    if v.size < 2:
        return Estimate(value, math.nan, math.nan)
    low, high = _bootstrap((v,), _median)
    return Estimate(value, _decode(low), _decode(high))


def _ratio_of_medians(x: np.ndarray, y: np.ndarray, axis: int = -1) -> np.ndarray:
    mx, my = np.median(x, axis=axis), np.median(y, axis=axis)
    cx, cy = mx > CENSORED_ABOVE, my > CENSORED_ABOVE
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(my > 0, mx / np.where(my > 0, my, 1.0), np.where(mx > 0, CENSORED, np.nan))
    ratio = np.where(cx, CENSORED, np.where(cy, 0.0, ratio))
    return np.where(cx & cy, np.nan, ratio)


def ratio_ci(
    values: Sequence[float] | np.ndarray, reference: Sequence[float] | np.ndarray
) -> Estimate:
    """Median of ``values`` / median of ``reference``, with its bootstrap interval.

    Both samples are resampled independently. ``inf`` (censored) is handled as the module
    docstring says; 0 / 0 is undefined (NaN), x / 0 is ``inf``.
    """
    x, y = _clean(values), _clean(reference)
    if x.size == 0 or y.size == 0:
        return NAN_ESTIMATE
    value = float(_ratio_of_medians(x, y))
    value = value if math.isnan(value) else _decode(value)
    if x.size < 2 or y.size < 2:
        return Estimate(value, math.nan, math.nan)
    low, high = _bootstrap((x, y), _ratio_of_medians)
    return Estimate(value, _decode(low), _decode(high))


def rank_test(
    values: Sequence[float] | np.ndarray, reference: Sequence[float] | np.ndarray
) -> float:
    """Two-sided Mann–Whitney U p-value of ``values`` against ``reference`` (NaN: too few).

    Censored runs tie with each other above every count. Two samples of one and the same value
    have p = 1.
    """
    x, y = _clean(values), _clean(reference)
    if x.size == 0 or y.size == 0:
        return math.nan
    if np.unique(np.r_[x, y]).size == 1:
        return 1.0
    from scipy import stats  # on use: see _bootstrap

    return float(stats.mannwhitneyu(x, y, alternative="two-sided").pvalue)


def verdict(ci_low: float, ci_high: float, claimed_ratio: float) -> str:
    """The verdict on a claim "ratio ≤ ``claimed_ratio``" (lower is better, no effect = 1).

    Args:
        ci_low, ci_high: the confidence interval of the measured ratio (NaN: undefined).
        claimed_ratio: the paper's size of the effect as a ratio (e.g. 0.123).
    Returns:
        ``supported``: the interval lies below 1 and reaches ``claimed_ratio``;
        ``contradicted``: the whole interval lies above ``claimed_ratio``;
        ``inconclusive``: anything else, an undefined interval included.
    """
    if math.isnan(ci_low) or math.isnan(ci_high):
        return "inconclusive"
    if ci_low > claimed_ratio:
        return "contradicted"
    if ci_high < NO_EFFECT:
        return "supported"
    return "inconclusive"
