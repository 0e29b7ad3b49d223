"""``results/report/summary.md``: headline tables per unit beside the paper's claims."""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd

from .claims import PAPER_CLAIMS, ClaimResult, claims_paragraph
from .metrics import REFERENCE_STRATEGY, UNIT_KEYS
from .model_metrics import model_value
from .results import UnitKey, unit_rows, units_of

__all__ = ["markdown_table", "claim_results", "render_summary"]


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


def _spread(row: pd.Series, prefix: str, kind: str, budget: int) -> str:
    med = row[f"{prefix}_median"]
    if math.isnan(med):
        return "–"
    if math.isinf(row[f"{prefix}_q25"]):  # at least three quarters of the seeds never got there
        return _number(med, kind, budget)
    q25, q75 = (_number(row[f"{prefix}_{q}"], kind, budget) for q in ("q25", "q75"))
    shown = _number(med, kind, budget)
    return shown if q25 == q75 == shown else f"{shown} [{q25} – {q75}]"


def _vs_reference(value: float, strategy: str, kind: str) -> str:
    if strategy == REFERENCE_STRATEGY or math.isnan(value):
        return "–"
    if math.isinf(value):
        return "never matched"
    if kind == "samples":
        return f"{100 * value:.1f} %"
    return f"{100 * (value - 1):+.1f} %".replace("-", "−")


def strategy_markdown(strategies: pd.DataFrame, budget: int) -> str:
    """The headline table of one unit: a row per strategy and the paper's row."""
    rows = []
    for _, r in strategies.iterrows():
        rows.append(
            {
                "strategy": r["strategy"],
                "final best latency (µs)": _spread(r, "final_best_latency_us", "latency", budget),
                "samples to ≤ 1 % of optimum": _spread(r, "samples_to_best", "count", budget),
                "reached ≤ 1 %": f"{round(r['reached_share'] * r['n_seeds'])}/{r['n_seeds']}",
                "samples to match autotvm": _spread(r, "samples_to_match", "count", budget),
                "samples, share of autotvm's": _vs_reference(
                    r["samples_vs_reference"], r["strategy"], "samples"
                ),
                "invalid share": _spread(r, "invalid_share", "percent", budget),
                "invalid attempts vs autotvm": _vs_reference(
                    r["invalid_vs_reference"], r["strategy"], "invalid"
                ),
            }
        )
    paper = {key: "–" for key in rows[0]} if rows else {}
    if paper:
        paper["strategy"] = "**paper: ML²Tuner vs TVM-like**"
        paper["samples, share of autotvm's"] = "12.3 %"
        paper["invalid attempts vs autotvm"] = "−60.8 %"
        rows.append(paper)
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
                PAPER_CLAIMS[row.claim], float(row.reproduced_value), row.verdict, row.reason
            )
        )
    return out


def _verdict_cell(result: ClaimResult) -> str:
    if result.verdict == "not testable":
        return f"not testable ({result.reason})"
    value = result.value
    if result.claim.name == "samples":
        shown = "never matched" if math.isinf(value) else f"{100 * value:.1f} %"
    elif result.claim.name == "invalid":
        shown = f"{100 * abs(value):.1f} % {'fewer' if value >= 0 else 'more'}"
    else:
        shown = f"{100 * value:.1f} %"
    return f"{shown}: **{result.verdict}**"


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


def render_summary(
    spaces: pd.DataFrame,
    strategies: pd.DataFrame,
    models: pd.DataFrame,
    claims: pd.DataFrame,
    runs: pd.DataFrame,
    figures: Sequence[tuple[str, str]],
) -> str:
    """The Markdown summary of a run.

    Args:
        spaces, strategies, models, claims, runs: the summary tables.
        figures: ``(title, path relative to summary.md)`` of every figure.
    """
    units = units_of(spaces)
    per_unit = claim_results(claims)
    n_seeds = runs.groupby(UNIT_KEYS + ["strategy"])["seed"].nunique()
    parts = ["# ml2tuner results", ""]
    parts += [
        f"{len(units)} unit{'s' if len(units) != 1 else ''} (target × layer × template), "
        f"{runs['strategy'].nunique()} strategies, "
        f"{int(n_seeds.max()) if len(n_seeds) else 0} seeds each, "
        f"budget {int(runs['n_trials'].max()) if len(runs) else 0} measurements per run. "
        "Cells: median [inter-quartile range] over seeds; definitions in "
        "[docs/report.md](../../docs/report.md).",
        "",
        "## The paper's claims",
        "",
    ]
    overview = [
        {
            "claim (paper)": claim.quote,
            **{
                u.label: _verdict_cell(next(r for r in per_unit.get(u, []) if r.claim.name == name))
                for u in units
                if u in per_unit
            },
        }
        for name, claim in PAPER_CLAIMS.items()
    ]
    if per_unit:
        parts += [markdown_table(pd.DataFrame(overview)), ""]
    parts += [
        claims_paragraph(
            {f"{u.layer} ({u.target}, {u.template})": per_unit[u] for u in units if u in per_unit}
        ),
        "",
    ]
    for unit in units:
        space = unit_rows(spaces, unit).iloc[0]
        mine = unit_rows(runs, unit)
        budget = int(mine["n_trials"].max()) if len(mine) else 0
        parts += [
            f"## {unit.layer} on {unit.target}, template {unit.template}",
            "",
            _space_line(space),
            "",
        ]
        unit_strategies = unit_rows(strategies, unit)
        if len(unit_strategies):
            parts += [strategy_markdown(unit_strategies, budget), ""]
        parts += [models_markdown(unit_rows(models, unit)), ""]
    if figures:
        parts += ["## Figures", ""]
        for title, path in figures:
            parts += [f"**{title}**", "", f"![{title}]({path})", ""]
    return "\n".join(parts)
