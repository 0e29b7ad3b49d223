"""One score per strategy over all spaces, after Kernel Tuner's methodology for comparing
optimisation algorithms (Willemsen, van Werkhoven et al., FGCS 2024; its code:
AutoTuningAssociation/autotuning_methodology ``src/autotuning_methodology/baseline.py``,
``get_standardised_curves``).

Per unit and strategy, after *t* measurements, the score is

    (random's expected best − strategy's mean best) / (random's expected best − optimum)

so uniform random search scores 0 and a strategy that has found the optimum scores 1. Random's
expected best is computed exactly from ``measured.parquet`` (:func:`random_expected_best`), not
by simulating random runs. As the methodology does, each unit's curve ends where random search
is expected to have come :data:`CUTOFF` of the way from the median valid latency to the
optimum (:func:`cutoff_window`; autotuning_methodology's ``cutoff_percentile``): past it the
denominator shrinks towards 0 on flat spaces and a few µs of seed noise swamp the score. The
score is averaged over that window (one number per unit and strategy), then over units, with a
bootstrap CI over units (``ranking.parquet``).

"Nothing valid measured yet" counts as the space's slowest valid latency, for random and every
strategy alike, so an invalid measurement never improves the best and every value is finite.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from .metrics import UNIT_KEYS
from .stats import BOOTSTRAP_SEED, CONFIDENCE, N_RESAMPLES

__all__ = [
    "CUTOFF",
    "N_FRACTIONS",
    "cutoff_window",
    "random_expected_best",
    "best_so_far",
    "score_curve",
    "unit_scores",
    "ranking_table",
    "fraction_grid",
    "mean_score_curves",
]

N_FRACTIONS = 50  # budget fractions 1/50 … 1 at which the units' curves are averaged
CUTOFF = 0.95  # autotuning_methodology's default cutoff_percentile


def cutoff_window(random_best: np.ndarray, median: float, optimum: float) -> int:
    """Measurements in a unit's scoring window: until random's expected best has come
    :data:`CUTOFF` of the way from the median valid latency to the optimum (the whole
    ``random_best`` if it never does)."""
    target = median - CUTOFF * (median - optimum)
    reached = np.flatnonzero(random_best <= target)
    return int(reached[0]) + 1 if reached.size else len(random_best)


def random_expected_best(measured: pd.DataFrame, budget: int) -> np.ndarray:
    """Expected best latency of uniform random sampling without replacement, after 1…budget.

    With the valid latencies sorted, l_1 ≤ … ≤ l_V, among N configurations, the best after t
    draws exceeds l_i exactly when none of the i fastest was drawn, with probability
    S_t(i) = C(N − i, t) / C(N, t) = S_{t−1}(i) · (N − i − t + 1) / (N − t + 1); so
    E[best_t] = l_1 + Σ_{i<V} S_t(i) (l_{i+1} − l_i), where drawing nothing valid leaves the
    best at l_V.

    Args:
        measured: the unit's ``measured.parquet`` (``status``, ``latency_us``).
        budget: the number of measurements.
    Returns:
        ``budget`` values (NaN throughout when the space has no valid configuration).
    """
    n = len(measured)
    latency = np.sort(measured.loc[measured["status"] == "valid", "latency_us"].to_numpy(float))
    if latency.size == 0:
        return np.full(budget, np.nan)
    gaps = np.diff(latency)
    fastest = np.arange(1, latency.size, dtype=float)  # i of S_t(i), 1 … V − 1
    survive = np.ones(latency.size - 1)
    out = np.full(budget, latency[0])  # beyond the whole space: the optimum for sure
    for t in range(min(budget, n)):
        survive *= np.clip((n - fastest - t) / (n - t), 0.0, None)
        out[t] = latency[0] + survive @ gaps
    return out


def best_so_far(best_latency_us: np.ndarray, budget: int, worst_us: float) -> np.ndarray:
    """A run's best latency after 1…budget measurements: NaN (nothing valid yet) as
    ``worst_us``, a run shorter than the budget (a small space) held at its last value."""
    best = np.asarray(best_latency_us, float)[:budget]
    best = np.where(np.isnan(best), worst_us, np.minimum(best, worst_us))
    if best.size < budget:
        best = np.r_[best, np.full(budget - best.size, best[-1] if best.size else worst_us)]
    return best


def score_curve(mean_best: np.ndarray, random_best: np.ndarray, optimum: float) -> np.ndarray:
    """Score after each measurement: 0 as good as random's expectation, 1 at the optimum.

    Where random is itself certain of the optimum (its expected best equals it) the score is 1
    if the strategy is at the optimum too, else 0.
    """
    span = random_best - optimum
    with np.errstate(divide="ignore", invalid="ignore"):
        score = (random_best - mean_best) / span
    return np.where(span > 0, score, np.where(mean_best <= optimum, 1.0, 0.0))


def unit_scores(
    measured: Mapping[tuple, pd.DataFrame],
    runs: Mapping[tuple, Sequence[np.ndarray]],
    budget: Mapping[tuple, int],
) -> pd.DataFrame:
    """``scores.parquet``: per unit, strategy and measurement, the score of the mean best.

    Args:
        measured: unit key → ``measured.parquet``.
        runs: (unit key, strategy) → every seed's running best latency.
        budget: unit key → the measurements every strategy of the unit made (the shortest
            budget where strategies differ): the longest scoring window.
    Returns:
        ``target, layer, template, strategy, n_measurements, budget_fraction,
        random_best_us, mean_best_us, score`` over the unit's window (:func:`cutoff_window`;
        ``budget_fraction`` is of the window); units without a valid configuration left out.
    """
    frames = []
    random_best = {key: random_expected_best(m, budget[key]) for key, m in measured.items()}
    for (key, strategy), bests in runs.items():
        latency = measured[key].loc[measured[key]["status"] == "valid", "latency_us"]
        if latency.empty:
            continue
        optimum, worst = float(latency.min()), float(latency.max())
        t = cutoff_window(random_best[key], float(latency.median()), optimum)
        # the mean excess over the optimum, so seeds at the optimum average to it exactly: a
        # mean of the latencies themselves can land an ulp below it, and where most of the
        # space ties at the optimum random's expectation comes that close and the score
        # exceeds 1
        excess = [best_so_far(b, t, worst) - optimum for b in bests]
        mean_best = optimum + np.mean(excess, axis=0)
        frames.append(
            pd.DataFrame(
                {
                    **dict(zip(UNIT_KEYS, key, strict=True)),
                    "strategy": strategy,
                    "n_measurements": np.arange(1, t + 1),
                    "budget_fraction": np.arange(1, t + 1) / t,
                    "random_best_us": random_best[key][:t],
                    "mean_best_us": mean_best,
                    "score": score_curve(mean_best, random_best[key][:t], optimum),
                }
            )
        )
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _mean_ci(values: np.ndarray) -> tuple[float, float, float]:
    """Mean over axis 0 with its bootstrap CI (each column separately)."""
    mean = values.mean(axis=0)
    if values.shape[0] < 2:
        return mean, np.full_like(mean, np.nan), np.full_like(mean, np.nan)
    res = stats.bootstrap(
        (values,),
        np.mean,
        n_resamples=N_RESAMPLES,
        vectorized=True,
        axis=0,
        confidence_level=CONFIDENCE,
        method="percentile",
        rng=np.random.default_rng(BOOTSTRAP_SEED),
    )
    return mean, res.confidence_interval.low, res.confidence_interval.high


def ranking_table(scores: pd.DataFrame) -> pd.DataFrame:
    """``ranking.parquet``: per strategy, the score averaged over the budget, then over units.

    Returns:
        ``rank, strategy, n_units, mean_score, ci_low, ci_high``, best first (a bootstrap CI
        over units; NaN bounds with fewer than two units).
    """
    per_unit = scores.groupby([*UNIT_KEYS, "strategy"], sort=False)["score"].mean().reset_index()
    rows = []
    for strategy, group in per_unit.groupby("strategy", sort=False):
        values = group["score"].to_numpy(float)[:, None]
        mean, low, high = _mean_ci(values)
        rows.append(
            {
                "strategy": strategy,
                "n_units": len(values),
                "mean_score": float(mean[0]),
                "ci_low": float(low[0]),
                "ci_high": float(high[0]),
            }
        )
    table = pd.DataFrame(rows, columns=["strategy", "n_units", "mean_score", "ci_low", "ci_high"])
    table = table.sort_values("mean_score", ascending=False, kind="stable").reset_index(drop=True)
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    return table


def fraction_grid(n: int = N_FRACTIONS) -> np.ndarray:
    """Budget fractions 1/n … 1."""
    return np.arange(1, n + 1) / n


def mean_score_curves(scores: pd.DataFrame, n: int = N_FRACTIONS) -> pd.DataFrame:
    """Per strategy and budget fraction: the mean score over units with its bootstrap CI.

    Each unit's curve is read after ⌈fraction · budget⌉ measurements, so units with different
    budgets average at the same fractions.

    Returns:
        ``strategy, budget_fraction, n_units, mean_score, ci_low, ci_high``.
    """
    grid = fraction_grid(n)
    frames = []
    for strategy, mine in scores.groupby("strategy", sort=False):
        curves = []
        for _, unit in mine.groupby(UNIT_KEYS, sort=False):
            score = unit.sort_values("n_measurements")["score"].to_numpy(float)
            at = np.ceil(grid * len(score)).astype(int) - 1
            curves.append(score[np.clip(at, 0, len(score) - 1)])
        mean, low, high = _mean_ci(np.array(curves))
        frames.append(
            pd.DataFrame(
                {
                    "strategy": strategy,
                    "budget_fraction": grid,
                    "n_units": len(curves),
                    "mean_score": mean,
                    "ci_low": low,
                    "ci_high": high,
                }
            )
        )
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
