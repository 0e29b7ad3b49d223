"""Stage ``report``: ``results/report/summary.md`` and the figures, from the summary tables.

The paper's claims with their verdicts, the ranking over all spaces and each unit's headline
table (:mod:`ml2tuner.report.markdown`), and the figures as PNG and SVG
(:mod:`ml2tuner.report.build`); ``docs/report.md`` explains them.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path

from ..report.build import build_figures, per_unit_figures
from ..report.markdown import render_summary
from ..workflow.columns import SUMMARY_TABLES
from ..workflow.config import Unit
from ..workflow.tables import atomic_write, read_table

__all__ = ["run_report"]

logger = logging.getLogger(__name__)


def run_report(
    summary_dir: str | Path,
    out_path: str | Path,
    *,
    unit_dirs: Mapping[Unit, str | Path],
    figures_dir: str | Path | None = None,
    per_unit: bool | str | None = None,
) -> None:
    """Write ``summary.md`` (and, with ``figures_dir``, every figure) from the summary tables.

    Args:
        summary_dir: ``results/summary`` (the tables of :func:`ml2tuner.stages.run_summary`).
        out_path: ``results/report/summary.md``.
        unit_dirs: every unit and its folder ``results/{target}/{layer}/{template}`` (validity
            maps, status breakdown, V's ROC curve).
        figures_dir: where the figures go (``results/report``); None draws none.
        per_unit: draw the per-unit figures: True, False, or None / ``"auto"`` (only
            up to :data:`~ml2tuner.report.build.PER_UNIT_DEFAULT_MAX` units).
    """
    summary_dir = Path(summary_dir)
    tables = {name: read_table(summary_dir / f"{name}.parquet", name) for name in SUMMARY_TABLES}
    figures = []
    if figures_dir is not None:
        figures_dir = Path(figures_dir)
        out_dir = Path(out_path).parent
        dirs = {unit: Path(path) for unit, path in unit_dirs.items()}
        figures = [
            (title, os.path.relpath(figures_dir / name, out_dir))
            for title, name in build_figures(
                tables, dirs, figures_dir, per_unit_figures(per_unit, len(dirs))
            )
        ]
    text = render_summary(tables, figures)
    atomic_write(out_path, lambda tmp: tmp.write_text(text + "\n", encoding="utf-8"))
    logger.info("report written to %s (%d figures)", out_path, len(figures))
