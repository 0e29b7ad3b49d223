"""The workflow's stages, one entry point each (called by the thin ``scripts/``).

=========== ============================ ==================================================
stage       entry point                  writes
=========== ============================ ==================================================
enumerate   :func:`run_enumerate`        ``space.parquet``
compile     :func:`run_compile`          ``compiled.parquet``
simulate    :func:`run_simulate_shard`   ``measured/shard{i}.parquet``, ``simstats/shard{i}``
merge       :func:`run_merge`            ``measured.parquet``
            :func:`run_merge_statistics` ``simstats.parquet``
simstats    :func:`run_simstats`         ``models/simstats_*.parquet``: the predictors
            :func:`run_simstats_report`  ``results/report/simstats.md`` and its figures
train       :func:`run_train`            ``models/``: P, V, A, metrics, split, search
prior       :func:`run_prior_pool`       ``results/prior_pool/{template}/``: the units' tables
            :func:`run_prior`            ``prior/{strategy}/``: models of the other units
tune        :func:`run_tune`             ``tuning/{strategy}/seed{seed}.parquet``
summary     :func:`run_summary`          ``results/summary/*.parquet``
report      :func:`run_report`           ``results/report/``: summary.md and the figures
publish     :func:`run_publish`          ``docs/results/``: copies of the small report files
=========== ============================ ==================================================

Every stage reads its inputs with :func:`ml2tuner.workflow.read_table`, which refuses a table
of another kind, unit or version. Stages are the top layer: nothing in the package imports them
but ``cli`` (``docs/design.md``).
"""

from __future__ import annotations

import importlib
from typing import Any

# entry point -> its module. Imported on first use, so that a job imports only its own stage
# (the simulate jobs need not load XGBoost, Optuna or matplotlib).
_HOMES = {
    "run_enumerate": "enumerate",
    "run_compile": "compile",
    "run_simulate_shard": "simulate",
    "run_merge": "merge",
    "run_merge_statistics": "merge",
    "run_simstats": "simstats",
    "run_simstats_report": "simstats",
    "run_train": "train",
    "run_tune": "tune",
    "run_prior": "prior",
    "run_prior_pool": "prior_pool",
    "run_summary": "summary",
    "run_report": "report",
    "run_publish": "publish",
    "measure_space": "space_tables",
    "measure_space_statistics": "space_tables",
    "space_table": "space_tables",
}

__all__ = list(_HOMES)


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_HOMES[name]}", __name__), name)
