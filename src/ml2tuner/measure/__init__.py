"""Measurers: where a tuner's chosen configurations get their results.

``replay`` looks them up in ``measured.parquet``; ``live`` compiles and simulates on demand.
A real board would be one more :class:`Measurer`.
"""

from ._base import RESULT_COLUMNS, Measurer, empty_results
from ._live import LiveMeasurer
from ._replay import ReplayMeasurer

MEASURERS: dict[str, type[Measurer]] = {"replay": ReplayMeasurer, "live": LiveMeasurer}

__all__ = [
    "Measurer",
    "ReplayMeasurer",
    "LiveMeasurer",
    "MEASURERS",
    "RESULT_COLUMNS",
    "empty_results",
]
