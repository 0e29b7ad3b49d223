"""Per unit and strategy, over seeds: medians with confidence intervals (``strategies.parquet``)
and every strategy against ``autotvm`` (``comparisons.parquet``), from ``runs.parquet`` rows.

The statistics are those of :mod:`.stats`; the metrics those of :mod:`.metrics`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .metrics import REFERENCE_STRATEGY, UNIT_KEYS, censored, match_samples
from .stats import RANK_TEST, median, median_ci, rank_test, ratio_ci

__all__ = ["SEED_METRICS", "SAMPLE_METRICS", "seed_values", "strategy_table", "comparison_table"]

# metric -> what it is; every one gets a median with CI per strategy and a test vs autotvm.
SEED_METRICS: dict[str, str] = {
    "samples_to_cut": "measurements to the top-1 % latency cut",
    "samples_to_best": "measurements to within 1 % of the optimum",
    "samples_to_match": "measurements to match autotvm's final best",
    "invalid_share": "share of invalid measurements",
    "best_over_optimum": "final best latency / optimum",
}
SAMPLE_METRICS = ("samples_to_cut", "samples_to_best", "samples_to_match")


def seed_values(runs: pd.DataFrame, metric: str) -> np.ndarray:
    """One value per run: counts censored (never: ``inf``), NaN where undefined."""
    if metric == "samples_to_match":
        return match_samples(runs)
    if metric in SAMPLE_METRICS:
        return censored(runs[metric])
    return runs[metric].to_numpy(float)


def strategy_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Per unit and strategy: seeds, and per metric the median, its 95 % CI and (counts) the
    share of seeds that reached the target."""
    rows = []
    for key, group in runs.groupby([*UNIT_KEYS, "strategy"], sort=False):
        row = {**dict(zip([*UNIT_KEYS, "strategy"], key, strict=True)), "n_seeds": len(group)}
        for metric in SEED_METRICS:
            values = seed_values(group, metric)
            estimate = median_ci(values)
            row[f"{metric}_median"] = estimate.value
            row[f"{metric}_ci_low"] = estimate.ci_low
            row[f"{metric}_ci_high"] = estimate.ci_high
            if metric in SAMPLE_METRICS:
                defined = values[~np.isnan(values)]
                row[f"{metric}_reached"] = (
                    float(np.isfinite(defined).mean()) if defined.size else np.nan
                )
        rows.append(row)
    return pd.DataFrame(rows)


def comparison_table(runs: pd.DataFrame, reference: str = REFERENCE_STRATEGY) -> pd.DataFrame:
    """Every strategy but ``reference`` against it, per unit and metric.

    Returns:
        ``target, layer, template, strategy, metric, n, n_reference, median,
        reference_median, ratio, ratio_ci_low, ratio_ci_high, test, p_value``: the ratio of
        medians (strategy / reference) with its bootstrap CI, and the rank test's p-value.
    """
    rows = []
    for key, unit in runs.groupby(UNIT_KEYS, sort=False):
        ref = unit[unit["strategy"] == reference]
        if ref.empty:
            continue
        for strategy, group in unit.groupby("strategy", sort=False):
            if strategy == reference:
                continue
            for metric in SEED_METRICS:
                x, y = seed_values(group, metric), seed_values(ref, metric)
                ratio = ratio_ci(x, y)
                rows.append(
                    {
                        **dict(zip(UNIT_KEYS, key, strict=True)),
                        "strategy": strategy,
                        "metric": metric,
                        "n": int((~np.isnan(x)).sum()),
                        "n_reference": int((~np.isnan(y)).sum()),
                        "median": median(x),
                        "reference_median": median(y),
                        "ratio": ratio.value,
                        "ratio_ci_low": ratio.ci_low,
                        "ratio_ci_high": ratio.ci_high,
                        "test": RANK_TEST,
                        "p_value": rank_test(x, y),
                    }
                )
    return pd.DataFrame(rows)
