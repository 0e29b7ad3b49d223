"""The feature sets of the models — the one place that says which columns each model sees.

* ``config`` (models **P** and **V**, and AutoTVM-style tuners): the knob columns of
  ``space.parquet`` + the layer shape (``l_*``) + the target parameters (``t_*``). Within one
  layer and target the last two are constant; they are there so that models can be trained on,
  and transferred across, several layers and targets.
* ``config+hidden`` (model **A**): ``config`` + the compiler's hidden features (the ``h_*``
  columns of ``compiled.parquet``). String-valued hidden features (``h_fold_rule``,
  ``h_gemm_fold_outer``, ``h_gemm_fold_inner``) become categorical codes (see
  :func:`category_code`); features the compiler never decided (it stopped first) are NaN, which
  XGBoost treats as missing.

Targets: performance models learn **normalised throughput** ``(1 / latency_us) / max`` over the
valid rows they are trained on; validity is ``status == "valid"``. Failures have no throughput
(NaN); a model that wants AutoTVM's convention scores them 0 itself.
"""

from __future__ import annotations

import dataclasses
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "FeatureSet",
    "FEATURE_SETS",
    "MODEL_FEATURE_SETS",
    "LAYER_FIELDS",
    "TARGET_FIELDS",
    "knob_columns",
    "layer_features",
    "target_features",
    "config_features",
    "hidden_features",
    "feature_table",
    "category_code",
    "throughput",
    "normalised_throughput",
    "is_valid",
]

NON_KNOB_COLUMNS = ("config_id", "knobs_json")
LAYER_FIELDS = ("n", "h", "w", "ic", "oc", "kernel", "pad", "stride")
TARGET_FIELDS = (
    "log_batch",
    "log_block",
    "log_uop_buff_size",
    "log_inp_buff_size",
    "log_wgt_buff_size",
    "log_acc_buff_size",
    "clock_mhz",
    "axi_bits",
)
# Codes must be exact in float32 (XGBoost's feature type): keep them below 2**24.
_CODE_MASK = (1 << 24) - 1


@dataclass(frozen=True)
class FeatureSet:
    """A named set of feature columns.

    Attributes:
        name: ``"config"`` or ``"config+hidden"``.
        hidden: whether the compiler's hidden features are included.
    """

    name: str
    hidden: bool

    def columns(self, table: pd.DataFrame) -> list[str]:
        """This set's columns of a :func:`feature_table`, in a stable order."""
        cols = [c for c in table.columns if c.startswith(("k_", "l_", "t_"))]
        if self.hidden:
            cols += [c for c in table.columns if c.startswith("h_")]
        return cols


FEATURE_SETS: dict[str, FeatureSet] = {
    "config": FeatureSet("config", hidden=False),
    "config+hidden": FeatureSet("config+hidden", hidden=True),
}
MODEL_FEATURE_SETS: dict[str, str] = {"P": "config", "V": "config", "A": "config+hidden"}


def knob_columns(space: pd.DataFrame) -> list[str]:
    """The knob columns of a ``space.parquet`` table (every column but id and JSON)."""
    return [c for c in space.columns if c not in NON_KNOB_COLUMNS]


def _fields(obj: Any, names: tuple[str, ...]) -> dict[str, float]:
    if dataclasses.is_dataclass(obj):
        obj = {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}
    if not isinstance(obj, Mapping):
        raise TypeError(f"expected a dataclass or mapping, got {type(obj).__name__}")
    missing = [n for n in names if n not in obj]
    if missing:
        raise KeyError(f"missing field(s) {', '.join(missing)}")
    return {n: float(obj[n]) for n in names}


def layer_features(layer: Any) -> dict[str, float]:
    """``l_*`` features of a :class:`~ml2tuner.vta.workload.Conv2D` (or its fields as a dict)."""
    f = _fields(layer, LAYER_FIELDS)
    f["oh"] = (f["h"] + 2 * f["pad"] - f["kernel"]) // f["stride"] + 1
    f["ow"] = (f["w"] + 2 * f["pad"] - f["kernel"]) // f["stride"] + 1
    return {f"l_{k}": v for k, v in f.items()}


def target_features(target: Any) -> dict[str, float]:
    """``t_*`` features of a :class:`~ml2tuner.vta.target.Target` (or its parameters)."""
    return {f"t_{k}": v for k, v in _fields(target, TARGET_FIELDS).items()}


def config_features(space: pd.DataFrame, layer: Any, target: Any) -> pd.DataFrame:
    """Configuration features, one row per row of ``space``: ``k_<knob>``, ``l_*``, ``t_*``."""
    out = pd.DataFrame({"config_id": space["config_id"].to_numpy(np.int64)})
    for col in knob_columns(space):
        out[f"k_{col}"] = space[col].to_numpy(np.float64)
    for name, value in {**layer_features(layer), **target_features(target)}.items():
        out[name] = value
    return out


def category_code(value: str) -> float:
    """Stable categorical code of a string feature; NaN for "" (not decided).

    A hash rather than a per-table vocabulary, so the same compiler decision gets the same code
    in every table, layer and target (models transfer; on-demand compilation needs no state).
    """
    if not value:
        return float("nan")
    return float(zlib.crc32(value.encode()) & _CODE_MASK)


def hidden_features(compiled: pd.DataFrame) -> pd.DataFrame:
    """The ``h_*`` columns of ``compiled.parquet`` as float64, strings encoded as codes."""
    out = pd.DataFrame({"config_id": compiled["config_id"].to_numpy(np.int64)})
    for col in (c for c in compiled.columns if c.startswith("h_")):
        series = compiled[col]
        if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
            out[col] = series.to_numpy(np.float64, na_value=np.nan)
        else:
            codes = {v: category_code(v) for v in series.fillna("").unique()}
            out[col] = series.fillna("").map(codes).to_numpy(np.float64)
    return out


def feature_table(
    space: pd.DataFrame, layer: Any, target: Any, compiled: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Every feature of every configuration, ordered by ``config_id``.

    Args:
        space: ``space.parquet``.
        layer: the layer (Conv2D or its fields).
        target: the target (Target or its parameters).
        compiled: ``compiled.parquet``; without it the table has no ``h_*`` columns.
    Returns:
        ``config_id`` + ``k_*`` + ``l_*`` + ``t_*`` (+ ``h_*``) columns; select a model's
        columns with :meth:`FeatureSet.columns`.
    """
    table = config_features(space, layer, target)
    if compiled is not None:
        hidden = hidden_features(compiled)
        table = table.merge(hidden, on="config_id", how="left", validate="one_to_one")
    return table.sort_values("config_id", kind="stable").reset_index(drop=True)


def is_valid(measured: pd.DataFrame) -> np.ndarray:
    """Validity label: True where ``status == "valid"``."""
    return (measured["status"].astype(str) == "valid").to_numpy()


def throughput(measured: pd.DataFrame) -> np.ndarray:
    """``1 / latency_us`` on valid rows, NaN elsewhere."""
    lat = measured["latency_us"].to_numpy(np.float64, na_value=np.nan)
    ok = is_valid(measured) & np.isfinite(lat) & (lat > 0)
    return np.where(ok, 1.0 / np.where(ok, lat, 1.0), np.nan)


def normalised_throughput(thr: np.ndarray, scale: float | None = None) -> tuple[np.ndarray, float]:
    """Throughput divided by ``scale`` (default: its maximum). Returns ``(values, scale)``."""
    if scale is None:
        finite = thr[np.isfinite(thr)]
        scale = float(finite.max()) if finite.size else 1.0
    return thr / max(scale, 1e-12), scale
