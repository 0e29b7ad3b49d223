"""Column specs of every table (the contract of ``docs/artifacts.md``, as data).

Each spec is a list of ``(name, type)`` with type ``int64``, ``float64``, ``string`` or ``bool``;
:func:`ml2tuner.workflow.tables.write_table` casts to it, the tests compare the docs with it.
"""

from __future__ import annotations

from typing import Any

from ..space.templates import get_template
from ..vta.target import Target
from ..vta.workload import Conv2D
from .tables import Column

__all__ = [
    "HIDDEN_STRING_FEATURES",
    "flatten_knobs",
    "space_columns",
    "compiled_columns",
    "measured_columns",
    "METRICS_COLUMNS",
    "SPLIT_COLUMNS",
    "search_columns",
    "tuning_columns",
    "STATUS_COUNT_COLUMNS",
    "SPACES_COLUMNS",
]

# Hidden features that are categorical (strings); every other one is float64.
HIDDEN_STRING_FEATURES = frozenset({"fold_rule", "gemm_fold_outer", "gemm_fold_inner"})


def flatten_knobs(knobs: dict[str, Any]) -> dict[str, int]:
    """Knob columns of a configuration: ``[outer, inner]`` splits become two columns."""
    flat: dict[str, int] = {}
    for name, value in knobs.items():
        if isinstance(value, (list, tuple)):
            outer, inner = value
            flat[f"{name}_outer"], flat[f"{name}_inner"] = int(outer), int(inner)
        else:
            flat[name] = int(value)
    return flat


def space_columns(template: str, workload: Conv2D, target: Target) -> list[Column]:
    tpl = get_template(template)
    example = {name: values[0] for name, values in tpl.knob_values(workload, target).items()}
    return [("config_id", "int64"), ("knobs_json", "string")] + [
        (name, "int64") for name in flatten_knobs(example)
    ]


def compiled_columns() -> list[Column]:
    from ..vta.compiler import HIDDEN_FEATURES

    return [
        ("config_id", "int64"),
        ("compile_status", "string"),
        ("error_kind", "string"),
        ("message", "string"),
    ] + [
        (f"h_{name}", "string" if name in HIDDEN_STRING_FEATURES else "float64")
        for name in HIDDEN_FEATURES
    ]


def measured_columns() -> list[Column]:
    from ..vta.sim import COUNTER_NAMES

    return [
        ("config_id", "int64"),
        ("status", "string"),
        ("error_no", "int64"),
        ("error_kind", "string"),
        ("message", "string"),
        ("cycles", "int64"),
        ("latency_us", "float64"),
    ] + [(f"c_{name}", "int64") for name in COUNTER_NAMES]


# models/metrics.parquet: one row per model and held-out metric (ml2tuner.models.metric_rows).
METRICS_COLUMNS: list[Column] = [
    ("model", "string"),
    ("metric", "string"),
    ("value", "float64"),
    ("n_train", "int64"),
    ("n_test", "int64"),
    ("objective", "string"),
    ("feature_set", "string"),
    ("n_features", "int64"),
    ("features", "string"),
    ("params_json", "string"),
]

# models/split.parquet: the train stage's split of the measured configurations.
SPLIT_COLUMNS: list[Column] = [("config_id", "int64"), ("split", "string")]


def search_columns() -> list[Column]:
    """``models/search.parquet``: the Optuna trials of P, V and A (``search_history``)."""
    from ..models.hpo import SEARCH_PARAMETERS  # imports optuna: only where needed

    return [
        ("model", "string"),
        ("study", "string"),
        ("trial", "int64"),
        ("state", "string"),
        ("value", "float64"),
        ("best", "bool"),
        ("duration_s", "float64"),
    ] + [(f"params_{name}", "float64") for name in SEARCH_PARAMETERS]


def tuning_columns(knob_names: list[str]) -> list[Column]:
    """``tuning/{strategy}/seed{seed}.parquet``: the trial log of ``ml2tuner.tuners.run_tuning``.

    Args:
        knob_names: the knob columns of the unit's ``space.parquet``.
    """
    return (
        [("trial", "int64"), ("batch", "int64"), ("config_id", "int64")]
        + [(name, "int64") for name in knob_names]
        + [
            ("status", "string"),
            ("error_no", "int64"),
            ("error_kind", "string"),
            ("latency_us", "float64"),
            ("best_latency_us", "float64"),
            ("p_score", "float64"),
            ("v_prob", "float64"),
            ("a_score", "float64"),
            ("tuner_wall_s", "float64"),
        ]
    )


STATUS_COUNT_COLUMNS: list[Column] = [
    ("n_valid", "int64"),
    ("n_compile_error", "int64"),
    ("n_runtime_error", "int64"),
    ("n_wrong_answer", "int64"),
    ("n_timeout", "int64"),
]

SPACES_COLUMNS: list[Column] = [
    ("target", "string"),
    ("layer", "string"),
    ("template", "string"),
    ("n_configs", "int64"),
    *STATUS_COUNT_COLUMNS,
    ("optimum_latency_us", "float64"),
    ("optimum_config_id", "int64"),
    ("median_valid_latency_us", "float64"),
]
