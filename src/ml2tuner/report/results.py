"""The small typed results each figure draws (computed here, drawn in :mod:`.figures`).

Everything is built from the summary tables (``results/summary/*.parquet``) and, for the
validity maps and the status breakdown, from the units' ``space`` and ``measured`` tables.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..vta.harness import STATUSES
from .metrics import UNIT_KEYS, censored, match_samples
from .model_metrics import RocCurve, model_value

__all__ = [
    "UnitKey",
    "Curve",
    "ConvergencePanel",
    "SeedValues",
    "SeedPanel",
    "ModelQuality",
    "ValidityPanel",
    "ValidityMap",
    "StatusBreakdown",
    "units_of",
    "strategy_order",
    "convergence_panels",
    "invalid_panels",
    "samples_panels",
    "model_quality",
    "validity_map",
    "status_breakdown",
    "VALIDITY_AXES",
]


@dataclass(frozen=True, order=True)
class UnitKey:
    """One target × layer × template."""

    target: str
    layer: str
    template: str

    @property
    def label(self) -> str:
        return f"{self.layer} on {self.target} ({self.template})"

    @property
    def slug(self) -> str:
        """File-name form: ``target_layer_template``."""
        return f"{self.target}_{self.layer}_{self.template}"


def units_of(frame: pd.DataFrame) -> list[UnitKey]:
    """The units of a summary table, in first-appearance order."""
    keys = frame[UNIT_KEYS].drop_duplicates()
    return [UnitKey(*map(str, row)) for row in keys.itertuples(index=False)]


def unit_rows(frame: pd.DataFrame, unit: UnitKey) -> pd.DataFrame:
    """The rows of a summary table that belong to ``unit``."""
    return frame[
        (frame["target"] == unit.target)
        & (frame["layer"] == unit.layer)
        & (frame["template"] == unit.template)
    ]


def strategy_order(runs: pd.DataFrame) -> list[str]:
    """Strategies in configuration order (the order the runs were summarised in)."""
    return list(dict.fromkeys(runs["strategy"].astype(str)))


# ---- (1) best latency vs measurements -------------------------------------------------------


@dataclass(frozen=True)
class Curve:
    """Median and inter-quartile band over seeds of one strategy's best latency."""

    strategy: str
    n_measurements: np.ndarray
    median: np.ndarray
    q25: np.ndarray
    q75: np.ndarray


@dataclass(frozen=True)
class ConvergencePanel:
    unit: UnitKey
    optimum_us: float
    curves: tuple[Curve, ...]


def convergence_panels(curves: pd.DataFrame, spaces: pd.DataFrame) -> list[ConvergencePanel]:
    """One panel per unit from ``curves.parquet`` and ``spaces.parquet``."""
    panels = []
    for unit in units_of(spaces):
        mine = unit_rows(curves, unit)
        lines = []
        for strategy in dict.fromkeys(mine["strategy"].astype(str)):
            c = mine[mine["strategy"] == strategy].sort_values("n_measurements")
            lines.append(
                Curve(
                    strategy,
                    c["n_measurements"].to_numpy(),
                    *(c[f"best_latency_us_{q}"].to_numpy(float) for q in ("median", "q25", "q75")),
                )
            )
        optimum = float(unit_rows(spaces, unit)["optimum_latency_us"].iloc[0])
        panels.append(ConvergencePanel(unit, optimum, tuple(lines)))
    return panels


# ---- (2) invalid share, (3) samples: one value per seed -------------------------------------


@dataclass(frozen=True)
class SeedValues:
    """One value per seed of one strategy (``inf``: the run never got there)."""

    strategy: str
    values: np.ndarray


@dataclass(frozen=True)
class SeedPanel:
    """Per-seed values of every strategy on one unit.

    Attributes:
        budget: the largest number of measurements of a run (the axis limit for counts).
        reference: a horizontal reference (the space's invalid share), NaN for none.
        note: why the panel is empty, when it is.
    """

    unit: UnitKey
    budget: int
    by_strategy: tuple[SeedValues, ...]
    reference: float = float("nan")
    note: str = ""


def _seed_panels(
    runs: pd.DataFrame,
    units: Sequence[UnitKey],
    column: str,
    *,
    as_samples: bool,
    reference: Mapping[UnitKey, float] | None = None,
    note_if_empty: str = "",
) -> list[SeedPanel]:
    panels = []
    order = strategy_order(runs)
    for unit in units:
        mine = unit_rows(runs, unit)
        values = []
        for strategy in order:
            group = mine[mine["strategy"] == strategy].sort_values("seed")
            if group.empty:
                continue
            if column == "samples_to_match":
                v = match_samples(group)
            else:
                v = censored(group[column]) if as_samples else group[column].to_numpy(float)
            v = v[~np.isnan(v)]  # no reference to match: nothing to show
            if v.size == 0:
                continue
            values.append(SeedValues(strategy, v))
        empty = as_samples and all(np.isinf(v.values).all() for v in values)
        panels.append(
            SeedPanel(
                unit,
                int(mine["n_trials"].max()) if len(mine) else 0,
                tuple(values),
                (reference or {}).get(unit, float("nan")),
                note_if_empty if empty else "",
            )
        )
    return panels


def invalid_panels(runs: pd.DataFrame, spaces: pd.DataFrame) -> list[SeedPanel]:
    """Invalid share of each run, per unit, with the space's invalid share as reference."""
    units = units_of(spaces)
    share = {
        u: 1.0
        - float(unit_rows(spaces, u)["n_valid"].iloc[0])
        / max(int(unit_rows(spaces, u)["n_configs"].iloc[0]), 1)
        for u in units
    }
    return _seed_panels(runs, units, "invalid_share", as_samples=False, reference=share)


def samples_panels(
    runs: pd.DataFrame, spaces: pd.DataFrame
) -> tuple[list[SeedPanel], list[SeedPanel]]:
    """Samples to within 1 % of the optimum, and samples to match autotvm, per unit."""
    units = units_of(spaces)
    to_best = _seed_panels(
        runs,
        units,
        "samples_to_best",
        as_samples=True,
        note_if_empty="no run came within 1 % of the optimum",
    )
    no_ref = runs["match_reference_latency_us"].isna().all()
    to_match = _seed_panels(
        runs,
        units,
        "samples_to_match",
        as_samples=True,
        note_if_empty="no autotvm runs to match"
        if no_ref
        else "no run matched autotvm's final best",
    )
    return to_best, to_match


# ---- (4) model quality ----------------------------------------------------------------------


@dataclass(frozen=True)
class ModelQuality:
    """Held-out quality of one unit's models: RMSE of P and A, V's ROC curve."""

    unit: UnitKey
    rmse_p: float
    rmse_a: float
    v_auc: float
    v_accuracy: float
    roc: RocCurve | None
    roc_note: str = ""


def model_quality(
    models: pd.DataFrame, spaces: pd.DataFrame, rocs: Mapping[UnitKey, RocCurve | str]
) -> list[ModelQuality]:
    """One entry per unit from ``models.parquet`` (long form) and the recomputed ROC curves."""
    out = []
    for unit in units_of(spaces):
        mine = unit_rows(models, unit)
        roc = rocs.get(unit, "no V model")
        out.append(
            ModelQuality(
                unit,
                model_value(mine, "P", "rmse"),
                model_value(mine, "A", "rmse"),
                model_value(mine, "V", "roc_auc"),
                model_value(mine, "V", "accuracy"),
                roc if isinstance(roc, RocCurve) else None,
                roc.note if isinstance(roc, RocCurve) else str(roc),
            )
        )
    return out


# ---- (5) validity map -----------------------------------------------------------------------

# template → (panel knobs, row knob, column knob)
VALIDITY_AXES: dict[str, tuple[tuple[str, ...], str, str]] = {
    "nestc": (("n_vthread",), "tile_h", "tile_w"),
    "nestc_sweep": (("n_vthread",), "tile_h", "tile_w"),
    "autotvm": (("oc_nthread", "h_nthread"), "tile_h_inner", "tile_w_inner"),
}


@dataclass(frozen=True)
class ValidityPanel:
    """One small map: status code (index into ``statuses``; -1 empty) and latency per cell."""

    title: str
    status: np.ndarray
    latency: np.ndarray


@dataclass(frozen=True)
class ValidityMap:
    """The space of one unit drawn as tile_h × tile_w maps, one per thread setting.

    Attributes:
        aggregated: whether a cell stands for several configurations (the other knobs); a
            cell is then valid with the best latency of its valid configurations, else it
            takes its most frequent failure.
        kinds: status → the precise error kinds seen (legend text).
        optimum: (panel, row, column) of the best configuration, or None.
    """

    unit: UnitKey
    row_knob: str
    col_knob: str
    row_values: np.ndarray
    col_values: np.ndarray
    panels: tuple[ValidityPanel, ...]
    statuses: tuple[str, ...] = STATUSES
    kinds: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    optimum: tuple[int, int, int] | None = None
    aggregated: bool = False


def validity_map(space: pd.DataFrame, measured: pd.DataFrame, unit: UnitKey) -> ValidityMap:
    """The validity map of one unit (axes from :data:`VALIDITY_AXES`)."""
    knobs = [c for c in space.columns if c not in ("config_id", "knobs_json")]
    panel_knobs, row_knob, col_knob = VALIDITY_AXES.get(
        unit.template, (tuple(knobs[:1]), knobs[1 % len(knobs)], knobs[2 % len(knobs)])
    )
    table = space[["config_id", *dict.fromkeys([*panel_knobs, row_knob, col_knob])]].merge(
        measured[["config_id", "status", "error_kind", "latency_us"]], on="config_id"
    )
    table["code"] = table["status"].astype(str).map({s: i for i, s in enumerate(STATUSES)})
    rows, cols = np.sort(table[row_knob].unique()), np.sort(table[col_knob].unique())
    aggregated = bool(table.duplicated([*panel_knobs, row_knob, col_knob]).any())
    valid = table[table["status"] == "valid"]
    panels, optimum = [], None
    best_id = int(valid.loc[valid["latency_us"].idxmin(), "config_id"]) if len(valid) else None
    for p, (key, group) in enumerate(table.groupby(list(panel_knobs), sort=True)):
        key = key if isinstance(key, tuple) else (key,)
        status = np.full((rows.size, cols.size), -1, np.int64)
        latency = np.full((rows.size, cols.size), np.nan)
        cells = [row_knob, col_knob]
        # A cell is valid with its best latency if any of its configurations is valid ...
        best = group[group["code"] == 0].groupby(cells)["latency_us"].min().reset_index()
        # ... else it shows its most frequent failure.
        worst = (
            group[group["code"] != 0]
            .groupby([*cells, "code"])
            .size()
            .rename("n")
            .reset_index()
            .sort_values(["n", "code"], kind="stable")
            .drop_duplicates(cells, keep="last")
        )
        for frame, code in ((worst, worst["code"].to_numpy()), (best, 0)):
            r = np.searchsorted(rows, frame[row_knob].to_numpy())
            c = np.searchsorted(cols, frame[col_knob].to_numpy())
            status[r, c] = code
        r = np.searchsorted(rows, best[row_knob].to_numpy())
        c = np.searchsorted(cols, best[col_knob].to_numpy())
        latency[r, c] = best["latency_us"].to_numpy(float)
        if best_id is not None and (group["config_id"] == best_id).any():
            at = group[group["config_id"] == best_id].iloc[0]
            optimum = (
                p,
                int(np.searchsorted(rows, at[row_knob])),
                int(np.searchsorted(cols, at[col_knob])),
            )
        title = ", ".join(f"{k} = {v}" for k, v in zip(panel_knobs, key, strict=True))
        panels.append(ValidityPanel(title, status, latency))
    kinds = {
        s: tuple(sorted(k for k in g["error_kind"].astype(str).unique() if k))
        for s, g in table.groupby("status", sort=False)
    }
    return ValidityMap(
        unit, row_knob, col_knob, rows, cols, tuple(panels), STATUSES, kinds, optimum, aggregated
    )


# ---- (6) status breakdown -------------------------------------------------------------------


@dataclass(frozen=True)
class StatusBreakdown:
    """Configurations per status (columns, :data:`STATUSES` order) of each unit (rows)."""

    units: tuple[UnitKey, ...]
    statuses: tuple[str, ...]
    counts: np.ndarray
    kinds: Mapping[str, tuple[str, ...]]


def status_breakdown(measured: Mapping[UnitKey, pd.DataFrame]) -> StatusBreakdown:
    """Status counts of every unit's ``measured.parquet``."""
    units = tuple(measured)
    counts = np.array(
        [[int((m["status"] == s).sum()) for s in STATUSES] for m in measured.values()], np.int64
    ).reshape(len(units), len(STATUSES))
    kinds: dict[str, set[str]] = {}
    for m in measured.values():
        for status, group in m.groupby("status", sort=False):
            kinds.setdefault(str(status), set()).update(
                k for k in group["error_kind"].astype(str).unique() if k
            )
    return StatusBreakdown(units, STATUSES, counts, {s: tuple(sorted(k)) for s, k in kinds.items()})
