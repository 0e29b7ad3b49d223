"""The metrics of one tuning run, from its trial log and the unit's measured table.

Definitions (``docs/report.md``):

* **samples to the cut** — measurements until the best latency found is at or below the
  space's top-1 % latency cut, the 1st percentile of the valid latencies in ``measured.parquet``
  (the NEST-C prototype's "equivalent performance", etri/nest-compiler
  ``utils/autotuning/xgboost_rank.py``); -1 if never within the budget. The paper's samples
  claim is tested on this metric.
* **samples to best** — measurements until the best latency found is within 1 % of the space's
  true optimum (the best valid latency in ``measured.parquet``); -1 if never within the budget.
* **samples to match** — measurements until the best latency found is at least as good as the
  ``reference`` strategy's (``autotvm``'s) final best at its full budget, pairing seeds: run
  ``seed k`` of a strategy is compared with ``autotvm``'s ``seed k``. Without that seed the
  reference is the median of ``autotvm``'s final bests. -1 if never within the budget.
* **invalid share** — share of a run's measurements that were not ``valid``.
* **best over optimum** — the run's final best latency / the space's optimum (1 = found it).
* A run that never reached a target counts as needing infinitely many measurements (its value
  is censored, not dropped): :func:`censored`. Medians with confidence intervals and the tests
  against ``autotvm`` are in :mod:`.stats`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = [
    "BEST_TOLERANCE",
    "CUT_QUANTILE",
    "REFERENCE_STRATEGY",
    "Spread",
    "latency_cut",
    "samples_to_target",
    "samples_to_cut",
    "samples_to_best",
    "samples_to_match",
    "invalid_share",
    "censored",
    "quantile",
    "spread",
    "run_metrics",
    "match_references",
    "match_samples",
    "curve_table",
]

BEST_TOLERANCE = 0.01  # "within 1 % of the space's true optimum"
CUT_QUANTILE = 0.01  # the top-1 % latency cut: the 1st percentile of the valid latencies
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


def latency_cut(measured: pd.DataFrame) -> float:
    """The top-1 % latency cut: the 1st percentile of the valid latencies (linear), NaN if none.

    The NEST-C prototype's target (etri/nest-compiler ``utils/autotuning/xgboost_rank.py``:
    the latency under which a pick counts as equivalent to the best).
    """
    valid = measured.loc[measured["status"] == "valid", "latency_us"].to_numpy(float)
    return float(np.quantile(valid, CUT_QUANTILE)) if valid.size else float("nan")


def samples_to_target(best_latency_us: np.ndarray, target_us: float) -> int:
    """Measurements until the running best is at most ``target_us``; -1 never (or no target).

    Args:
        best_latency_us: the running best latency after each trial (NaN before a valid one).
        target_us: the latency to reach.
    """
    if not np.isfinite(target_us):
        return -1
    hits = np.flatnonzero(np.asarray(best_latency_us, float) <= target_us)
    return int(hits[0]) + 1 if hits.size else -1


def samples_to_cut(trials: pd.DataFrame, cut: float) -> float:
    """Measurements until the best found is at most ``cut`` (``inf``: never in the run)."""
    return float(censored([samples_to_target(trials["best_latency_us"].to_numpy(float), cut)])[0])


def samples_to_best(
    best_latency_us: np.ndarray, optimum_us: float, tolerance: float = BEST_TOLERANCE
) -> int:
    """Measurements until the running best is within ``tolerance`` of ``optimum_us``; -1 never.

    Args:
        best_latency_us: the running best latency after each trial (NaN before a valid one).
        optimum_us: the space's true optimum (best valid latency in ``measured.parquet``).
        tolerance: relative distance from the optimum that counts as reaching it.
    """
    return samples_to_target(best_latency_us, optimum_us * (1.0 + tolerance))


def samples_to_match(best_latency_us: np.ndarray, reference_us: float) -> int:
    """Measurements until the running best is at most ``reference_us``; -1 never (or no
    reference).

    Args:
        best_latency_us: the running best latency after each trial (NaN before a valid one).
        reference_us: the latency to match (``autotvm``'s final best of the paired seed).
    """
    return samples_to_target(best_latency_us, reference_us)


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


def run_metrics(trials: pd.DataFrame, space: Mapping[str, float], reference_us: float) -> dict:
    """The metrics of one tuning run (a ``runs.parquet`` row without its keys).

    Args:
        trials: the run's trial log (``tuning/{strategy}/seed{seed}.parquet``).
        space: the unit's ``optimum_latency_us`` and ``cut_latency_us``.
        reference_us: the latency to match (see :func:`match_references`); NaN for none.
    """
    best = trials["best_latency_us"].to_numpy(dtype=float)
    optimum = float(space["optimum_latency_us"])
    final = float(np.nanmin(best)) if np.isfinite(best).any() else float("nan")
    return {
        "n_trials": len(trials),
        "optimum_latency_us": optimum,
        "final_best_latency_us": final,
        "best_over_optimum": final / optimum if optimum > 0 else float("nan"),
        "cut_latency_us": float(space["cut_latency_us"]),
        "samples_to_cut": samples_to_target(best, float(space["cut_latency_us"])),
        "samples_to_best": samples_to_best(best, optimum),
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
