"""The paper's three headline claims, measured on a reproduction, with a verdict each.

Each claim is an *effect* of ML²Tuner over a baseline, in the paper's own terms:

* ``samples`` — ML²Tuner needs 12.3 % of the samples the TVM-like approach (``autotvm``) needs
  to reach the same performance. Reproduced value: ``ml2tuner``'s median samples to match
  ``autotvm``'s final best / ``autotvm``'s median samples to reach it (``samples_vs_reference``).
* ``invalid`` — ML²Tuner makes 60.8 % fewer invalid profiling attempts. Reproduced value:
  1 − ``ml2tuner``'s median invalid share / ``autotvm``'s.
* ``rmse`` — RMSE(A) is 91.6 % of RMSE(P) (hidden features make the cost model more
  accurate). Reproduced value: RMSE(A) / RMSE(P) on held-out valid configurations.

Verdict, from the *improvement* (samples and rmse: 1 − ratio; invalid: the reduction):
``supported`` when it is at least half the paper's, ``partly supported`` when it is at least a
tenth of the paper's, ``not supported`` when it is smaller, zero or negative, ``not testable``
when a strategy or model it needs is missing, or its value undefined.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from .metrics import REFERENCE_STRATEGY

__all__ = [
    "Claim",
    "PAPER_CLAIMS",
    "TUNER",
    "VERDICTS",
    "ClaimResult",
    "judge",
    "unit_claims",
    "claims_paragraph",
]

TUNER = "ml2tuner"
VERDICTS = ("supported", "partly supported", "not supported", "not testable")
SUPPORT_FRACTION = 0.5  # an effect at least this share of the paper's counts as supported
NEGLIGIBLE_FRACTION = 0.1  # an effect below this share of the paper's counts as none


@dataclass(frozen=True)
class Claim:
    """One claim of the paper.

    Attributes:
        name: ``samples``, ``invalid`` or ``rmse``.
        quote: the paper's words.
        paper_value: the number the paper reports (as a fraction).
        measure: what the reproduced value is.
        lower_is_better: whether the claimed value is a ratio to minimise (else a reduction).
    """

    name: str
    quote: str
    paper_value: float
    measure: str
    lower_is_better: bool

    def improvement(self, value: float) -> float:
        """The effect size: 1 − ratio for ratios, the reduction itself for reductions."""
        return 1.0 - value if self.lower_is_better else value


PAPER_CLAIMS: dict[str, Claim] = {
    "samples": Claim(
        "samples",
        "ML²Tuner reaches the TVM-like approach's performance with 12.3 % of its samples",
        0.123,
        "ml2tuner's median samples to match autotvm's final best / autotvm's",
        lower_is_better=True,
    ),
    "invalid": Claim(
        "invalid",
        "ML²Tuner makes 60.8 % fewer invalid profiling attempts",
        0.608,
        "1 − ml2tuner's median invalid share / autotvm's",
        lower_is_better=False,
    ),
    "rmse": Claim(
        "rmse",
        "RMSE(A) is 91.6 % of RMSE(P)",
        0.916,
        "RMSE(A) / RMSE(P) on held-out valid configurations",
        lower_is_better=True,
    ),
}


@dataclass(frozen=True)
class ClaimResult:
    """A claim on one unit: the reproduced value and the verdict."""

    claim: Claim
    value: float
    verdict: str
    reason: str


def judge(claim: Claim, value: float, untestable_reason: str = "") -> ClaimResult:
    """The verdict on ``claim`` given the reproduced ``value``."""
    if untestable_reason:
        return ClaimResult(claim, float("nan"), "not testable", untestable_reason)
    if math.isnan(value):
        return ClaimResult(claim, value, "not testable", "the reproduced value is undefined")
    effect, paper_effect = claim.improvement(value), claim.improvement(claim.paper_value)
    if effect >= SUPPORT_FRACTION * paper_effect:
        return ClaimResult(claim, value, "supported", "")
    if effect >= NEGLIGIBLE_FRACTION * paper_effect:
        return ClaimResult(claim, value, "partly supported", "")
    return ClaimResult(
        claim,
        value,
        "not supported",
        "no improvement" if effect <= 0 else "an improvement below a tenth of the paper's",
    )


def _strategy_reason(strategies: pd.DataFrame, names: tuple[str, ...]) -> str:
    present = strategies.set_index("strategy")
    for name in names:
        if name not in present.index:
            return f"no {name} runs in this experiment"
    return ""


def unit_claims(strategies: pd.DataFrame, model_values: Mapping[str, float]) -> list[ClaimResult]:
    """The three claims on one unit.

    Args:
        strategies: the unit's rows of ``strategies.parquet``.
        model_values: ``{"rmse_P": …, "rmse_A": …}`` of the unit (NaN when unknown).
    """
    reason = _strategy_reason(strategies, (TUNER, REFERENCE_STRATEGY))
    row = strategies.set_index("strategy").loc[TUNER] if not reason else None
    samples = float(row["samples_vs_reference"]) if row is not None else float("nan")
    invalid = 1.0 - float(row["invalid_vs_reference"]) if row is not None else float("nan")
    rmse_p, rmse_a = model_values.get("rmse_P", math.nan), model_values.get("rmse_A", math.nan)
    model_reason = ""
    if math.isnan(rmse_p) or math.isnan(rmse_a):
        model_reason = "no RMSE was reported: P and A were not trained with a regression objective"
    rmse_ratio = rmse_a / rmse_p if not model_reason and rmse_p > 0 else float("nan")
    return [
        judge(PAPER_CLAIMS["samples"], samples, reason),
        judge(PAPER_CLAIMS["invalid"], invalid, reason),
        judge(PAPER_CLAIMS["rmse"], rmse_ratio, model_reason),
    ]


def _percent(value: float) -> str:
    if math.isinf(value):
        return "more than the budget allows"
    return f"{100 * value:.1f} %"


def _value_phrase(result: ClaimResult) -> str:
    name = result.claim.name
    if name == "samples":
        if math.isinf(result.value):
            return "ml2tuner did not match autotvm's final best in most seeds"
        return f"ml2tuner needed {_percent(result.value)} of autotvm's samples"
    if name == "invalid":
        more_or_fewer = "fewer" if result.value >= 0 else "more"
        return f"ml2tuner made {_percent(abs(result.value))} {more_or_fewer} invalid attempts"
    return f"RMSE(A) was {_percent(result.value)} of RMSE(P)"


_LEAD = {
    "supported": "This run supports the claim that {quote}",
    "partly supported": (
        "This run supports the claim that {quote} only in part, with between a "
        "tenth and a half of the paper's effect,"
    ),
    "not supported": "This run does not support the claim that {quote}",
    "not testable": "The claim that {quote} cannot be tested here",
}


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _scope(n: int) -> str:
    return "" if n == 1 else " on both units" if n == 2 else f" on all {n} units"


def claims_paragraph(per_unit: Mapping[str, list[ClaimResult]]) -> str:
    """A plain-language paragraph: which claims the reproduction supports and which not.

    Args:
        per_unit: unit label (e.g. ``"C2 (zcu102, nestc)"``) → its three claim results.
    """
    if not per_unit:
        return "No unit was reported, so no claim could be checked."
    sentences = []
    for name, claim in PAPER_CLAIMS.items():
        results = {
            unit: next(r for r in rs if r.claim.name == name) for unit, rs in per_unit.items()
        }
        verdicts = sorted({r.verdict for r in results.values()}, key=VERDICTS.index)
        if verdicts == ["not testable"]:
            reasons = sorted({r.reason for r in results.values()})
            sentences.append(
                f"{_LEAD['not testable'].format(quote=claim.quote)}: {'; '.join(reasons)}."
            )
            continue
        details = _join(
            [
                f"{_value_phrase(r)} on {unit}"
                if r.verdict != "not testable"
                else f"{unit} is not testable ({r.reason})"
                for unit, r in results.items()
            ]
        )
        if len(verdicts) == 1:
            lead = _LEAD[verdicts[0]].format(quote=claim.quote)
            sentences.append(f"{lead}{_scope(len(results))}: {details}.")
        else:
            units = {v: [u for u, r in results.items() if r.verdict == v] for v in verdicts}
            parts = [f"{verdict} on {_join(units[verdict])}" for verdict in verdicts]
            sentences.append(f"The claim that {claim.quote} is {'; '.join(parts)}: {details}.")
    return " ".join(sentences)
