"""``results/report/summary.md``: the paper's claims with their verdicts, the strategies' ranking
over all spaces, and the headline tables of each unit."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence

import pandas as pd

from .claims import PAPER_CLAIMS, ClaimResult, claims_paragraph
from .metrics import UNIT_KEYS
from .model_metrics import model_value
from .results import UnitKey, unit_rows, units_of
from .stats import VERDICTS

__all__ = [
    "markdown_table",
    "ratio_cell",
    "strategy_markdown",
    "models_markdown",
    "claim_results",
    "render_summary",
]


def _cell(value) -> str:
    if isinstance(value, float):
        return "–" if math.isnan(value) else f"{value:.4g}"
    return str(value)


def markdown_table(frame: pd.DataFrame) -> str:
    """A GitHub-flavoured Markdown table of ``frame`` (no index)."""
    lines = ["| " + " | ".join(map(str, frame.columns)) + " |", "|" + "---|" * len(frame.columns)]
    lines += [
        "| " + " | ".join(_cell(v) for v in row) + " |" for row in frame.itertuples(index=False)
    ]
    return "\n".join(lines)


def _number(value: float, kind: str, budget: int) -> str:
    if math.isnan(value):
        return "–"
    if math.isinf(value):
        return f"> {budget}"
    if kind == "count":
        return f"{value:.0f}" if value == round(value) else f"{value:.1f}"
    if kind == "percent":
        return f"{100 * value:.1f} %"
    return f"{value:.4g}"


def _with_ci(row, prefix: str, kind: str, budget: int) -> str:
    """``median [ci_low – ci_high]`` of a ``strategies.parquet`` metric."""
    med = row[f"{prefix}_median"]
    if math.isnan(med):
        return "–"
    shown = _number(med, kind, budget)
    low, high = row[f"{prefix}_ci_low"], row[f"{prefix}_ci_high"]
    if math.isnan(low):
        return shown
    return f"{shown} [{_number(low, kind, budget)} – {_number(high, kind, budget)}]"


def _ratio(value: float) -> str:
    if math.isnan(value):
        return "–"
    return "∞" if math.isinf(value) else f"{value:.3g}"


def ratio_cell(ratio: float, low: float, high: float, p_value: float | None = None) -> str:
    """``ratio [low – high]`` (and ``p = …``) of a comparison with ``autotvm``."""
    if math.isnan(ratio):
        return "–"
    text = _ratio(ratio)
    if not math.isnan(low):
        text += f" [{_ratio(low)} – {_ratio(high)}]"
    if p_value is not None and not math.isnan(p_value):
        text += f", p = {p_value:.2g}"
    return text


# the headline columns of a unit: (metric of strategies.parquet, column title, kind)
_HEADLINE = (
    ("samples_to_cut", "samples to the top-1 % cut", "count"),
    ("samples_to_best", "samples to ≤ 1 % of optimum", "count"),
    ("samples_to_match", "samples to match autotvm", "count"),
    ("invalid_share", "invalid share", "percent"),
    ("best_over_optimum", "final best / optimum", "value"),
)
_VERSUS = (("samples_to_cut", "cut samples vs autotvm"), ("invalid_share", "invalid vs autotvm"))


def strategy_markdown(
    strategies: pd.DataFrame, comparisons: pd.DataFrame, budgets: Mapping[str, int]
) -> str:
    """The headline table of one unit: a row per strategy, medians [95 % CI] over seeds, and
    the ratio to autotvm [95 % CI] with the rank test's p-value. ``budgets``: strategy → the
    measurements its runs made (a target never reached shows as more than that)."""
    versus = comparisons.set_index(["strategy", "metric"]) if len(comparisons) else None
    rows = []
    for _, r in strategies.iterrows():
        row = {"strategy": r["strategy"], "seeds": str(r["n_seeds"])}
        for metric, title, kind in _HEADLINE:
            row[title] = _with_ci(r, metric, kind, budgets[r["strategy"]])
            if metric == "samples_to_cut":
                row["reached cut"] = f"{round(r['samples_to_cut_reached'] * r['n_seeds'])}"
        for metric, title in _VERSUS:
            key = (r["strategy"], metric)
            if versus is None or key not in versus.index:
                row[title] = "–"
            else:
                c = versus.loc[key]
                row[title] = ratio_cell(
                    c["ratio"], c["ratio_ci_low"], c["ratio_ci_high"], c["p_value"]
                )
        rows.append(row)
    return markdown_table(pd.DataFrame(rows))


def models_markdown(models: pd.DataFrame) -> str:
    """RMSE of P and A, their ratio and V's quality on one unit, beside the paper's."""
    p, a = model_value(models, "P", "rmse"), model_value(models, "A", "rmse")
    ratio = a / p if p > 0 and not math.isnan(a) else float("nan")
    rows = [
        {
            "models (held-out)": "this run",
            "RMSE(P)": _number(p, "value", 0),
            "RMSE(A)": _number(a, "value", 0),
            "RMSE(A) / RMSE(P)": _number(ratio, "percent", 0),
            "V accuracy": _number(model_value(models, "V", "accuracy"), "value", 0),
            "V ROC-AUC": _number(model_value(models, "V", "roc_auc"), "value", 0),
        },
        {
            "models (held-out)": "**paper**",
            "RMSE(P)": "–",
            "RMSE(A)": "–",
            "RMSE(A) / RMSE(P)": "91.6 %",
            "V accuracy": "–",
            "V ROC-AUC": "–",
        },
    ]
    return markdown_table(pd.DataFrame(rows))


def claim_results(claims: pd.DataFrame) -> dict[UnitKey, list[ClaimResult]]:
    """``claims.parquet`` back as :class:`ClaimResult` lists per unit."""
    out: dict[UnitKey, list[ClaimResult]] = {}
    for row in claims.itertuples(index=False):
        unit = UnitKey(row.target, row.layer, row.template)
        out.setdefault(unit, []).append(
            ClaimResult(
                PAPER_CLAIMS[row.claim],
                float(row.ratio),
                float(row.ci_low),
                float(row.ci_high),
                float(row.p_value),
                row.verdict,
                row.reason,
            )
        )
    return out


def _verdict_cell(result: ClaimResult) -> str:
    if result.verdict == "not testable":
        return f"not testable ({result.reason})"
    cell = ratio_cell(result.ratio, result.ci_low, result.ci_high, result.p_value)
    return f"{cell}: **{result.verdict}**"


def _claims_section(units: Sequence[UnitKey], per_unit: dict) -> list[str]:
    groups = sorted({(u.target, u.template) for u in units})
    tally = Counter(
        (u.target, u.template, r.claim.name, r.verdict) for u in units for r in per_unit[u]
    )
    counts = [
        {
            "claim (paper)": claim.quote,
            "wording": claim.source,
            "holds if ml2tuner / autotvm ≤": f"{claim.claimed_ratio:.3g}",
            **{
                v: str(sum(tally[target, template, name, v] for target, template in groups))
                for v in VERDICTS
            },
        }
        for name, claim in PAPER_CLAIMS.items()
    ]
    by_group = [
        {
            "claim": name,
            **{
                f"{target} ({template})": " / ".join(
                    str(tally[target, template, name, v]) for v in VERDICTS
                )
                for target, template in groups
            },
        }
        for name in PAPER_CLAIMS
    ]
    detail = [
        {
            "unit": u.label,
            **{
                name: _verdict_cell(next(r for r in per_unit[u] if r.claim.name == name))
                for name in PAPER_CLAIMS
            },
        }
        for u in units
    ]
    return [
        "Ratio ml2tuner / autotvm of the medians over seeds, its bootstrap 95 % CI and the "
        "Mann–Whitney U p-value; samples are those to the top-1 % latency cut. Verdicts: "
        "*supported* when the CI lies below 1 and reaches the claimed ratio, *contradicted* "
        "when it lies above the claimed ratio, otherwise *inconclusive* (docs/report.md).",
        "",
        markdown_table(pd.DataFrame(counts)),
        "",
        f"Units per verdict ({' / '.join(VERDICTS)}) by board and template:",
        "",
        markdown_table(pd.DataFrame(by_group)),
        "",
        markdown_table(pd.DataFrame(detail)),
        "",
        claims_paragraph({f"{u.layer} ({u.target}, {u.template})": per_unit[u] for u in units}),
        "",
    ]


def _ranking_section(ranking: pd.DataFrame) -> list[str]:
    rows = [
        {
            "rank": str(r.rank),
            "strategy": r.strategy,
            "mean score [95 % CI]": ratio_cell(r.mean_score, r.ci_low, r.ci_high),
            "units": str(r.n_units),
        }
        for r in ranking.itertuples(index=False)
    ]
    return [
        "Score over the budget: 0 is uniform random search's expected best, 1 the optimum "
        "(Kernel Tuner's methodology, docs/report.md); averaged over the budget, then over "
        "units, with a bootstrap CI over units.",
        "",
        markdown_table(pd.DataFrame(rows)) if rows else "No unit has a valid configuration.",
        "",
    ]


def _space_line(space: pd.Series) -> str:
    n = int(space["n_configs"])
    parts = [
        f"{int(space[f'n_{s}']):,} {s.replace('_', ' ')} ({100 * space[f'n_{s}'] / n:.1f} %)"
        for s in ("valid", "compile_error", "runtime_error", "wrong_answer", "timeout")
        if space[f"n_{s}"] > 0
    ]
    optimum = (
        f"true optimum {space['optimum_latency_us']:.4g} µs (config_id "
        f"{int(space['optimum_config_id'])})"
        if space["optimum_config_id"] >= 0
        else "no valid configuration"
    )
    return f"Space: {n:,} configurations: {', '.join(parts)}; {optimum}."


def _budget_words(runs: pd.DataFrame) -> str:
    """``budget 200 measurements per run`` and the strategies whose runs were longer."""
    budgets = runs.groupby("strategy", sort=False)["n_trials"].max().astype(int)
    if budgets.empty:
        return "budget 0 measurements per run"
    common = int(budgets.mode().min())
    others = [f"{name}: {value}" for name, value in budgets.items() if value != common]
    return f"budget {common} measurements per run" + (f" ({', '.join(others)})" if others else "")


def render_summary(tables: Mapping[str, pd.DataFrame], figures: Sequence[tuple[str, str]]) -> str:
    """The Markdown summary of a run.

    Args:
        tables: the summary tables by name (:data:`~ml2tuner.workflow.columns.SUMMARY_TABLES`).
        figures: ``(title, path relative to summary.md)`` of every figure.
    """
    spaces, runs = tables["spaces"], tables["runs"]
    units = units_of(spaces)
    per_unit = claim_results(tables["claims"])
    n_seeds = runs.groupby(UNIT_KEYS + ["strategy"])["seed"].nunique()
    parts = ["# ml2tuner results", ""]
    parts += [
        f"{len(units)} unit{'s' if len(units) != 1 else ''} (target × layer × template), "
        f"{runs['strategy'].nunique()} strategies, "
        f"{int(n_seeds.max()) if len(n_seeds) else 0} seeds each, "
        f"{_budget_words(runs)}. "
        "Cells: median [bootstrap 95 % CI] over seeds; a run that never reached a target "
        "counts as more than its budget (`> budget`); definitions in docs/report.md.",
        "",
        "## The paper's claims",
        "",
    ]
    if all(u in per_unit for u in units) and units:
        parts += _claims_section(units, per_unit)
    parts += ["## Strategies over all spaces", "", *_ranking_section(tables["ranking"])]
    for unit in units:
        space = unit_rows(spaces, unit).iloc[0]
        mine = unit_rows(runs, unit)
        budgets = mine.groupby("strategy")["n_trials"].max().astype(int).to_dict()
        parts += [f"## {unit.layer} on {unit.target}, template {unit.template}", ""]
        parts += [_space_line(space), ""]
        unit_strategies = unit_rows(tables["strategies"], unit)
        if len(unit_strategies):
            comparisons = unit_rows(tables["comparisons"], unit)
            parts += [strategy_markdown(unit_strategies, comparisons, budgets), ""]
        parts += [models_markdown(unit_rows(tables["models"], unit)), ""]
    if figures:
        parts += ["## Figures", ""]
        for title, path in figures:
            parts += [f"**{title}**", "", f"![{title}]({path})", ""]
    return "\n".join(parts)
