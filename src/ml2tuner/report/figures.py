"""The report's figures, one function per figure, each drawing one typed result of
:mod:`.results` onto a new matplotlib :class:`~matplotlib.figure.Figure` rendered by the Agg
canvas (no pyplot, so no global backend or figure state).

Colours are fixed per strategy (:func:`strategy_color`) and per status (:data:`STATUS_COLORS`)
so every figure reads the same way.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import matplotlib
import numpy as np
from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize, to_rgba
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from .results import ConvergencePanel, ModelQuality, SeedPanel, StatusBreakdown, ValidityMap

__all__ = [
    "STRATEGY_COLORS",
    "STATUS_COLORS",
    "strategy_color",
    "plot_convergence",
    "plot_invalid_share",
    "plot_samples",
    "plot_models",
    "plot_validity_map",
    "plot_status_breakdown",
    "save_figure",
]

STRATEGY_COLORS = {
    "random": "#7f7f7f",
    "autotvm": "#1f77b4",
    "ml2tuner": "#d62728",
    "hwinit": "#ff7f0e",
    "active": "#2ca02c",
    "optuna": "#9467bd",
}
_SPARE_COLORS = ("#8c564b", "#e377c2", "#bcbd22", "#17becf", "#393b79", "#637939")
STATUS_COLORS = {
    "valid": "#21918c",
    "compile_error": "#bdbdbd",
    "runtime_error": "#525252",
    "wrong_answer": "#e31a1c",
    "timeout": "#8c510a",
}
LATENCY_CMAP = "viridis_r"  # fast = bright yellow, slow = dark purple
UNIT_COLORS = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d")
NOT_REACHED = "not reached"


def strategy_color(strategy: str) -> str:
    """The strategy's colour in every figure (unknown names get a stable spare colour)."""
    if strategy in STRATEGY_COLORS:
        return STRATEGY_COLORS[strategy]
    return _SPARE_COLORS[sum(map(ord, strategy)) % len(_SPARE_COLORS)]


def _status_label(status: str, kinds: dict) -> str:
    detail = ", ".join(kinds.get(status, ()))
    return f"{status.replace('_', ' ')} ({detail})" if detail else status.replace("_", " ")


def _grid(n: int, max_cols: int = 3) -> tuple[int, int]:
    cols = max(1, min(n, max_cols))
    return math.ceil(max(n, 1) / cols), cols


def _figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def save_figure(fig: Figure, png_path: str | Path, svg_path: str | Path | None = None) -> None:
    """Write ``fig`` as PNG (150 dpi) and SVG, reproducibly (no dates, fixed ids)."""
    png_path = Path(png_path)
    png_path.parent.mkdir(parents=True, exist_ok=True)
    with matplotlib.rc_context({"svg.hashsalt": "ml2tuner"}):
        fig.savefig(png_path, dpi=150, metadata={"Software": None})
        if svg_path is not None:
            fig.savefig(svg_path, metadata={"Date": None, "Creator": None})


def _strategy_legend(fig: Figure, handles: dict) -> None:
    """One legend of the strategies (label -> artist) below the panels, four a row."""
    fig.legend(
        list(handles.values()),
        list(handles),
        loc="outside lower center",
        ncol=min(len(handles), 4),
        fontsize=9,
        frameon=False,
    )


def _note(ax, text: str) -> None:
    ax.text(
        0.5,
        0.5,
        text,
        transform=ax.transAxes,
        ha="center",
        va="center",
        wrap=True,
        fontsize=9,
        color="#444444",
    )


# ---- (1) best latency vs measurements -------------------------------------------------------


def _convergence_ylim(panel: ConvergencePanel) -> tuple[float, float]:
    """From just below the optimum to the worst upper quartile after the first tenth of the
    budget: the early, noisy descent is cut so the approach to the optimum stays readable."""
    tops = []
    for c in panel.curves:
        start = max(10, int(0.1 * len(c.n_measurements)))
        q75 = c.q75[start:] if c.q75.size > start else c.q75
        tops += [float(np.nanmax(q75))] if np.isfinite(q75).any() else []
    lo = panel.optimum_us if np.isfinite(panel.optimum_us) else min(tops, default=1.0)
    hi = max(tops, default=lo * 1.5)
    pad = max(hi - lo, lo * 0.02)
    return lo - 0.08 * pad, hi + 0.05 * pad


def plot_convergence(panels: Sequence[ConvergencePanel]) -> Figure:
    """Best latency found vs measurements: median line and IQR band per strategy, per unit."""
    n_rows, n_cols = _grid(len(panels))
    fig = _figure(4.6 * n_cols, 3.4 * n_rows + 0.6)
    axes = fig.subplots(n_rows, n_cols, squeeze=False).ravel()
    handles: dict[str, object] = {}
    for ax, panel in zip(axes, panels, strict=False):
        for c in panel.curves:
            color = strategy_color(c.strategy)
            ax.fill_between(
                c.n_measurements, c.q25, c.q75, color=color, alpha=0.15, lw=0, step="post"
            )
            (line,) = ax.step(
                c.n_measurements,
                c.median,
                where="post",
                color=color,
                lw=1.6,
                ls="-",
            )
            handles.setdefault(c.strategy, line)
        if np.isfinite(panel.optimum_us):
            ref = ax.axhline(panel.optimum_us, color="black", lw=1, ls=":")
            handles.setdefault("true optimum of the space", ref)
            ax.annotate(
                f"optimum {panel.optimum_us:.4g} µs",
                (0, panel.optimum_us),
                xycoords=("axes fraction", "data"),
                xytext=(4, -2),
                textcoords="offset points",
                ha="left",
                va="top",
                fontsize=8,
            )
        ax.set_ylim(*_convergence_ylim(panel))
        ax.set_xlim(left=0)
        ax.set_title(panel.unit.label, fontsize=10)
        ax.set_xlabel("measurements")
        ax.set_ylabel("best latency found (µs)")
        ax.grid(alpha=0.3)
    for ax in axes[len(panels) :]:
        ax.set_visible(False)
    fig.suptitle(
        "Best latency found vs measurements (median and inter-quartile range over seeds)",
        fontsize=11,
    )
    _strategy_legend(fig, handles)
    return fig


# ---- (2) invalid share ----------------------------------------------------------------------


def _jitter(n: int, width: float, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-width, width, n)


def plot_invalid_share(panels: Sequence[SeedPanel]) -> Figure:
    """Share of invalid measurements per strategy (bars: median, whiskers: IQR, dots: seeds)
    per unit, beside the share of invalid configurations in the space."""
    strategies = list(dict.fromkeys(v.strategy for p in panels for v in p.by_strategy))
    n = max(len(strategies), 1)
    width = 0.8 / n
    fig = _figure(max(8.0, 1.2 + 0.55 * n * len(panels)), 4.8)
    ax = fig.subplots()
    handles: dict[str, object] = {}
    for g, panel in enumerate(panels):
        for values in panel.by_strategy:
            i = strategies.index(values.strategy)
            x = g - 0.4 + width * (i + 0.5)
            v = 100 * values.values
            med, q25, q75 = np.median(v), np.quantile(v, 0.25), np.quantile(v, 0.75)
            color = strategy_color(values.strategy)
            bar = ax.bar(
                x,
                med,
                width * 0.9,
                color=color,
                alpha=0.75,
                edgecolor="white",
            )
            ax.errorbar(x, med, yerr=[[med - q25], [q75 - med]], color="black", lw=1, capsize=2)
            ax.scatter(
                x + _jitter(v.size, width * 0.25, g * 31 + i),
                v,
                s=6,
                color="black",
                alpha=0.5,
                zorder=3,
                lw=0,
            )
            handles.setdefault(values.strategy, bar)
        if np.isfinite(panel.reference):
            ref = ax.hlines(
                100 * panel.reference, g - 0.45, g + 0.45, color="black", ls="--", lw=1.2
            )
            handles.setdefault("invalid share of the whole space", ref)
    ax.set_xticks(range(len(panels)), [p.unit.label for p in panels])
    ax.set_xlim(-0.6, len(panels) - 0.4)
    ax.set_ylim(0, 100)
    ax.set_ylabel("invalid measurements (% of the run)")
    ax.set_title(
        "Invalid measurements per run (bar: median over seeds, whisker: IQR, dots: seeds)",
        fontsize=10,
    )
    ax.grid(axis="y", alpha=0.3)
    _strategy_legend(fig, handles)
    return fig


# ---- (3) samples to reach the optimum / to match autotvm ------------------------------------


def _samples_axes(ax, panel: SeedPanel, ylabel: str) -> None:
    budget = max(panel.budget, 1)
    band = budget * 1.12  # unreached seeds are drawn in a band above the budget
    for i, values in enumerate(panel.by_strategy):
        v = values.values
        reached = np.isfinite(v)
        color = strategy_color(values.strategy)
        jitter = _jitter(v.size, 0.18, i)
        ax.scatter(i + jitter[reached], v[reached], s=14, color=color, alpha=0.8, lw=0)
        ax.scatter(
            i + jitter[~reached],
            np.full((~reached).sum(), band),
            s=16,
            color=color,
            marker="x",
            lw=1,
        )
        shown = np.where(reached, v, band)
        q25, med, q75 = (np.quantile(shown, q) for q in (0.25, 0.5, 0.75))
        ax.plot([i - 0.3, i + 0.3], [med, med], color="black", lw=2)
        ax.plot([i, i], [q25, q75], color="black", lw=1)
    ax.axhspan(budget * 1.04, budget * 1.2, color="#eeeeee", zorder=0)
    ax.axhline(budget, color="black", lw=0.8, ls=":")
    ax.set_ylim(0, budget * 1.2)
    ticks = [t for t in ax.get_yticks() if 0 <= t <= budget]
    ax.set_yticks([*ticks, band], [f"{t:g}" for t in ticks] + [NOT_REACHED])
    ax.set_xlim(-0.6, len(panel.by_strategy) - 0.4)
    ax.set_xticks(
        range(len(panel.by_strategy)),
        [v.strategy for v in panel.by_strategy],
        rotation=30,
        ha="right",
        fontsize=8,
    )
    ax.set_ylabel(ylabel)
    ax.grid(axis="y", alpha=0.3)
    if panel.note:
        ax.text(
            0.5, 0.55, panel.note, transform=ax.transAxes, ha="center", fontsize=8, color="#444444"
        )


def plot_samples(to_best: Sequence[SeedPanel], to_match: Sequence[SeedPanel]) -> Figure:
    """Measurements each run needed (dots: seeds; line: median; bar: IQR; ×: never within the
    budget) to get within 1 % of the optimum (top) and to match autotvm's final best (bottom)."""
    n = max(len(to_best), 1)
    fig = _figure(max(4.2 * n, 5.5), 7.4)
    axes = fig.subplots(2, n, squeeze=False)
    for j, (best, match) in enumerate(zip(to_best, to_match, strict=True)):
        _samples_axes(axes[0, j], best, "measurements to get within\n1 % of the optimum")
        _samples_axes(axes[1, j], match, "measurements to match\nautotvm's final best")
        axes[0, j].set_title(best.unit.label, fontsize=10)
    fig.suptitle(
        "Samples needed per run (dots: seeds, black line: median, bar: IQR, ×: not "
        "reached within the budget)",
        fontsize=10,
    )
    return fig


# ---- (4) models -----------------------------------------------------------------------------


def plot_models(quality: Sequence[ModelQuality]) -> Figure:
    """RMSE of P vs A on held-out valid configurations (left) and V's ROC curve (right)."""
    fig = _figure(max(10.0, 2.2 * len(quality) + 6), 4.4)
    ax_rmse, ax_roc = fig.subplots(1, 2, width_ratios=[max(len(quality), 1.5), 2.0])
    notes = []
    for i, q in enumerate(quality):
        if np.isfinite(q.rmse_p) and np.isfinite(q.rmse_a):
            for dx, value, name, color in (
                (-0.2, q.rmse_p, "P (configuration features)", "#6baed6"),
                (0.2, q.rmse_a, "A (+ hidden compiler features)", "#08519c"),
            ):
                ax_rmse.bar(i + dx, value, 0.38, color=color, label=name if i == 0 else None)
            ax_rmse.text(
                i,
                max(q.rmse_p, q.rmse_a) * 1.03,
                f"A/P = {100 * q.rmse_a / q.rmse_p:.1f} %",
                ha="center",
                va="bottom",
                fontsize=8,
            )
        else:
            why = "no RMSE reported"
            ax_rmse.text(
                i,
                0.02,
                why,
                ha="center",
                va="bottom",
                rotation=90,
                fontsize=8,
                color="#444444",
                transform=ax_rmse.get_xaxis_transform(),
            )
    tops = [
        max(q.rmse_p, q.rmse_a) for q in quality if np.isfinite(q.rmse_p) and np.isfinite(q.rmse_a)
    ]
    ax_rmse.set_ylim(0, 1.25 * max(tops) if tops else 1.0)  # room for the labels and legend
    ax_rmse.set_xticks(
        range(len(quality)),
        [q.unit.label for q in quality],
        fontsize=8,
        rotation=15 if len(quality) > 2 else 0,
    )
    ax_rmse.set_xlim(-0.6, len(quality) - 0.4)
    ax_rmse.set_ylabel("RMSE of normalised throughput (1 = best)")
    ax_rmse.set_title("Held-out RMSE: P vs A (lower is better)", fontsize=10)
    ax_rmse.grid(axis="y", alpha=0.3)
    if ax_rmse.get_legend_handles_labels()[0]:
        ax_rmse.legend(fontsize=8, loc="upper left")
    ax_roc.plot([0, 1], [0, 1], color="#999999", ls=":", lw=1, label="chance")
    curves = [(i, q) for i, q in enumerate(quality) if q.roc is not None]
    # A good V hugs the top-left corner: an inset magnifies it.
    zoom = ax_roc.inset_axes([0.38, 0.3, 0.57, 0.45]) if curves else None
    for i, q in curves:
        for ax in (ax_roc, zoom):
            ax.plot(
                q.roc.fpr,
                q.roc.tpr,
                color=UNIT_COLORS[i % 7],
                lw=1.6,
                label=f"{q.unit.label}: AUC {q.roc.auc:.3f} (n = {q.roc.n_test})"
                if ax is ax_roc
                else None,
            )
    if zoom is not None:
        zoom.set_xlim(0, 0.1)
        zoom.set_ylim(0.8, 1.005)
        zoom.tick_params(labelsize=7)
        zoom.grid(alpha=0.3)
        zoom.set_title("zoom: false positive rate ≤ 0.1", fontsize=7)
    for q in quality:
        if q.roc_note:
            notes.append(f"{q.unit.layer}: {q.roc_note}")
    ax_roc.set_xlim(0, 1)
    ax_roc.set_ylim(0, 1.01)
    ax_roc.set_aspect("equal")
    ax_roc.set_xlabel("false positive rate (invalid predicted valid)")
    ax_roc.set_ylabel("true positive rate (valid predicted valid)")
    ax_roc.set_title("V: ROC curve on held-out configurations", fontsize=10)
    ax_roc.grid(alpha=0.3)
    ax_roc.legend(fontsize=7, loc="lower right")
    if notes:
        ax_roc.text(
            0.02,
            0.98,
            "\n".join(notes),
            transform=ax_roc.transAxes,
            va="top",
            fontsize=7,
            color="#444444",
            wrap=True,
        )
    return fig


# ---- (5) validity map -----------------------------------------------------------------------


def _ticks(values: np.ndarray, n: int = 6) -> tuple[np.ndarray, list[str]]:
    idx = np.unique(np.linspace(0, values.size - 1, min(n, values.size)).round().astype(int))
    return idx, [str(values[i]) for i in idx]


def plot_validity_map(vmap: ValidityMap) -> Figure:
    """Every configuration of one unit as a cell of tile_h × tile_w maps (one per thread
    setting): failure classes in flat colours, valid cells shaded by latency."""
    n = len(vmap.panels)
    n_cols = min(n, 4)
    n_rows = math.ceil(n / n_cols)
    fig = _figure(2.6 * n_cols + 1.6, 2.6 * n_rows + 1.2)
    axes = fig.subplots(n_rows, n_cols, squeeze=False, sharex=True, sharey=True)
    valid_lat = np.concatenate([p.latency[np.isfinite(p.latency)] for p in vmap.panels])
    lo = float(valid_lat.min()) if valid_lat.size else 0.0
    # the upper quartile: the contrast goes to the good configurations, slower ones saturate
    hi = float(np.quantile(valid_lat, 0.75)) if valid_lat.size else 1.0
    norm = Normalize(lo, max(hi, lo * 1.001 + 1e-9), clip=True)
    cmap = colormaps[LATENCY_CMAP]
    status_rgba = np.array([to_rgba(STATUS_COLORS.get(s, "#000000")) for s in vmap.statuses])
    for k, (ax, panel) in enumerate(zip(axes.ravel(), vmap.panels, strict=False)):
        image = np.ones((*panel.status.shape, 4))  # white: no configuration there
        failed = panel.status > 0
        image[failed] = status_rgba[panel.status[failed]]
        ok = panel.status == 0
        image[ok] = cmap(norm(panel.latency[ok]))
        ax.imshow(image, origin="lower", interpolation="nearest", aspect="auto")
        if vmap.optimum is not None and vmap.optimum[0] == k:
            ax.plot(
                vmap.optimum[2],
                vmap.optimum[1],
                marker="*",
                ms=11,
                color="white",
                markeredgecolor="black",
            )
        ax.set_title(panel.title, fontsize=9)
        xt, xl = _ticks(vmap.col_values)
        yt, yl = _ticks(vmap.row_values)
        ax.set_xticks(xt, xl, fontsize=7)
        ax.set_yticks(yt, yl, fontsize=7)
    for ax in axes[-1]:
        ax.set_xlabel(vmap.col_knob)
    for ax in axes[:, 0]:
        ax.set_ylabel(vmap.row_knob)
    for ax in axes.ravel()[n:]:
        ax.set_visible(False)
    colorbar = fig.colorbar(
        ScalarMappable(norm, cmap), ax=axes, shrink=0.7, aspect=25, extend="max"
    )
    colorbar.set_label("latency of valid configurations (µs)")
    present = {vmap.statuses[c] for p in vmap.panels for c in np.unique(p.status) if c > 0}
    handles = [Patch(color=cmap(0.5), label="valid (colour = latency, see bar)")]
    handles += [
        Patch(color=STATUS_COLORS[s], label=_status_label(s, dict(vmap.kinds)))
        for s in vmap.statuses
        if s in present
    ]
    handles.append(
        Line2D(
            [],
            [],
            marker="*",
            ls="",
            ms=11,
            color="white",
            markeredgecolor="black",
            label="true optimum",
        )
    )
    fig.legend(
        handles=handles,
        loc="outside lower center",
        ncol=min(len(handles), 4),
        fontsize=8,
        frameon=False,
    )
    what = (
        "best configuration per cell (over the other knobs)"
        if vmap.aggregated
        else "one cell per configuration"
    )
    fig.suptitle(f"Validity map of {vmap.unit.label}: {what}", fontsize=10)
    return fig


# ---- (6) status breakdown -------------------------------------------------------------------


def plot_status_breakdown(breakdown: StatusBreakdown) -> Figure:
    """Share of each space's configurations per outcome (stacked bars, one per unit)."""
    n = len(breakdown.units)
    fig = _figure(9.0, 1.4 + 0.55 * max(n, 1))
    ax = fig.subplots()
    totals = breakdown.counts.sum(axis=1).clip(min=1)
    left = np.zeros(n)
    for j, status in enumerate(breakdown.statuses):
        share = 100 * breakdown.counts[:, j] / totals
        if not share.any():
            continue
        ax.barh(
            range(n),
            share,
            left=left,
            color=STATUS_COLORS.get(status, "#000000"),
            label=_status_label(status, dict(breakdown.kinds)),
            edgecolor="white",
        )
        for i, (s, c) in enumerate(zip(share, breakdown.counts[:, j], strict=True)):
            if s >= 4:
                dark = status in ("valid", "runtime_error", "wrong_answer", "timeout")
                ax.text(
                    left[i] + s / 2,
                    i,
                    f"{s:.0f} %\n({c})",
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if dark else "black",
                )
        left += share
    ax.set_yticks(
        range(n),
        [
            f"{u.label}\n{t} configurations"
            for u, t in zip(breakdown.units, breakdown.counts.sum(axis=1), strict=True)
        ],
        fontsize=8,
    )
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("configurations of the space (%)")
    ax.set_title("Outcome of every configuration of each search space", fontsize=10)
    fig.legend(loc="outside lower center", ncol=3, fontsize=8, frameon=False)
    return fig
