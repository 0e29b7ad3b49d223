"""Entry points of the model, tuning, summary and report stages (called by ``scripts/``).

``train`` and ``tune`` run the library (``ml2tuner.models``, ``ml2tuner.tuners``,
``ml2tuner.measure``) on a unit's tables; ``summary`` and ``report`` aggregate the runs.
"""

from .report import run_report
from .summary import run_summary
from .train import run_train
from .tune import run_tune

__all__ = ["run_train", "run_tune", "run_summary", "run_report"]
