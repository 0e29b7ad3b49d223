"""Stage ``report``: ``results/report/summary.md`` and the figures, from the summary tables.

The headline tables beside the paper's claims (:mod:`ml2tuner.report.markdown`) and the six
figures as PNG and SVG (:mod:`ml2tuner.report.build`); ``docs/report.md`` explains them.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from ..report.build import build_figures
from ..report.markdown import markdown_table, render_summary
from ..report.tables import SUMMARY_TABLES
from ..workflow.tables import read_table

__all__ = ["markdown_table", "placeholder_banners", "run_report"]

logger = logging.getLogger(__name__)


def placeholder_banners(strategies: pd.DataFrame, models: pd.DataFrame) -> list[str]:
    """The notes shown first in ``summary.md`` about placeholder strategies and models."""
    banners = []
    placeholders = sorted(strategies.loc[strategies["placeholder_strategy"], "strategy"].unique())
    if placeholders:
        verb = "is" if len(placeholders) == 1 else "are"
        banners.append(
            f"> **Stale tuning runs:** {', '.join(placeholders)} {verb} marked "
            "`placeholder_strategy`: those runs were made before `ml2tuner.tuners` "
            "landed and are uniform random search. Do not compare them; re-run "
            "them with `snakemake --cores all --forcerun tune`."
        )
    if len(models) and models["placeholder"].any():
        banners.append(
            "> **Stale models:** these P, V and A metrics come from before "
            "`ml2tuner.models` landed (no model was trained; the values are NaN). "
            "Re-run them with `snakemake --cores all --forcerun train_models`."
        )
    return banners


def run_report(
    summary_dir: str | Path,
    out_path: str | Path,
    *,
    unit_dirs: Sequence[str | Path] = (),
    figures_dir: str | Path | None = None,
) -> None:
    """Write ``summary.md`` (and, with ``figures_dir``, every figure) from the summary tables.

    Args:
        summary_dir: ``results/summary`` (the tables of :func:`ml2tuner.stages.run_summary`).
        out_path: ``results/report/summary.md``.
        unit_dirs: ``results/{target}/{layer}/{template}`` of every unit (validity maps, status
            breakdown, V's ROC curve).
        figures_dir: where the figures go (``results/report``); None draws none.
    """
    summary_dir = Path(summary_dir)
    tables = {name: read_table(summary_dir / f"{name}.parquet") for name in SUMMARY_TABLES}
    figures = []
    if figures_dir is not None:
        figures_dir = Path(figures_dir)
        out_dir = Path(out_path).parent
        figures = [
            (title, os.path.relpath(figures_dir / name, out_dir))
            for title, name in build_figures(tables, unit_dirs, figures_dir)
        ]
    text = render_summary(
        tables["spaces"],
        tables["strategies"],
        tables["models"],
        tables["claims"],
        tables["runs"],
        placeholder_banners(tables["strategies"], tables["models"]),
        figures,
    )
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_name(f".{out_path.name}.tmp")
    tmp.write_text(text + "\n", encoding="utf-8")
    tmp.replace(out_path)
    logger.info("report written to %s (%d figures)", out_path, len(figures))
