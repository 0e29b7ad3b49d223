"""Entry points of the model, tuning, summary and report stages (called by ``scripts/``).

``train`` and ``tune`` are placeholders until ``ml2tuner.models`` and ``ml2tuner.tuners`` land;
their signatures are final.
"""

from .report import run_report
from .summary import run_summary
from .train import run_train
from .tune import run_tune

__all__ = ["run_train", "run_tune", "run_summary", "run_report"]
