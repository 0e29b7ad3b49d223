"""The report's simulation-statistics section (Pelke et al.): results, figures, markdown.

From the simstats stage's tables (``models/simstats_{metrics,predictions}.parquet``) and the
tuning runs: the predictors' held-out metrics per unit, predicted against measured latency,
the top-k curve (the share of a space one measures, in predicted order, before the truly
fastest configuration is among the measured), and how many measurements each strategy needs
to reach the space's top-1 % latency cut (defined in :mod:`.metrics`, re-exported here for the
simstats stage). Results are computed first (small frames), then drawn (``docs/report.md``
explains how to read them).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from matplotlib.figure import Figure

from .figures import strategy_color
from .metrics import CUT_QUANTILE, latency_cut, samples_to_cut, spread

__all__ = [
    "MAX_WIDTH_IN",
    "SIMSTATS_FIGURES",
    "TOP_SHARE_PCT",
    "CUT_QUANTILE",
    "metrics_table",
    "topk_curves",
    "latency_cut",
    "samples_to_cut",
    "cut_summary",
    "plot_predicted_vs_measured",
    "plot_topk",
    "plot_samples_to_cut",
    "render_simstats",
]

# stem -> title of each figure (results/report/{stem}.png and .svg; rules/simstats.smk).
SIMSTATS_FIGURES = {
    "simstats_fit": "Predicted vs measured latency (held-out valid configurations)",
    "simstats_topk": "Top-k curve: measuring in predicted order, best found vs the optimum",
    "simstats_samples": "Measurements to the top-1 % latency cut, per strategy and seed",
}
TOP_SHARE_PCT = 3.0  # Pelke et al.: the best is "within the top 3 % of predictions"

_PREDICTOR_COLORS = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e")


def metrics_table(metrics: pd.DataFrame) -> pd.DataFrame:
    """One row per unit and predictor, one column per held-out metric.

    Args:
        metrics: ``simstats_metrics`` rows with the unit columns ``unit`` added.
    """
    wide = metrics.pivot_table(
        index=["unit", "model"], columns="metric", values="value", sort=False
    ).reset_index()
    sizes = metrics.groupby(["unit", "model"], sort=False)[["n_train", "n_test"]].first()
    return wide.merge(sizes.reset_index(), on=["unit", "model"])


def topk_curves(predictions: pd.DataFrame) -> pd.DataFrame:
    """Per unit and predictor: measuring the held-out configurations in predicted order.

    Returns:
        ``unit, model, share_pct`` (configurations measured, % of those ranked) and
        ``best_ratio`` (best true latency among them / the held-out optimum; 1 = found).
    """
    curves = []
    for (unit, model), rows in predictions[predictions["split"] == "test"].groupby(
        ["unit", "predictor"], sort=False
    ):
        latency = rows["latency_us"].to_numpy()
        # ties in the prediction are measured slowest first, as best_rank counts them
        latency = latency[np.lexsort((-latency, rows["predicted_us"].to_numpy()))]
        n = len(latency)
        curves.append(
            pd.DataFrame(
                {
                    "unit": unit,
                    "model": model,
                    "share_pct": 100.0 * np.arange(1, n + 1) / n,
                    "best_ratio": np.minimum.accumulate(latency) / latency.min(),
                }
            )
        )
    return pd.concat(curves, ignore_index=True)


def cut_summary(runs: pd.DataFrame) -> pd.DataFrame:
    """Median and quartiles over seeds of ``samples_to_cut`` per unit and strategy.

    Args:
        runs: ``unit, strategy, seed, samples_to_cut`` (``inf`` for a run that never got there).
    """
    rows = []
    for (unit, strategy), group in runs.groupby(["unit", "strategy"], sort=False):
        values = group["samples_to_cut"].to_numpy(float)
        s = spread(values)
        rows.append(
            {
                "unit": unit,
                "strategy": strategy,
                "n_seeds": len(values),
                "reached_share": float(np.isfinite(values).mean()),
                "median": s.median,
                "q25": s.q25,
                "q75": s.q75,
            }
        )
    return pd.DataFrame(rows)


# ---- figures ---------------------------------------------------------------------------------


MAX_WIDTH_IN = 20.0  # panels wrap onto new rows beyond this figure width (the full run's 40 units)


def _figure(n_panels: int, width: float, height: float, per_row: int = 1) -> tuple[Figure, list]:
    """A figure of ``n_panels`` panels of ``width`` × ``height`` inches, row by row, as many to
    a row as fit :data:`MAX_WIDTH_IN` (in multiples of ``per_row``, so a unit's panels stay on
    one row)."""
    # matplotlib is imported on use: the Snakefile imports this module for SIMSTATS_FIGURES
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fit = max(per_row, int(MAX_WIDTH_IN // width) // per_row * per_row)
    n_cols = min(n_panels, fit)
    n_rows = -(-n_panels // n_cols)
    fig = Figure(figsize=(width * n_cols, height * n_rows), layout="constrained")
    FigureCanvasAgg(fig)
    axes = list(fig.subplots(n_rows, n_cols, squeeze=False).flat)
    for ax in axes[n_panels:]:
        fig.delaxes(ax)
    return fig, axes[:n_panels]


def _predictor_colors(models: Sequence[str]) -> dict[str, str]:
    return {m: _PREDICTOR_COLORS[i % len(_PREDICTOR_COLORS)] for i, m in enumerate(models)}


def plot_predicted_vs_measured(predictions: pd.DataFrame, metrics: pd.DataFrame) -> Figure:
    """One panel per unit and predictor (a unit's side by side): held-out predicted vs measured."""
    units = list(dict.fromkeys(predictions["unit"]))
    models = list(dict.fromkeys(predictions["predictor"]))
    colors = _predictor_colors(models)
    fig, axes = _figure(len(units) * len(models), 3.2, 3.0, per_row=len(models))
    test = predictions[predictions["split"] == "test"]
    score = metrics.set_index(["unit", "model", "metric"])["value"]
    for i, unit in enumerate(units):
        for j, model in enumerate(models):
            ax = axes[i * len(models) + j]
            rows = test[(test["unit"] == unit) & (test["predictor"] == model)]
            x, y = rows["latency_us"].to_numpy(), rows["predicted_us"].to_numpy()
            ax.scatter(x, y, s=4, alpha=0.35, color=colors[model], linewidths=0)
            best = int(np.argmin(x))
            ax.scatter(x[best], y[best], s=40, marker="*", color="black", label="true best")
            low, high = min(x.min(), y.min()), max(x.max(), y.max())
            ax.plot([low, high], [low, high], color="0.4", lw=0.8, ls="--")
            pad = 0.03 * (high - low)
            ax.set_xlim(low - pad, high + pad)
            ax.set_ylim(low - pad, high + pad)
            rank = score.get((unit, model, "best_rank_pct"), np.nan)
            rho = score.get((unit, model, "spearman"), np.nan)
            ax.set_title(
                f"{unit}: {model}\nSpearman {rho:.2f}, best at top {rank:.1f} %", fontsize=9
            )
            ax.set_xlabel("measured latency (µs)")
            ax.set_ylabel("predicted latency (µs)")
            ax.legend(loc="upper left", fontsize=7, frameon=False)
    return fig


def plot_topk(curves: pd.DataFrame) -> Figure:
    """Per unit: best true latency among the first k % in predicted order, per predictor."""
    units = list(dict.fromkeys(curves["unit"]))
    colors = _predictor_colors(list(dict.fromkeys(curves["model"])))
    fig, axes = _figure(len(units), 4.2, 3.2)
    for ax, unit in zip(axes, units, strict=True):
        for model, rows in curves[curves["unit"] == unit].groupby("model", sort=False):
            found = rows["share_pct"].to_numpy()[np.argmax(rows["best_ratio"].to_numpy() <= 1)]
            ax.step(
                rows["share_pct"],
                rows["best_ratio"],
                where="post",
                color=colors[model],
                label=f"{model} (best at {found:.2g} %)",
            )
        ax.axvline(TOP_SHARE_PCT, color="0.3", ls=":", lw=1)
        ax.text(
            TOP_SHARE_PCT * 1.08,
            0.98,
            f"top {TOP_SHARE_PCT:g} %",
            transform=ax.get_xaxis_transform(),
            fontsize=7,
            va="top",
        )
        ax.set_xscale("log")
        ax.set_xlabel("measured in predicted order (% of held-out)")
        ax.set_ylabel("best latency found / optimum")
        ax.set_title(unit, fontsize=9)
        ax.legend(fontsize=7, frameon=False)
    return fig


def plot_samples_to_cut(runs: pd.DataFrame, budget: Mapping[str, int]) -> Figure:
    """Per unit: each seed's measurements to the top-1 % cut, per strategy (never: at the top)."""
    units = list(dict.fromkeys(runs["unit"]))
    fig, axes = _figure(len(units), max(3.4, 0.6 + 0.55 * runs["strategy"].nunique()), 3.4)
    rng = np.random.default_rng(0)  # jitter only
    for ax, unit in zip(axes, units, strict=True):
        rows = runs[runs["unit"] == unit]
        strategies = list(dict.fromkeys(rows["strategy"]))
        ceiling = budget[unit] * 1.08
        for i, strategy in enumerate(strategies):
            values = rows.loc[rows["strategy"] == strategy, "samples_to_cut"].to_numpy(float)
            shown = np.where(np.isfinite(values), values, ceiling)
            x = i + rng.uniform(-0.15, 0.15, len(values))
            ax.scatter(x, shown, s=14, color=strategy_color(strategy), alpha=0.8, linewidths=0)
            s = spread(values)
            ax.plot([i - 0.3, i + 0.3], [min(s.median, ceiling)] * 2, color="black", lw=1.5)
            ax.vlines(i, min(s.q25, ceiling), min(s.q75, ceiling), color="black", lw=0.8)
        ax.axhline(budget[unit], color="0.5", ls=":", lw=0.8)
        ax.text(len(strategies) - 0.5, ceiling, "not reached", fontsize=7, ha="right", va="bottom")
        ax.set_xticks(range(len(strategies)), strategies, rotation=35, ha="right", fontsize=8)
        ax.set_ylabel("measurements to the top-1 % cut")
        ax.set_title(f"{unit}\nbar: median, whisker: IQR, dots: seeds", fontsize=9)
    return fig


# ---- markdown --------------------------------------------------------------------------------


def _fmt(value: float, digits: int = 3) -> str:
    if not np.isfinite(value):
        return "never" if value > 0 else "–"
    return f"{value:.{digits}g}"


def render_simstats(
    table: pd.DataFrame, cuts: pd.DataFrame, figures: Sequence[tuple[str, str]]
) -> str:
    """``simstats.md``: the metrics table, the top-1 % cut table and the figures.

    Args:
        table: :func:`metrics_table`.
        cuts: :func:`cut_summary`.
        figures: ``(title, relative path)`` of each figure.
    """
    lines = [
        "# Simulation-statistics predictors (Pelke et al.)",
        "",
        "Predictors of the timing simulator's latency from the counting pass's statistics,",
        "trained on a small sample of each space's valid configurations and scored on the rest",
        "(docs/report.md). `best_rank_pct`: where the truly fastest held-out configuration",
        "ranks in the predicted order, % of those ranked (Pelke: within the top "
        f"{TOP_SHARE_PCT:g} %).",
        "",
        "| unit | predictor | n_train | n_test | MAE (µs) | MSE (µs²) | Spearman | best_rank_pct |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in table.itertuples(index=False):
        lines.append(
            f"| {r.unit} | {r.model} | {r.n_train} | {r.n_test} | {_fmt(r.mae)} | {_fmt(r.mse)} "
            f"| {_fmt(r.spearman)} | {r.best_rank_pct:.2f} |"
        )
    lines += [
        "",
        "## Measurements to the top-1 % latency cut",
        "",
        "The cut is the 1st percentile of the space's valid latencies; per strategy, the median",
        "and quartiles over seeds of the measurements until the best found is at or below it",
        "(never: not within the budget).",
        "",
        "| unit | strategy | seeds | reached | median | q25 | q75 |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in cuts.itertuples(index=False):
        lines.append(
            f"| {r.unit} | {r.strategy} | {r.n_seeds} | {100 * r.reached_share:.0f} % "
            f"| {_fmt(r.median)} | {_fmt(r.q25)} | {_fmt(r.q75)} |"
        )
    lines.append("")
    lines += [f"![{title}]({path})" for title, path in figures]
    return "\n".join(lines)
