"""The report at a whole network's scale: 100 synthetic units × 9 strategies.

Summarises synthetic spaces and trial logs (no VTA model: the numbers only need the shape of
the real tables), draws the default figures for 100 units (the overview only), embeds them with
``summary.md`` in a ``snakemake --report`` HTML file, and prints the times and the size. It
exits 1 if the report breaks issue 15's bounds (HTML ≤ 20 MB, self-contained, every claim
reported for every unit).

    python benchmarks/report_scale.py [--seeds 4] [--keep DIR]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from machine import describe

from ml2tuner.report.build import build_figures, per_unit_figures
from ml2tuner.report.markdown import render_summary
from ml2tuner.stages.summary import summarise

LAYERS = [f"C{i}" for i in range(2, 12)]
TARGETS = ["pynq", "ultra96", "zcu104", "zcu102", "de10nano"]
TEMPLATES = ["nestc", "autotvm"]
STRATEGIES = ["random", "autotvm", "ml2tuner", "ml2tuner_plus", "hwinit", "active", "optuna"]
STRATEGIES += ["simstats", "sa"]
CLAIMS = ("samples_only", "samples_fewer", "invalid_by", "invalid_to", "rmse")
BUDGET, SPACE = 200, 3000
MAX_HTML_BYTES = 20_000_000


def _space(rng: np.random.Generator) -> pd.DataFrame:
    valid = rng.random(SPACE) < rng.uniform(0.3, 0.9)
    return pd.DataFrame(
        {
            "config_id": np.arange(SPACE),
            "status": np.where(valid, "valid", "compile_error"),
            "latency_us": np.where(valid, rng.lognormal(4, 0.5, SPACE), np.nan),
        }
    )


def _run(measured: pd.DataFrame, skill: float, rng: np.random.Generator) -> pd.DataFrame:
    """A run that measures good configurations first with a share ``skill`` of its picks."""
    order = rng.permutation(SPACE)
    ranked = measured["latency_us"].fillna(np.inf).to_numpy().argsort()
    picks = np.where(
        rng.random(BUDGET) < skill, ranked[rng.integers(0, 200, BUDGET)], order[:BUDGET]
    )
    picks = pd.unique(picks)
    rows = measured.iloc[picks]
    latency = rows["latency_us"].where(rows["status"] == "valid")
    return pd.DataFrame(
        {"status": rows["status"].to_numpy(), "best_latency_us": latency.cummin().to_numpy()}
    )


def summary_tables(seeds: int) -> dict[str, pd.DataFrame]:
    """The summary tables of 100 synthetic units, every strategy × ``seeds`` seeds."""
    rng = np.random.default_rng(0)
    measured, tuning = {}, []
    for key in [(t, layer, tpl) for tpl in TEMPLATES for t in TARGETS for layer in LAYERS]:
        measured[key] = _space(rng)
        for i, strategy in enumerate(STRATEGIES):
            for seed in range(seeds):
                meta = dict(zip(("target", "layer", "template"), key, strict=True))
                meta.update(strategy=strategy, seed=str(seed))
                tuning.append((meta, _run(measured[key], 0.05 * i, rng)))
    start = time.process_time()
    out = summarise(measured, tuning, {})
    print(
        f"summary of {len(measured)} units, {len(tuning)} runs: "
        f"{time.process_time() - start:.1f} CPU-s"
    )
    return out


def snakemake(workdir: Path, *args: str) -> None:
    exe = Path(sys.executable).with_name("snakemake")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "snakemake"]
    proc = subprocess.run(
        [*cmd, "--cores", "1", *args], cwd=workdir, capture_output=True, text=True, timeout=600
    )
    if proc.returncode != 0:
        sys.exit(f"snakemake {' '.join(args)} failed:\n{proc.stderr}")


def html_report(tables: dict[str, pd.DataFrame], workdir: Path) -> list[str]:
    """Draw the default figures into ``workdir/src``, embed them in ``workdir/report.html``
    through a workflow that copies them as ``rules/report.smk`` declares them; the problems."""
    problems = []
    per_unit = per_unit_figures(None, len(tables["spaces"]))
    if per_unit:
        problems.append("the default for 100 units draws per-unit figures")
    start = time.process_time()
    src = workdir / "src"
    figures = build_figures(tables, {}, src, per_unit)
    (src / "summary.md").write_text(render_summary(tables, figures))
    print(f"figures: {len(figures)} in {time.process_time() - start:.1f} CPU-s")
    names = ["summary.md", *(name for _, name in figures)]
    (workdir / "Snakefile").write_text(
        "NAMES = " + repr(names) + "\n"
        "rule all:\n    input: expand('r/{name}', name=NAMES)\n"
        "rule copy:\n    input: 'src/{name}'\n"
        "    output: report('r/{name}', category='report')\n"
        "    shell: 'cp {input} {output}'\n"
    )
    start = time.perf_counter()
    snakemake(workdir)
    snakemake(workdir, "--report", "report.html")
    html = (workdir / "report.html").read_bytes()
    embedded = sum((src / n).stat().st_size for n in names)
    print(
        f"HTML report: {len(html) / 1e6:.2f} MB ({embedded / 1e6:.2f} MB of files embedded), "
        f"snakemake --report {time.perf_counter() - start:.1f} s wall"
    )
    if len(html) > MAX_HTML_BYTES:
        problems.append(f"the HTML report is {len(html)} bytes (at most {MAX_HTML_BYTES})")
    if b"heatmap_samples_only.png" not in html or b"aggregate.png" not in html:
        problems.append("the HTML report lacks the aggregate figure or a claim's heatmap")
    if b'src="http' in html:
        problems.append("the HTML report fetches something from elsewhere")
    return problems


def check_summary(tables: dict[str, pd.DataFrame]) -> list[str]:
    """Every claim has a verdict for every unit, and summary.md has a section per unit."""
    problems = []
    if len(tables["spaces"]) != 100 or set(tables["ranking"]["strategy"]) != set(STRATEGIES):
        problems.append("the summary lost units or strategies")
    text = render_summary(tables, [])
    if text.count("\n## ") != 2 + 100:  # claims, ranking, then one section per unit
        problems.append("summary.md does not have one section per unit")
    for claim in CLAIMS:
        verdicts = tables["claims"][tables["claims"]["claim"] == claim]["verdict"]
        if verdicts.count() != 100:
            problems.append(f"claim {claim}: {verdicts.count()} verdicts for 100 units")
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--seeds", type=int, default=4, help="seeds per strategy and unit (default 4)"
    )
    parser.add_argument("--keep", type=Path, help="write the report here and keep it")
    args = parser.parse_args()
    print(describe())
    tables = summary_tables(args.seeds)
    problems = check_summary(tables)
    workdir = args.keep or Path(tempfile.mkdtemp(prefix="report-scale-"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        problems += html_report(tables, workdir)
    finally:
        if args.keep is None:
            shutil.rmtree(workdir)
    for problem in problems:
        print(f"FAIL: {problem}")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
