"""Compute every figure's result and draw it: the file names the ``report`` rule declares.

The overview figures (the aggregate score, one heatmap per claim) are always drawn; the
per-unit figures (a panel, bar or map per unit) only when asked, by default when there are at
most :data:`PER_UNIT_DEFAULT_MAX` units, so the report stays small for a whole network.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..workflow.config import Unit
from ..workflow.tables import read_table
from .claims import PAPER_CLAIMS, SEED_CLAIMS
from .model_metrics import model_value, validity_roc
from .results import (
    UnitKey,
    convergence_panels,
    invalid_panels,
    model_quality,
    samples_panels,
    status_breakdown,
    unit_rows,
    validity_map,
)

__all__ = [
    "Figure",
    "FIGURES",
    "PER_UNIT_DEFAULT_MAX",
    "per_unit_figures",
    "shown_figures",
    "unit_key",
    "validity_name",
    "figure_names",
    "build_figures",
]

PER_UNIT_DEFAULT_MAX = 4  # per-unit figures by default only up to this many units

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Figure:
    """One of the report's fixed figures.

    Attributes:
        title: its heading in ``summary.md``.
        category: its category in ``snakemake --report`` (caption: ``report/<stem>.rst``).
        label: its label there.
        per_unit: whether it draws a panel, bar or map per unit (drawn only when asked).
        caption: the stem of its caption file when not its own (``report/<caption>.rst``).
    """

    title: str
    category: str
    label: str
    per_unit: bool = True
    caption: str = ""


# file stem → figure; the one list the report rule declares (rules/report.smk). The validity
# maps, one per unit, come between "models" and "status" (:func:`figure_names`).
FIGURES: dict[str, Figure] = {
    "aggregate": Figure(
        "Score over the budget relative to random search and the optimum, all units",
        "0. Summary",
        "aggregate score",
        per_unit=False,
    ),
    **{
        f"heatmap_{name}": Figure(
            f"Claim “{PAPER_CLAIMS[name].quote}” ({PAPER_CLAIMS[name].source}) per layer and board",
            "0. Summary",
            f"claim heatmap: {name}",
            per_unit=False,
            caption="heatmap",
        )
        for name in SEED_CLAIMS
    },
    "best_latency": Figure(
        "Best latency found vs measurements", "1. Tuning", "best latency vs measurements"
    ),
    "invalid_share": Figure("Share of invalid measurements", "1. Tuning", "invalid measurements"),
    "samples": Figure(
        "Samples to reach the optimum and to match autotvm",
        "1. Tuning",
        "samples to optimum / to match autotvm",
    ),
    "models": Figure("RMSE of P vs A and V's ROC curve", "2. Models", "RMSE of P vs A, ROC of V"),
    "status": Figure("Status breakdown of each space", "3. Search spaces", "status breakdown"),
}


def unit_key(unit: Unit) -> UnitKey:
    """The report's key of a workflow unit."""
    return UnitKey(unit.target.name, unit.workload.name, unit.template)


def validity_name(unit: UnitKey) -> str:
    """File stem of a unit's validity map."""
    return f"validity_{unit.slug}"


def per_unit_figures(option: bool | str | None, n_units: int) -> bool:
    """Whether to draw the per-unit figures: ``option`` True/False, or None/``"auto"`` for
    at most :data:`PER_UNIT_DEFAULT_MAX` units."""
    if option is None or option == "auto":
        return n_units <= PER_UNIT_DEFAULT_MAX
    if isinstance(option, bool):
        return option
    raise ValueError(f"per_unit_figures: {option!r} (allowed: true, false, auto)")


def shown_figures(per_unit: bool) -> dict[str, Figure]:
    """The fixed figures drawn (validity maps aside)."""
    return {stem: f for stem, f in FIGURES.items() if per_unit or not f.per_unit}


def figure_names(units: list[UnitKey], per_unit: bool = True) -> list[str]:
    """Every figure's file stem, in report order."""
    stems = list(shown_figures(per_unit))
    if not per_unit:
        return stems
    return [*stems[: stems.index("status")], *(validity_name(u) for u in units), "status"]


def build_figures(
    tables: Mapping[str, pd.DataFrame],
    unit_dirs: Mapping[Unit, Path],
    out_dir: str | Path,
    per_unit: bool = True,
) -> list[tuple[str, str]]:
    """Draw every figure into ``out_dir`` as ``<stem>.png`` and ``<stem>.svg``.

    Args:
        tables: the summary tables by name (``runs``, ``spaces``, ``claims``, ``scores``, …).
        unit_dirs: every unit and its folder ``results/{target}/{layer}/{template}`` (space,
            measured and models tables for the validity maps, the status breakdown and V's
            ROC curve).
        out_dir: ``results/report``.
        per_unit: also draw the per-unit figures (:func:`per_unit_figures`).
    Returns:
        ``(title, file name)`` of every PNG written, in report order.
    """
    from . import figures as fig  # matplotlib only when drawing: the rules import FIGURES
    from . import overview

    out_dir = Path(out_dir)
    runs, spaces, models = tables["runs"], tables["spaces"], tables["models"]
    written: list[tuple[str, str]] = []

    def emit(stem: str, title: str, figure) -> None:
        fig.save_figure(figure, out_dir / f"{stem}.png", out_dir / f"{stem}.svg")
        written.append((title, f"{stem}.png"))
        logger.info("figure %s.png/.svg: %s", stem, title)

    emit(
        "aggregate",
        FIGURES["aggregate"].title,
        overview.plot_aggregate(overview.aggregate_curves(tables["scores"])),
    )
    for name in SEED_CLAIMS:
        heatmap = overview.claim_heatmap(tables["claims"], name)
        emit(
            f"heatmap_{name}",
            FIGURES[f"heatmap_{name}"].title,
            overview.plot_claim_heatmap(heatmap),
        )
    if not per_unit:
        return written
    emit(
        "best_latency",
        FIGURES["best_latency"].title,
        fig.plot_convergence(convergence_panels(tables["curves"], spaces)),
    )
    emit(
        "invalid_share",
        FIGURES["invalid_share"].title,
        fig.plot_invalid_share(invalid_panels(runs, spaces)),
    )
    emit("samples", FIGURES["samples"].title, fig.plot_samples(*samples_panels(runs, spaces)))
    rocs = {}
    for unit, unit_dir in unit_dirs.items():
        key = unit_key(unit)
        mine = unit_rows(models, key)
        rocs[key] = validity_roc(unit, unit_dir, model_value(mine, "V", "roc_auc"))
    emit("models", FIGURES["models"].title, fig.plot_models(model_quality(models, spaces, rocs)))
    measured = {}
    for unit, unit_dir in unit_dirs.items():
        key = unit_key(unit)
        measured[key] = read_table(
            Path(unit_dir) / "measured.parquet",
            "measured",
            unit,
            ["config_id", "status", "error_kind", "latency_us"],
        )
        space = read_table(Path(unit_dir) / "space.parquet", "space", unit)
        vmap = validity_map(space, measured[key], key)
        emit(validity_name(key), f"Validity map of {key.label}", fig.plot_validity_map(vmap))
    emit("status", FIGURES["status"].title, fig.plot_status_breakdown(status_breakdown(measured)))
    return written
