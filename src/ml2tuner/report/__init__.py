"""The experiment report: metrics over seeds, the paper's claims, figures and ``summary.md``.

* :mod:`.metrics` — samples to best / to match, invalid share, median and IQR over seeds;
* :mod:`.claims` — the paper's three claims and the verdict on each;
* :mod:`.model_metrics` — the models' held-out metrics in one form, V's ROC curve;
* :mod:`.results` — the small typed result each figure draws;
* :mod:`.figures` — one drawing function per figure (matplotlib, Agg canvas);
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
    samples_to_best,
    samples_to_match,
    spread,
)

__all__ = [
    "BEST_TOLERANCE",
    "REFERENCE_STRATEGY",
    "Spread",
    "censored",
    "invalid_share",
    "samples_to_best",
    "samples_to_match",
    "spread",
    "PAPER_CLAIMS",
    "ClaimResult",
    "claims_paragraph",
    "unit_claims",
]
