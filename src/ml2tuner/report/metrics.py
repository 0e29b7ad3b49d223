"""The metrics of docs/design.md §7, per tuning run and over seeds (numpy / pandas only).

Definitions (``docs/report.md``):

* **samples to best** — measurements until the best latency found is within 1 % of the space's
  true optimum (the best valid latency in ``measured.parquet``); -1 if never within the budget.
* **samples to match** — measurements until the best latency found is at least as good as the
  ``reference`` strategy's (``autotvm``'s) final best at its full budget, pairing seeds: run
  ``seed k`` of a strategy is compared with ``autotvm``'s ``seed k``. Without that seed the
  reference is the median of ``autotvm``'s final bests. -1 if never within the budget.
* **invalid share** — share of a run's measurements that were not ``valid``.
* Over seeds: median and inter-quartile range. A run that never reached a target counts as
  needing infinitely many measurements (its value is censored, not dropped), so a median is
  ``inf`` ("more than the budget") when at least half the seeds never got there.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = [
    "BEST_TOLERANCE",
    "REFERENCE_STRATEGY",
    "Spread",
    "samples_to_best",
    "samples_to_match",
    "invalid_share",
    "censored",
    "quantile",
    "spread",
    "run_metrics",
    "match_references",
    "match_samples",
    "strategy_table",
    "curve_table",
]

BEST_TOLERANCE = 0.01  # "within 1 % of the space's true optimum"
REFERENCE_STRATEGY = "autotvm"  # the paper's "TVM-like approach"
UNIT_KEYS = ["target", "layer", "template"]


@dataclass(frozen=True)
class Spread:
    """Median and quartiles of a metric over seeds (``inf``: more than the budget)."""

    median: float
    q25: float
    q75: float
    n: int

    @property
    def defined(self) -> bool:
        return self.n > 0 and not math.isnan(self.median)


def samples_to_best(
    best_latency_us: np.ndarray, optimum_us: float, tolerance: float = BEST_TOLERANCE
) -> int:
    """Measurements until the running best is within ``tolerance`` of ``optimum_us``; -1 never.

    Args:
        best_latency_us: the running best latency after each trial (NaN before a valid one).
        optimum_us: the space's true optimum (best valid latency in ``measured.parquet``).
        tolerance: relative distance from the optimum that counts as reaching it.
    """
    if not np.isfinite(optimum_us):
        return -1
    hits = np.flatnonzero(np.asarray(best_latency_us, float) <= optimum_us * (1.0 + tolerance))
    return int(hits[0]) + 1 if hits.size else -1


def samples_to_match(best_latency_us: np.ndarray, reference_us: float) -> int:
    """Measurements until the running best is at most ``reference_us``; -1 never (or no
    reference).

    Args:
        best_latency_us: the running best latency after each trial (NaN before a valid one).
        reference_us: the latency to match (``autotvm``'s final best of the paired seed).
    """
    if not np.isfinite(reference_us):
        return -1
    hits = np.flatnonzero(np.asarray(best_latency_us, float) <= reference_us)
    return int(hits[0]) + 1 if hits.size else -1


def invalid_share(status: Sequence[str]) -> float:
    """Share of measurements that were not ``valid`` (NaN for no measurement)."""
    status = np.asarray(status)
    return float((status != "valid").mean()) if status.size else float("nan")


def censored(samples: Sequence[int] | np.ndarray) -> np.ndarray:
    """Sample counts as floats with "never" (-1) as ``inf``."""
    values = np.asarray(samples, float)
    return np.where(values < 0, np.inf, values)


def quantile(values: Sequence[float] | np.ndarray, q: float) -> float:
    """Linear-interpolation quantile (pandas' and numpy's default) that accepts ``inf``.

    NaN values are dropped. A quantile that would interpolate towards an ``inf`` value is
    ``inf``; numpy would return NaN there.
    """
    v = np.sort(np.asarray(values, float))
    v = v[~np.isnan(v)]
    if v.size == 0:
        return float("nan")
    pos = q * (v.size - 1)
    lo, hi = math.floor(pos), math.ceil(pos)
    frac = pos - lo
    if frac == 0.0:
        return float(v[lo])
    if np.isinf(v[hi]):
        return float("inf")
    return float(v[lo] + (v[hi] - v[lo]) * frac)


def spread(values: Sequence[float] | np.ndarray) -> Spread:
    """Median and quartiles of ``values`` (NaN dropped; ``inf`` kept as "more than")."""
    v = np.asarray(values, float)
    v = v[~np.isnan(v)]
    return Spread(quantile(v, 0.5), quantile(v, 0.25), quantile(v, 0.75), int(v.size))


def run_metrics(trials: pd.DataFrame, optimum_us: float, reference_us: float) -> dict:
    """The metrics of one tuning run (a ``runs.parquet`` row without its keys).

    Args:
        trials: the run's trial log (``tuning/{strategy}/seed{seed}.parquet``).
        optimum_us: the space's true optimum.
        reference_us: the latency to match (see :func:`match_references`); NaN for none.
    """
    best = trials["best_latency_us"].to_numpy(dtype=float)
    return {
        "n_trials": len(trials),
        "optimum_latency_us": optimum_us,
        "final_best_latency_us": float(np.nanmin(best))
        if np.isfinite(best).any()
        else float("nan"),
        "samples_to_best": samples_to_best(best, optimum_us),
        "n_invalid": int((trials["status"] != "valid").sum()),
        "invalid_share": invalid_share(trials["status"].to_numpy()),
        "match_reference_latency_us": reference_us,
        "samples_to_match": samples_to_match(best, reference_us),
    }


def match_references(
    final_best: pd.DataFrame, reference: str = REFERENCE_STRATEGY
) -> dict[tuple, float]:
    """The latency each run must match: ``reference``'s final best of the same unit and seed.

    Args:
        final_best: one row per run with the unit keys, ``strategy``, ``seed`` and
            ``final_best_latency_us``.
        reference: the reference strategy.
    Returns:
        ``{(target, layer, template, seed): latency}`` for every unit with a reference run;
        seeds the reference did not run map to the median of its final bests (key seed -1).
    """
    refs: dict[tuple, float] = {}
    mine = final_best[final_best["strategy"] == reference]
    for key, group in mine.groupby(UNIT_KEYS, sort=False):
        for seed, value in zip(group["seed"], group["final_best_latency_us"], strict=True):
            refs[(*key, int(seed))] = float(value)
        refs[(*key, -1)] = spread(group["final_best_latency_us"]).median
    return refs


def match_samples(runs: pd.DataFrame) -> np.ndarray:
    """``samples_to_match`` of ``runs`` censored (never: ``inf``), NaN where there was no
    reference run to match."""
    values = censored(runs["samples_to_match"])
    values[runs["match_reference_latency_us"].isna().to_numpy()] = np.nan
    return values


def _spread_columns(prefix: str, values) -> dict[str, float]:
    s = spread(values)
    return {f"{prefix}_median": s.median, f"{prefix}_q25": s.q25, f"{prefix}_q75": s.q75}


def _ratio(numerator: float, denominator: float) -> float:
    if math.isnan(numerator) or math.isnan(denominator):
        return float("nan")
    if denominator == 0:
        return float("nan") if numerator == 0 else float("inf")
    if math.isinf(denominator):
        return float("nan")
    return numerator / denominator


def strategy_table(runs: pd.DataFrame, reference: str = REFERENCE_STRATEGY) -> pd.DataFrame:
    """Median and quartiles over seeds per unit and strategy (``strategies.parquet`` rows).

    ``samples_vs_reference`` and ``invalid_vs_reference`` divide the strategy's median by the
    ``reference`` strategy's median of the same unit (NaN without a reference run).
    """
    rows = []
    for key, group in runs.groupby(UNIT_KEYS + ["strategy"], sort=False):
        has_ref = group["match_reference_latency_us"].notna()
        rows.append(
            {
                **dict(zip(UNIT_KEYS + ["strategy"], key, strict=True)),
                "n_seeds": len(group),
                "reached_share": float((group["samples_to_best"] > 0).mean()),
                **_spread_columns("samples_to_best", censored(group["samples_to_best"])),
                **_spread_columns("invalid_share", group["invalid_share"]),
                **_spread_columns("final_best_latency_us", group["final_best_latency_us"]),
                "match_reached_share": float((group["samples_to_match"] > 0)[has_ref].mean())
                if has_ref.any()
                else np.nan,
                **_spread_columns("samples_to_match", match_samples(group)),
            }
        )
    table = pd.DataFrame(rows)
    if table.empty:
        return table.assign(samples_vs_reference=[], invalid_vs_reference=[])
    ref = table[table["strategy"] == reference].set_index(UNIT_KEYS)
    keys = list(zip(*(table[k] for k in UNIT_KEYS), strict=True))
    ref_samples = [ref["samples_to_match_median"].get(k, np.nan) for k in keys]
    ref_invalid = [ref["invalid_share_median"].get(k, np.nan) for k in keys]
    table["samples_vs_reference"] = [
        _ratio(a, b) for a, b in zip(table["samples_to_match_median"], ref_samples, strict=True)
    ]
    table["invalid_vs_reference"] = [
        _ratio(a, b) for a, b in zip(table["invalid_share_median"], ref_invalid, strict=True)
    ]
    return table


def curve_table(best_latency_us: Sequence[np.ndarray]) -> pd.DataFrame:
    """Median and quartiles over seeds of the best latency after each measurement.

    Args:
        best_latency_us: one running-best array per seed (NaN before a valid measurement);
            shorter runs (a space smaller than the budget) stop contributing after their end.
    Returns:
        ``n_measurements`` (1, 2, …), ``n_seeds`` and ``best_latency_us_{median,q25,q75}``;
        a quantile is NaN where that share of seeds has not found a valid configuration yet.
    """
    length = max((len(b) for b in best_latency_us), default=0)
    rows = []
    for i in range(length):
        # "nothing valid yet" is an infinitely bad best, so it is ranked, not dropped.
        at = [np.inf if np.isnan(b[i]) else float(b[i]) for b in best_latency_us if i < len(b)]
        qs = [quantile(at, q) for q in (0.5, 0.25, 0.75)]
        qs = [q if np.isfinite(q) else np.nan for q in qs]
        rows.append((i + 1, len(at), *qs))
    return pd.DataFrame(
        rows,
        columns=[
            "n_measurements",
            "n_seeds",
            "best_latency_us_median",
            "best_latency_us_q25",
            "best_latency_us_q75",
        ],
    )
