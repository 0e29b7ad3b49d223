"""The paper's headline claims, each under both of its wordings, measured with a verdict each.

Each claim is a ratio ``ml2tuner`` / ``autotvm`` (the paper's "TVM-like approach") that the
paper puts at or below a size (``docs/report.md``):

* samples, on the samples to the top-1 % latency cut (the NEST-C prototype's metric):
  the abstracts' "only 12.3 % of the samples" (ratio ≤ 0.123) and the poster's "12.3 % fewer
  samples" (ratio ≤ 0.877);
* invalid, on the invalid share: the abstracts' "reduces invalid profiling attempts by 60.8 %"
  (ratio ≤ 0.392) and the poster's "reducing the invalidity ratio to 60.8 %" (ratio ≤ 0.608);
* rmse: RMSE(A) is 91.6 % of RMSE(P) (ratio ≤ 0.916), from one held-out split.

The verdict comes from the ratio's bootstrap confidence interval (:func:`.stats.verdict`);
the rmse claim has a single held-out split and so no interval: it is inconclusive by rule.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from .stats import VERDICTS, verdict

__all__ = [
    "Claim",
    "PAPER_CLAIMS",
    "SEED_CLAIMS",
    "TUNER",
    "ClaimResult",
    "unit_claims",
    "claims_paragraph",
]

TUNER = "ml2tuner"


@dataclass(frozen=True)
class Claim:
    """One claim of the paper under one wording.

    Attributes:
        name: ``samples_only``, ``samples_fewer``, ``invalid_by``, ``invalid_to`` or ``rmse``.
        quote: the paper's words.
        source: where the wording is from.
        metric: the compared metric (``comparisons.parquet``), or ``rmse``.
        claimed_ratio: the claim holds when ml2tuner / autotvm is at most this.
    """

    name: str
    quote: str
    source: str
    metric: str
    claimed_ratio: float


PAPER_CLAIMS: dict[str, Claim] = {
    c.name: c
    for c in (
        Claim(
            "samples_only",
            "ML²Tuner needs only 12.3 % of the samples of the TVM-like approach",
            "abstracts",
            "samples_to_cut",
            0.123,
        ),
        Claim(
            "samples_fewer",
            "ML²Tuner needs 12.3 % fewer samples than the TVM-like approach",
            "poster",
            "samples_to_cut",
            1 - 0.123,
        ),
        Claim(
            "invalid_by",
            "ML²Tuner reduces invalid profiling attempts by 60.8 %",
            "abstracts",
            "invalid_share",
            1 - 0.608,
        ),
        Claim(
            "invalid_to",
            "ML²Tuner reduces the invalidity ratio to 60.8 %",
            "poster",
            "invalid_share",
            0.608,
        ),
        Claim("rmse", "RMSE(A) is 91.6 % of RMSE(P)", "abstracts", "rmse", 0.916),
    )
}

# the claims measured over seeds, each with a confidence interval (rmse has one split)
SEED_CLAIMS = tuple(name for name, c in PAPER_CLAIMS.items() if c.metric != "rmse")


@dataclass(frozen=True)
class ClaimResult:
    """A claim on one unit: the measured ratio, its CI, the rank test and the verdict."""

    claim: Claim
    ratio: float
    ci_low: float
    ci_high: float
    p_value: float
    verdict: str
    reason: str = ""


def _untestable(claim: Claim, reason: str) -> ClaimResult:
    return ClaimResult(claim, math.nan, math.nan, math.nan, math.nan, "not testable", reason)


def _seed_claim(claim: Claim, comparisons: pd.DataFrame) -> ClaimResult:
    rows = comparisons[(comparisons["strategy"] == TUNER) & (comparisons["metric"] == claim.metric)]
    if rows.empty:
        return _untestable(claim, f"no {TUNER} and autotvm runs on this unit")
    r = rows.iloc[0]
    if r["reference_median"] == 0 and r["median"] == 0:
        return _untestable(claim, "neither strategy's median run made an invalid measurement")
    reason = ""
    if math.isnan(r["ratio_ci_low"]):
        reason = (
            "no confidence interval: both medians beyond the budget in some resamples"
            if min(r["n"], r["n_reference"]) >= 2
            else "no confidence interval: fewer than two seeds"
        )
    return ClaimResult(
        claim,
        float(r["ratio"]),
        float(r["ratio_ci_low"]),
        float(r["ratio_ci_high"]),
        float(r["p_value"]),
        verdict(float(r["ratio_ci_low"]), float(r["ratio_ci_high"]), claim.claimed_ratio),
        reason,
    )


def _rmse_claim(claim: Claim, model_values: Mapping[str, float]) -> ClaimResult:
    rmse_p, rmse_a = model_values.get("rmse_P", math.nan), model_values.get("rmse_A", math.nan)
    if math.isnan(rmse_p) or math.isnan(rmse_a) or rmse_p <= 0:
        return _untestable(
            claim, "no RMSE was reported: P and A were not trained with a regression objective"
        )
    return ClaimResult(
        claim,
        rmse_a / rmse_p,
        math.nan,
        math.nan,
        math.nan,
        "inconclusive",
        "one held-out split: no confidence interval",
    )


def unit_claims(comparisons: pd.DataFrame, model_values: Mapping[str, float]) -> list[ClaimResult]:
    """Every claim of :data:`PAPER_CLAIMS` on one unit.

    Args:
        comparisons: the unit's rows of ``comparisons.parquet``.
        model_values: ``{"rmse_P": …, "rmse_A": …}`` of the unit (NaN when unknown).
    """
    return [
        _rmse_claim(c, model_values) if c.metric == "rmse" else _seed_claim(c, comparisons)
        for c in PAPER_CLAIMS.values()
    ]


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def claims_paragraph(per_unit: Mapping[str, list[ClaimResult]], max_named: int = 4) -> str:
    """A plain-language paragraph: per claim, on how many units it is supported, contradicted
    or inconclusive (naming the units when there are at most ``max_named``).

    Args:
        per_unit: unit label (e.g. ``"C2 (zcu102, nestc)"``) → its claim results.
        max_named: name the units of a verdict only up to this many.
    """
    if not per_unit:
        return "No unit was reported, so no claim could be checked."
    sentences = []
    for name, claim in PAPER_CLAIMS.items():
        by_verdict: dict[str, list[str]] = {}
        for unit, results in per_unit.items():
            result = next(r for r in results if r.claim.name == name)
            by_verdict.setdefault(result.verdict, []).append(unit)
        parts = []
        for v in VERDICTS:
            units = by_verdict.get(v, [])
            if units:
                where = f" ({_join(units)})" if len(units) <= max_named else ""
                parts.append(f"{v} on {len(units)} of {len(per_unit)} units{where}")
        sentences.append(
            f"“{claim.quote}” ({claim.source}; ratio ≤ {claim.claimed_ratio:.3g}): "
            f"{'; '.join(parts)}."
        )
    return " ".join(sentences)
