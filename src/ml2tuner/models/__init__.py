"""Models P (performance), V (validity) and A (performance with hidden features).

Features are defined in :mod:`.features`, the XGBoost models in :mod:`.xgb`, the Optuna
hyper-parameter search in :mod:`.hpo`, metrics in :mod:`.metrics` and offline training and
evaluation (the ``train`` stage) in :mod:`.training`.
"""

from .features import (
    FEATURE_SETS,
    MODEL_FEATURE_SETS,
    FeatureSet,
    config_features,
    feature_table,
    hidden_features,
    is_valid,
    normalised_throughput,
    throughput,
)
from .hpo import (
    SEARCH_PARAMETERS,
    SearchResult,
    SearchSettings,
    run_study,
    search_history,
    search_hyperparameters,
)
from .metrics import classification_metrics, rmse, roc_auc, spearman, top_k_recall
from .training import (
    TASK_METRICS,
    TrainedModels,
    TrainSettings,
    metric_rows,
    split_rows,
    train_models,
)
from .xgb import (
    MODEL_ROLES,
    PAPER_PARAMS,
    CostModel,
    ModelRole,
    ModelSettings,
    XGBModel,
    default_settings,
)

__all__ = [
    "FEATURE_SETS",
    "MODEL_FEATURE_SETS",
    "FeatureSet",
    "config_features",
    "feature_table",
    "hidden_features",
    "is_valid",
    "normalised_throughput",
    "throughput",
    "SearchResult",
    "SearchSettings",
    "search_hyperparameters",
    "run_study",
    "search_history",
    "SEARCH_PARAMETERS",
    "classification_metrics",
    "rmse",
    "roc_auc",
    "spearman",
    "top_k_recall",
    "TrainedModels",
    "TrainSettings",
    "split_rows",
    "train_models",
    "metric_rows",
    "TASK_METRICS",
    "MODEL_ROLES",
    "PAPER_PARAMS",
    "CostModel",
    "ModelRole",
    "ModelSettings",
    "XGBModel",
    "default_settings",
]
