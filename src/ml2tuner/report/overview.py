"""The figures that stay one page at any number of units: a layers × boards heatmap per claim
(one panel per template) and the aggregate score over all spaces (``docs/report.md``).

Each figure's result is computed first (:func:`claim_heatmaps`, :func:`aggregate_curves`) and
then drawn (:func:`plot_claim_heatmap`, :func:`plot_aggregate`).
"""

from __future__ import annotations

import math
import re
import textwrap
from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from .aggregate import mean_score_curves
from .claims import PAPER_CLAIMS, Claim
from .figures import strategy_color
from .stats import VERDICTS

__all__ = [
    "VERDICT_COLORS",
    "HeatmapPanel",
    "ClaimHeatmap",
    "claim_heatmap",
    "plot_claim_heatmap",
    "AggregateCurve",
    "aggregate_curves",
    "plot_aggregate",
]

VERDICT_COLORS = {
    "supported": "#1a9850",
    "inconclusive": "#fee08b",
    "contradicted": "#d73027",
    "not testable": "#f0f0f0",
}


@dataclass(frozen=True)
class HeatmapPanel:
    """One template: cells ``[layer, target]`` (verdict index into :data:`VERDICTS`, -1: no
    unit) with their text (ratio and CI)."""

    template: str
    layers: tuple[str, ...]
    targets: tuple[str, ...]
    verdict: np.ndarray
    text: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class ClaimHeatmap:
    claim: Claim
    panels: tuple[HeatmapPanel, ...]


def _ratio_text(ratio: float, low: float, high: float) -> str:
    def f(v: float) -> str:
        return "∞" if math.isinf(v) else f"{v:.2g}"

    if math.isnan(ratio):
        return "–"
    return f(ratio) if math.isnan(low) else f"{f(ratio)}\n[{f(low)}–{f(high)}]"


def _natural(name: str) -> list:
    """Sort key that orders the numbers in a name by value ("C2" < "C10")."""
    return [
        (0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", name)
    ]


def claim_heatmap(claims: pd.DataFrame, claim: str) -> ClaimHeatmap:
    """The heatmap of one claim from ``claims.parquet``: layers (rows, in the natural order of
    their names: C2 before C10) × targets (columns), one panel per template; targets and
    templates in first-appearance order."""
    rows = claims[claims["claim"] == claim]
    panels = []
    for template, mine in rows.groupby("template", sort=False):
        layers = tuple(sorted(set(mine["layer"].astype(str)), key=_natural))
        targets = tuple(dict.fromkeys(mine["target"].astype(str)))
        verdict = np.full((len(layers), len(targets)), -1, np.int64)
        text = [["" for _ in targets] for _ in layers]
        for r in mine.itertuples(index=False):
            i, j = layers.index(str(r.layer)), targets.index(str(r.target))
            verdict[i, j] = VERDICTS.index(r.verdict)
            text[i][j] = _ratio_text(r.ratio, r.ci_low, r.ci_high)
        panels.append(
            HeatmapPanel(str(template), layers, targets, verdict, tuple(map(tuple, text)))
        )
    return ClaimHeatmap(PAPER_CLAIMS[claim], tuple(panels))


def _figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def plot_claim_heatmap(heatmap: ClaimHeatmap) -> Figure:
    """Cells: ml2tuner / autotvm [95 % CI], coloured by the verdict; one panel per template."""
    panels = heatmap.panels or (HeatmapPanel("–", (), (), np.zeros((0, 0), np.int64), ()),)
    n_rows = max(len(p.layers) for p in panels)
    n_cols = sum(max(len(p.targets), 1) for p in panels)
    fig = _figure(max(6.0, 1.6 + 1.25 * n_cols), 1.8 + 0.5 * max(n_rows, 1))
    axes = fig.subplots(
        1, len(panels), squeeze=False, width_ratios=[max(len(p.targets), 1) for p in panels]
    )[0]
    colors = ["#ffffff", *(VERDICT_COLORS[v] for v in VERDICTS)]  # -1: no unit
    cmap = ListedColormap(colors)
    for ax, panel in zip(axes, panels, strict=True):
        ax.imshow(panel.verdict + 1, cmap=cmap, vmin=0, vmax=len(colors) - 1, aspect="auto")
        for i, row in enumerate(panel.text):
            for j, text in enumerate(row):
                ax.text(j, i, text, ha="center", va="center", fontsize=7)
        ax.set_xticks(range(len(panel.targets)), panel.targets, fontsize=8)
        ax.set_yticks(range(len(panel.layers)), panel.layers, fontsize=8)
        ax.set_title(f"template {panel.template}", fontsize=9)
        ax.tick_params(length=0)
    claim = heatmap.claim
    rule = (
        f"“{claim.quote}” ({claim.source}): holds if ml2tuner / autotvm ≤ {claim.claimed_ratio:.3g}"
    )
    # ~14 characters an inch at 9 pt, 12 with a margin: wrapped to the figure's width, not clipped
    lines = textwrap.wrap(rule, int(fig.get_figwidth() * 12))
    fig.suptitle(
        "\n".join([*lines, "cell: ratio of medians over seeds [bootstrap 95 % CI]"]), fontsize=9
    )
    fig.legend(
        handles=[Patch(color=VERDICT_COLORS[v], label=v) for v in VERDICTS],
        loc="outside lower center",
        ncol=len(VERDICTS),
        fontsize=8,
        frameon=False,
    )
    return fig


@dataclass(frozen=True)
class AggregateCurve:
    """One strategy's mean score over units at each budget fraction, with its CI band."""

    strategy: str
    fraction: np.ndarray
    mean: np.ndarray
    low: np.ndarray
    high: np.ndarray
    n_units: int


def aggregate_curves(scores: pd.DataFrame) -> list[AggregateCurve]:
    """The curves of :func:`plot_aggregate` from ``scores.parquet``."""
    if scores.empty:
        return []
    table = mean_score_curves(scores)
    return [
        AggregateCurve(
            str(strategy),
            c["budget_fraction"].to_numpy(float),
            c["mean_score"].to_numpy(float),
            c["ci_low"].to_numpy(float),
            c["ci_high"].to_numpy(float),
            int(c["n_units"].iloc[0]),
        )
        for strategy, c in table.groupby("strategy", sort=False)
    ]


def plot_aggregate(curves: list[AggregateCurve]) -> Figure:
    """Score vs the fraction of the budget used: mean over units, bootstrap 95 % CI band."""
    fig = _figure(7.5, 4.6)
    ax = fig.subplots()
    for c in curves:
        color = strategy_color(c.strategy)
        ax.fill_between(c.fraction, c.low, c.high, color=color, alpha=0.15, lw=0)
        ax.plot(c.fraction, c.mean, color=color, lw=1.6, label=c.strategy)
    ax.axhline(0, color="0.3", ls=":", lw=1)
    ax.axhline(1, color="black", ls="--", lw=0.8)
    ax.text(0.01, 0.0, "random search (expected)", fontsize=7, va="bottom", color="0.3")
    ax.text(0.01, 1.0, "optimum", fontsize=7, va="bottom")
    ax.set_xlim(0, 1)
    ax.set_xlabel("fraction of the budget measured")
    ax.set_ylabel("score: (random − strategy) / (random − optimum)")
    n = max((c.n_units for c in curves), default=0)
    ax.set_title(
        f"Score over the budget, mean over {n} unit{'s' if n != 1 else ''} (band: bootstrap "
        "95 % CI over units)",
        fontsize=10,
    )
    ax.grid(alpha=0.3)
    if curves:
        ax.legend(fontsize=8, ncol=2, frameon=False, loc="lower right")
    return fig
