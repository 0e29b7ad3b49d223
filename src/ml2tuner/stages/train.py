"""Stage ``train``: the P, V and A models of a unit — a PLACEHOLDER until ``ml2tuner.models`` lands.

The rule (``rules/train.smk``) and this function's signature are the final ones; what is missing
is the training. :func:`run_train` therefore writes ``P.json``, ``V.json`` and ``A.json`` that
say ``"placeholder": true`` and hold no model, and a ``metrics.parquet`` whose rows have
``placeholder = true`` and NaN values. It does compute the train/test split the real models
will use, so its sizes are real.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..workflow.columns import METRICS_COLUMNS
from ..workflow.tables import derived_metadata, read_metadata, read_table, write_json, write_table

__all__ = ["MODELS", "run_train", "train_test_split"]

logger = logging.getLogger(__name__)

# name -> (what it predicts, from which features, its held-out metric)
MODELS: dict[str, tuple[str, str, str]] = {
    "P": ("performance (1 / latency)", "configuration features (knobs + layer shape)", "rmse"),
    "V": ("validity (valid vs any failure)", "configuration features", "accuracy"),
    "A": ("performance (1 / latency)", "configuration + hidden compiler features", "rmse"),
}

PLACEHOLDER_NOTE = ("placeholder: the P/V/A models (ml2tuner.models) have not landed yet; "
                    "no model was trained and every metric is NaN")


def train_test_split(n_rows: int, train_fraction: float, seed: int) -> tuple[np.ndarray,
                                                                             np.ndarray]:
    """Row positions of a seeded random train/test split."""
    order = np.random.default_rng(seed).permutation(n_rows)
    n_train = int(round(train_fraction * n_rows))
    return np.sort(order[:n_train]), np.sort(order[n_train:])


def run_train(space_path: str | Path, compiled_path: str | Path, measured_path: str | Path,
              out_dir: str | Path, settings: Mapping[str, Any], seed: int) -> None:
    """Train P, then V, then A on a unit's tables and write them with held-out metrics.

    PLACEHOLDER: writes placeholder model files and NaN metrics (see the module docstring).

    Args:
        space_path, compiled_path, measured_path: the unit's tables.
        out_dir: the unit's ``models/`` folder; receives ``{P,V,A}.json`` and ``metrics.parquet``.
        settings: the ``model`` section of the configuration.
        seed: seed of the split and of the models.
    """
    out_dir = Path(out_dir)
    logger.warning(PLACEHOLDER_NOTE)
    measured = read_table(measured_path, columns=["config_id", "status"])
    valid = (measured["status"] == "valid").to_numpy()
    train, test = train_test_split(len(measured), float(settings.get("train_fraction", 0.8)),
                                   seed)
    meta = derived_metadata(read_metadata(measured_path), "train",
                            {"model": dict(settings), "seed": seed})
    rows = []
    for name, (predicts, features, metric) in MODELS.items():
        # P and A learn performance from valid rows only; V learns from every row.
        n_train = int(valid[train].sum()) if metric == "rmse" else len(train)
        n_test = int(valid[test].sum()) if metric == "rmse" else len(test)
        write_json({"placeholder": True, "model": name, "predicts": predicts,
                    "features": features, "note": PLACEHOLDER_NOTE, "settings": dict(settings),
                    "seed": seed, "n_train": n_train, "n_test": n_test,
                    "inputs": {"space": str(space_path), "compiled": str(compiled_path),
                               "measured": str(measured_path)},
                    "metadata": meta}, out_dir / f"{name}.json")
        rows.append({"model": name, "metric": metric, "value": float("nan"),
                     "n_train": n_train, "n_test": n_test, "placeholder": True})
        logger.info("%s: placeholder written (n_train %d, n_test %d)", name, n_train, n_test)
    meta["placeholder"] = "true"
    write_table(pd.DataFrame(rows), out_dir / "metrics.parquet", meta, METRICS_COLUMNS)
