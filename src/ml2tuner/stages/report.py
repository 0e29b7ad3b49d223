"""Stage ``report``: ``results/report/summary.md`` from the summary tables.

Minimal for now: the tables in Markdown. The paper's figures come with the report issue.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

import pandas as pd

from ..workflow.tables import read_table

__all__ = ["markdown_table", "render_report", "run_report"]

logger = logging.getLogger(__name__)

_SPACE_COLUMNS = ["n_configs", "n_valid", "n_compile_error", "n_runtime_error", "n_wrong_answer",
                  "n_timeout", "optimum_latency_us", "optimum_config_id"]
_STRATEGY_COLUMNS = ["strategy", "n_seeds", "reached_share", "samples_to_best_median",
                     "invalid_share_median", "final_best_latency_us_median"]


def _cell(value) -> str:
    if isinstance(value, float):
        return "–" if math.isnan(value) else f"{value:.4g}"
    return str(value)


def markdown_table(frame: pd.DataFrame) -> str:
    """A GitHub-flavoured Markdown table of ``frame`` (no index)."""
    lines = ["| " + " | ".join(map(str, frame.columns)) + " |",
             "|" + "---|" * len(frame.columns)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |"
              for row in frame.itertuples(index=False)]
    return "\n".join(lines)


def render_report(spaces: pd.DataFrame, strategies: pd.DataFrame, models: pd.DataFrame) -> str:
    """The Markdown summary of a run."""
    parts = ["# ml2tuner results", ""]
    placeholders = sorted(strategies.loc[strategies["placeholder_strategy"], "strategy"].unique())
    if placeholders:
        verb = "is" if len(placeholders) == 1 else "are"
        parts += [f"> **Placeholder strategies:** {', '.join(placeholders)} {verb} not "
                  "implemented yet (`ml2tuner.tuners` has not landed): those runs are uniform "
                  "random search, marked `placeholder_strategy`. Do not compare them.", ""]
    if len(models) and models["placeholder"].any():
        parts += ["> **Placeholder models:** P, V and A were not trained (`ml2tuner.models` has "
                  "not landed); their metrics are NaN.", ""]
    parts += ["samples_to_best: measurements until the best latency found is within 1 % of "
              "the space's optimum (median over the seeds that reached it); reached_share: "
              "share of seeds that reached it within the budget.", ""]
    for key, space in spaces.groupby(["target", "layer", "template"], sort=False):
        target, layer, template = key
        parts += [f"## {layer} on {target}, template {template}", "",
                  markdown_table(space[_SPACE_COLUMNS]), ""]
        mine = strategies[(strategies["target"] == target) & (strategies["layer"] == layer)
                          & (strategies["template"] == template)]
        if len(mine):
            shown = mine[_STRATEGY_COLUMNS].copy()
            shown["strategy"] = [f"{s} (placeholder)" if p else s for s, p in
                                 zip(mine["strategy"], mine["placeholder_strategy"], strict=True)]
            parts += [markdown_table(shown), ""]
    return "\n".join(parts)


def run_report(summary_dir: str | Path, out_path: str | Path) -> None:
    """Write the Markdown report from ``summary_dir``'s tables."""
    summary_dir = Path(summary_dir)
    text = render_report(read_table(summary_dir / "spaces.parquet"),
                         read_table(summary_dir / "strategies.parquet"),
                         read_table(summary_dir / "models.parquet"))
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_name(f".{out_path.name}.tmp")
    tmp.write_text(text + "\n", encoding="utf-8")
    tmp.replace(out_path)
    logger.info("report written to %s", out_path)
