"""Column specs of the summary tables (``results/summary/*.parquet``, ``docs/artifacts.md``)."""

from __future__ import annotations

from ..workflow.columns import SPACES_COLUMNS
from ..workflow.tables import Column

__all__ = [
    "RUNS_COLUMNS",
    "STRATEGIES_COLUMNS",
    "SPACES_COLUMNS",
    "MODELS_COLUMNS",
    "CURVES_COLUMNS",
    "CLAIMS_COLUMNS",
    "SUMMARY_TABLES",
]

_UNIT_KEYS: list[Column] = [("target", "string"), ("layer", "string"), ("template", "string")]


def _spread(prefix: str) -> list[Column]:
    return [(f"{prefix}_{q}", "float64") for q in ("median", "q25", "q75")]


RUNS_COLUMNS: list[Column] = _UNIT_KEYS + [
    ("strategy", "string"),
    ("seed", "int64"),
    ("placeholder_strategy", "bool"),
    ("n_trials", "int64"),
    ("optimum_latency_us", "float64"),
    ("final_best_latency_us", "float64"),
    ("samples_to_best", "int64"),
    ("n_invalid", "int64"),
    ("invalid_share", "float64"),
    ("match_reference_latency_us", "float64"),
    ("samples_to_match", "int64"),
]

STRATEGIES_COLUMNS: list[Column] = _UNIT_KEYS + [
    ("strategy", "string"),
    ("placeholder_strategy", "bool"),
    ("n_seeds", "int64"),
    ("reached_share", "float64"),
    *_spread("samples_to_best"),
    *_spread("invalid_share"),
    *_spread("final_best_latency_us"),
    ("match_reached_share", "float64"),
    *_spread("samples_to_match"),
    ("samples_vs_reference", "float64"),
    ("invalid_vs_reference", "float64"),
]

MODELS_COLUMNS: list[Column] = _UNIT_KEYS + [
    ("model", "string"),
    ("metric", "string"),
    ("value", "float64"),
    ("n_train", "int64"),
    ("n_test", "int64"),
    ("placeholder", "bool"),
]

CURVES_COLUMNS: list[Column] = _UNIT_KEYS + [
    ("strategy", "string"),
    ("placeholder_strategy", "bool"),
    ("n_measurements", "int64"),
    ("n_seeds", "int64"),
    *_spread("best_latency_us"),
]

CLAIMS_COLUMNS: list[Column] = _UNIT_KEYS + [
    ("claim", "string"),
    ("quote", "string"),
    ("measure", "string"),
    ("paper_value", "float64"),
    ("reproduced_value", "float64"),
    ("verdict", "string"),
    ("reason", "string"),
]

SUMMARY_TABLES: dict[str, list[Column]] = {
    "runs": RUNS_COLUMNS,
    "strategies": STRATEGIES_COLUMNS,
    "spaces": SPACES_COLUMNS,
    "models": MODELS_COLUMNS,
    "curves": CURVES_COLUMNS,
    "claims": CLAIMS_COLUMNS,
}
