"""Column specs of every table (the contract of ``docs/artifacts.md``, as data).

Each spec is a list of ``(name, type)`` with type ``int64``, ``float64``, ``string`` or ``bool``;
:func:`~ml2tuner.workflow.tables.write_table` casts to it,
:func:`~ml2tuner.workflow.tables.read_table` refuses a table that does not match it, the tests
compare the docs with it. The file names the
rules declare (the summary tables, the model files) are defined here too, once.
"""

from __future__ import annotations

from typing import Any

from ..space.templates import get_template
from ..vta.target import Target
from ..vta.workload import Conv2D
from .config import Unit

__all__ = [
    "Column",
    "flatten_knobs",
    "space_columns",
    "knob_names",
    "compiled_columns",
    "measured_columns",
    "statistics_columns",
    "METRICS_COLUMNS",
    "SIMSTATS_PREDICTION_COLUMNS",
    "SIMSTATS_SEARCH_COLUMNS",
    "SIMSTATS_FILES",
    "SPLIT_COLUMNS",
    "SEARCH_PARAMETERS",
    "search_columns",
    "PREDICTION_COLUMNS",
    "tuning_columns",
    "STATUS_COUNT_COLUMNS",
    "SPACES_COLUMNS",
    "RUNS_COLUMNS",
    "STRATEGIES_COLUMNS",
    "MODELS_COLUMNS",
    "CURVES_COLUMNS",
    "CLAIMS_COLUMNS",
    "SUMMARY_TABLES",
    "MODEL_FILES",
    "UNIT_TABLES",
    "table_columns",
]

Column = tuple[str, str]  # (name, arrow type name: int64 | float64 | string | bool)


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


def knob_names(template: str, workload: Conv2D, target: Target) -> list[str]:
    """The knob columns of a unit's ``space.parquet`` (and of its trial logs), in order."""
    tpl = get_template(template)
    example = {name: values[0] for name, values in tpl.knob_values(workload, target).items()}
    return list(flatten_knobs(example))


def space_columns(template: str, workload: Conv2D, target: Target) -> list[Column]:
    """``space.parquet``: ``config_id``, ``knobs_json`` and one int column per knob value."""
    return [("config_id", "int64"), ("knobs_json", "string")] + [
        (name, "int64") for name in knob_names(template, workload, target)
    ]


def compiled_columns() -> list[Column]:
    """``compiled.parquet``: compile status and every hidden feature (``h_``)."""
    from ..vta.compiler import HIDDEN_FEATURES, STRING_FEATURES

    return [
        ("config_id", "int64"),
        ("compile_status", "string"),
        ("error_kind", "string"),
        ("message", "string"),
    ] + [
        (f"h_{name}", "string" if name in STRING_FEATURES else "float64")
        for name in HIDDEN_FEATURES
    ]


def measured_columns() -> list[Column]:
    """``measured.parquet`` and its shards: status, cycles, latency and counters (``c_``)."""
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


def statistics_columns() -> list[Column]:
    """``simstats.parquet`` and its shards: the counting pass's statistics (``s_``) per config.

    A configuration the compiler or the runtime refused has no stream to count: -1 throughout.
    """
    from ..vta.counting import STATISTIC_NAMES

    return [("config_id", "int64")] + [(f"s_{name}", "int64") for name in STATISTIC_NAMES]


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

# What the hyper-parameter search tunes (ml2tuner.models.hpo): the names of Optuna's
# parameters, in the order of the columns of models/search.parquet.
SEARCH_PARAMETERS = (
    "eta",
    "max_depth",
    "alpha",
    "lambda",
    "subsample",
    "colsample_bytree",
    "min_child_weight",
    "num_boost_round",
)


def search_columns() -> list[Column]:
    """``models/search.parquet``: the Optuna trials of P, V and A (``search_history``)."""
    return [
        ("model", "string"),
        ("study", "string"),
        ("trial", "int64"),
        ("state", "string"),
        ("value", "float64"),
        ("best", "bool"),
        ("duration_s", "float64"),
    ] + [(f"params_{name}", "float64") for name in SEARCH_PARAMETERS]


# models/simstats_predictions.parquet: every valid configuration, its split and each
# simulation-statistics predictor's latency prediction (ml2tuner.models.simstats).
SIMSTATS_PREDICTION_COLUMNS: list[Column] = [
    ("config_id", "int64"),
    ("split", "string"),
    ("predictor", "string"),
    ("latency_us", "float64"),
    ("predicted_us", "float64"),
]

# models/simstats_search.parquet: the Optuna trials of each predictor's study. The families
# tune different parameters, so they are one JSON column rather than one column each.
SIMSTATS_SEARCH_COLUMNS: list[Column] = [
    ("model", "string"),
    ("study", "string"),
    ("trial", "int64"),
    ("state", "string"),
    ("value", "float64"),
    ("best", "bool"),
    ("duration_s", "float64"),
    ("params_json", "string"),
]

# kind -> file in the unit's models/ folder written by the simstats stage (rules/simstats.smk).
SIMSTATS_FILES: dict[str, str] = {
    "simstats_metrics": "simstats_metrics.parquet",
    "simstats_predictions": "simstats_predictions.parquet",
    "simstats_search": "simstats_search.parquet",
}


# A tuner's predictions of the configurations it chose (NaN where it has no such model).
PREDICTION_COLUMNS = ("p_score", "v_prob", "a_score")


def tuning_columns(knobs: list[str]) -> list[Column]:
    """``tuning/{strategy}/seed{seed}.parquet``: the trial log of ``ml2tuner.tuners.run_tuning``.

    Args:
        knobs: the knob columns of the unit's ``space.parquet`` (:func:`knob_names`).
    """
    return (
        [("trial", "int64"), ("batch", "int64"), ("config_id", "int64")]
        + [(name, "int64") for name in knobs]
        + [
            ("status", "string"),
            ("error_no", "int64"),
            ("error_kind", "string"),
            ("latency_us", "float64"),
            ("best_latency_us", "float64"),
        ]
        + [(name, "float64") for name in PREDICTION_COLUMNS]
        + [("tuner_wall_s", "float64")]
    )


# ---- the summary tables (results/summary/*.parquet) --------------------------------------

_UNIT_KEYS: list[Column] = [("target", "string"), ("layer", "string"), ("template", "string")]


def _spread(prefix: str) -> list[Column]:
    return [(f"{prefix}_{q}", "float64") for q in ("median", "q25", "q75")]


STATUS_COUNT_COLUMNS: list[Column] = [
    ("n_valid", "int64"),
    ("n_compile_error", "int64"),
    ("n_runtime_error", "int64"),
    ("n_wrong_answer", "int64"),
    ("n_timeout", "int64"),
]

SPACES_COLUMNS: list[Column] = _UNIT_KEYS + [
    ("n_configs", "int64"),
    *STATUS_COUNT_COLUMNS,
    ("optimum_latency_us", "float64"),
    ("optimum_config_id", "int64"),
    ("median_valid_latency_us", "float64"),
    ("cut_latency_us", "float64"),
]

RUNS_COLUMNS: list[Column] = _UNIT_KEYS + [
    ("strategy", "string"),
    ("seed", "int64"),
    ("n_trials", "int64"),
    ("optimum_latency_us", "float64"),
    ("final_best_latency_us", "float64"),
    ("best_over_optimum", "float64"),
    ("cut_latency_us", "float64"),
    ("samples_to_cut", "int64"),
    ("samples_to_best", "int64"),
    ("n_invalid", "int64"),
    ("invalid_share", "float64"),
    ("match_reference_latency_us", "float64"),
    ("samples_to_match", "int64"),
]

# ml2tuner.report.strategies.SEED_METRICS; the first three are counts (with a reached share).
_SEED_METRICS = (
    "samples_to_cut",
    "samples_to_best",
    "samples_to_match",
    "invalid_share",
    "best_over_optimum",
)


def _median_ci(metric: str) -> list[Column]:
    columns = [(f"{metric}_{q}", "float64") for q in ("median", "ci_low", "ci_high")]
    return columns + ([(f"{metric}_reached", "float64")] if metric.startswith("samples") else [])


STRATEGIES_COLUMNS: list[Column] = _UNIT_KEYS + [
    ("strategy", "string"),
    ("n_seeds", "int64"),
    *(column for metric in _SEED_METRICS for column in _median_ci(metric)),
]

COMPARISONS_COLUMNS: list[Column] = _UNIT_KEYS + [
    ("strategy", "string"),
    ("metric", "string"),
    ("n", "int64"),
    ("n_reference", "int64"),
    ("median", "float64"),
    ("reference_median", "float64"),
    ("ratio", "float64"),
    ("ratio_ci_low", "float64"),
    ("ratio_ci_high", "float64"),
    ("test", "string"),
    ("p_value", "float64"),
]

MODELS_COLUMNS: list[Column] = _UNIT_KEYS + [
    ("model", "string"),
    ("metric", "string"),
    ("value", "float64"),
    ("n_train", "int64"),
    ("n_test", "int64"),
]

CURVES_COLUMNS: list[Column] = _UNIT_KEYS + [
    ("strategy", "string"),
    ("n_measurements", "int64"),
    ("n_seeds", "int64"),
    *_spread("best_latency_us"),
]

CLAIMS_COLUMNS: list[Column] = _UNIT_KEYS + [
    ("claim", "string"),
    ("quote", "string"),
    ("source", "string"),
    ("metric", "string"),
    ("claimed_ratio", "float64"),
    ("ratio", "float64"),
    ("ci_low", "float64"),
    ("ci_high", "float64"),
    ("p_value", "float64"),
    ("verdict", "string"),
    ("reason", "string"),
]

SCORES_COLUMNS: list[Column] = _UNIT_KEYS + [
    ("strategy", "string"),
    ("n_measurements", "int64"),
    ("budget_fraction", "float64"),
    ("random_best_us", "float64"),
    ("mean_best_us", "float64"),
    ("score", "float64"),
]

RANKING_COLUMNS: list[Column] = [
    ("rank", "int64"),
    ("strategy", "string"),
    ("n_units", "int64"),
    ("mean_score", "float64"),
    ("ci_low", "float64"),
    ("ci_high", "float64"),
]

# name -> spec; results/summary/{name}.parquet (rules/report.smk declares these files).
SUMMARY_TABLES: dict[str, list[Column]] = {
    "runs": RUNS_COLUMNS,
    "strategies": STRATEGIES_COLUMNS,
    "comparisons": COMPARISONS_COLUMNS,
    "spaces": SPACES_COLUMNS,
    "models": MODELS_COLUMNS,
    "curves": CURVES_COLUMNS,
    "claims": CLAIMS_COLUMNS,
    "scores": SCORES_COLUMNS,
    "ranking": RANKING_COLUMNS,
}

# role -> file in the unit's models/ folder (XGBoost JSON; rules/train.smk declares these).
MODEL_FILES: dict[str, str] = {"P": "P.json", "V": "V.json", "A": "A.json"}

# Tables made from a unit's config section alone: their config_hash is that section's.
UNIT_TABLES = frozenset({"space", "compiled", "measured", "simstats"})


def table_columns(kind: str, unit: Unit | None = None) -> list[Column]:
    """The spec of a table of ``kind`` (a unit table, ``metrics``, ``tuning``, a summary table).

    Args:
        kind: ``space``, ``compiled``, ``measured``, ``simstats``, ``metrics``, ``split``,
            ``search``, ``tuning``, a kind of :data:`SIMSTATS_FILES` or a name of
            :data:`SUMMARY_TABLES`.
        unit: the table's unit; needed for the knob columns of ``space`` and ``tuning``.
    Raises:
        KeyError: an unknown kind.
    """
    if kind in SUMMARY_TABLES:
        return SUMMARY_TABLES[kind]
    if kind in ("space", "tuning") and unit is None:
        raise ValueError(f"the columns of a {kind} table depend on its unit")
    specs = {
        "space": lambda: space_columns(unit.template, unit.workload, unit.target),
        "compiled": compiled_columns,
        "measured": measured_columns,
        "simstats": statistics_columns,
        "metrics": lambda: METRICS_COLUMNS,
        # the predictors' metrics are rows of the metrics table's form, beside P, V and A
        "simstats_metrics": lambda: METRICS_COLUMNS,
        "simstats_predictions": lambda: SIMSTATS_PREDICTION_COLUMNS,
        "simstats_search": lambda: SIMSTATS_SEARCH_COLUMNS,
        "split": lambda: SPLIT_COLUMNS,
        "search": search_columns,
        "tuning": lambda: tuning_columns(knob_names(unit.template, unit.workload, unit.target)),
    }
    return specs[kind]()
