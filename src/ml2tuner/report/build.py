"""Compute every figure's result and draw it: the file names the ``report`` rule declares."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from ..workflow.tables import read_metadata, read_table
from . import figures as fig
from .model_metrics import model_value, validity_roc
from .results import (
    UnitKey,
    convergence_panels,
    invalid_panels,
    model_quality,
    samples_panels,
    status_breakdown,
    validity_map,
)

__all__ = ["FIGURES", "validity_name", "figure_names", "build_figures"]

logger = logging.getLogger(__name__)

# file stem → title (the report's fixed figures; validity maps are one per unit)
FIGURES: dict[str, str] = {
    "best_latency": "Best latency found vs measurements",
    "invalid_share": "Share of invalid measurements",
    "samples": "Samples to reach the optimum and to match autotvm",
    "models": "RMSE of P vs A and V's ROC curve",
    "status": "Status breakdown of each space",
}


def validity_name(unit: UnitKey) -> str:
    """File stem of a unit's validity map."""
    return f"validity_{unit.slug}"


def figure_names(units: Sequence[UnitKey]) -> list[str]:
    """Every figure's file stem, in report order."""
    return [*list(FIGURES)[:4], *(validity_name(u) for u in units), "status"]


def _unit_of(unit_dir: Path) -> UnitKey:
    meta = read_metadata(unit_dir / "measured.parquet")
    return UnitKey(meta["target"], meta["layer"], meta["template"])


def build_figures(
    tables: Mapping[str, pd.DataFrame], unit_dirs: Sequence[str | Path], out_dir: str | Path
) -> list[tuple[str, str]]:
    """Draw every figure into ``out_dir`` as ``<stem>.png`` and ``<stem>.svg``.

    Args:
        tables: the summary tables by name (``runs``, ``spaces``, ``models``, ``curves``, …).
        unit_dirs: ``results/{target}/{layer}/{template}`` of every unit (space, measured and
            models tables for the validity maps, the status breakdown and V's ROC curve).
        out_dir: ``results/report``.
    Returns:
        ``(title, file name)`` of every PNG written, in report order.
    """
    out_dir = Path(out_dir)
    units = {_unit_of(Path(d)): Path(d) for d in unit_dirs}
    runs, spaces, models = tables["runs"], tables["spaces"], tables["models"]
    written: list[tuple[str, str]] = []

    def emit(stem: str, title: str, figure) -> None:
        fig.save_figure(figure, out_dir / f"{stem}.png", out_dir / f"{stem}.svg")
        written.append((title, f"{stem}.png"))
        logger.info("figure %s.png/.svg: %s", stem, title)

    emit(
        "best_latency",
        FIGURES["best_latency"],
        fig.plot_convergence(convergence_panels(tables["curves"], spaces)),
    )
    emit(
        "invalid_share",
        FIGURES["invalid_share"],
        fig.plot_invalid_share(invalid_panels(runs, spaces)),
    )
    emit("samples", FIGURES["samples"], fig.plot_samples(*samples_panels(runs, spaces)))
    rocs = {}
    for unit, unit_dir in units.items():
        mine = models[
            (models["target"] == unit.target)
            & (models["layer"] == unit.layer)
            & (models["template"] == unit.template)
        ]
        rocs[unit] = validity_roc(unit_dir, model_value(mine, "V", "roc_auc"))
    emit("models", FIGURES["models"], fig.plot_models(model_quality(models, spaces, rocs)))
    measured = {}
    for unit, unit_dir in units.items():
        measured[unit] = read_table(
            unit_dir / "measured.parquet",
            columns=["config_id", "status", "error_kind", "latency_us"],
        )
        vmap = validity_map(read_table(unit_dir / "space.parquet"), measured[unit], unit)
        emit(validity_name(unit), f"Validity map of {unit.label}", fig.plot_validity_map(vmap))
    emit("status", FIGURES["status"], fig.plot_status_breakdown(status_breakdown(measured)))
    return written
