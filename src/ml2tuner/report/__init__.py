"""The experiment report: metrics over seeds, the paper's claims, figures and ``summary.md``.

* :mod:`.metrics` — per run: samples to the top-1 % cut / within 1 % of the optimum / to match
  ``autotvm``, invalid share, best over optimum; censored values and IQR curves;
* :mod:`.stats` — bootstrap CIs of medians and ratios, the rank test, the verdict rule;
* :mod:`.strategies` — per unit and strategy over seeds, and every strategy against ``autotvm``;
* :mod:`.claims` — the paper's claims under both wordings and the verdict on each;
* :mod:`.aggregate` — the score relative to random search and the optimum, over all spaces;
* :mod:`.model_metrics` — the models' held-out metrics in one form, V's ROC curve;
* :mod:`.results` — the small typed result each figure draws;
* :mod:`.figures`, :mod:`.overview` — one drawing function per figure (matplotlib, Agg canvas);
* :mod:`.build`, :mod:`.markdown` — the files of ``results/report/``.

Definitions and how to read each figure: ``docs/report.md``.
"""

from .claims import PAPER_CLAIMS, ClaimResult, claims_paragraph, unit_claims
from .metrics import (
    BEST_TOLERANCE,
    REFERENCE_STRATEGY,
    Spread,
    censored,
    invalid_share,
    latency_cut,
    samples_to_best,
    samples_to_cut,
    samples_to_match,
    spread,
)
from .stats import median_ci, rank_test, ratio_ci, verdict

__all__ = [
    "BEST_TOLERANCE",
    "REFERENCE_STRATEGY",
    "Spread",
    "censored",
    "invalid_share",
    "latency_cut",
    "samples_to_best",
    "samples_to_cut",
    "samples_to_match",
    "spread",
    "median_ci",
    "ratio_ci",
    "rank_test",
    "verdict",
    "PAPER_CLAIMS",
    "ClaimResult",
    "claims_paragraph",
    "unit_claims",
]
