"""The report at a whole network's scale: 100 synthetic units × 9 strategies.

Summarises synthetic spaces and trial logs (no VTA model: the numbers only need the shape of
the real tables), draws the default figures for 100 units (the overview only), embeds them with
``summary.md`` in a ``snakemake --report`` HTML file, and prints the times and the size.
Run with ``-s`` to see the figures.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ml2tuner.report.build import build_figures, per_unit_figures
from ml2tuner.report.markdown import render_summary
from ml2tuner.stages.summary import summarise

LAYERS = [f"C{i}" for i in range(2, 12)]
TARGETS = ["pynq", "ultra96", "zcu104", "zcu102", "de10nano"]
TEMPLATES = ["nestc", "autotvm"]
STRATEGIES = ["random", "autotvm", "ml2tuner", "ml2tuner_plus", "hwinit", "active", "optuna"]
STRATEGIES += ["simstats", "sa"]
# The report's size does not depend on the seeds; 4 keep the test short (the summary's time at
# 100 units × 9 strategies × 20 seeds is in docs/report.md).
SEEDS = range(4)
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


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(0)
    measured, tuning = {}, []
    for key in [(t, layer, tpl) for tpl in TEMPLATES for t in TARGETS for layer in LAYERS]:
        measured[key] = _space(rng)
        for i, strategy in enumerate(STRATEGIES):
            for seed in SEEDS:
                meta = dict(zip(("target", "layer", "template"), key, strict=True))
                meta.update(strategy=strategy, seed=str(seed))
                tuning.append((meta, _run(measured[key], 0.05 * i, rng)))
    start = time.perf_counter()
    out = summarise(measured, tuning, {})
    print(
        f"\nsummary of {len(measured)} units, {len(tuning)} runs: "
        f"{time.perf_counter() - start:.1f} s"
    )
    return out


def snakemake(workdir: Path, *args: str) -> None:
    exe = Path(sys.executable).with_name("snakemake")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "snakemake"]
    proc = subprocess.run(
        [*cmd, "--cores", "1", *args], cwd=workdir, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr


def test_the_report_of_100_units_stays_small_and_self_contained(tables, tmp_path):
    assert len(tables["spaces"]) == 100 and len(tables["claims"]) == 500
    assert set(tables["ranking"]["strategy"]) == set(STRATEGIES)
    per_unit = per_unit_figures(None, len(tables["spaces"]))
    assert not per_unit  # the default for a whole network: overview figures only
    start = time.perf_counter()
    src = tmp_path / "src"
    figures = build_figures(tables, {}, src, per_unit)
    (src / "summary.md").write_text(render_summary(tables, figures))
    print(f"report of 100 units: {len(figures)} figures in {time.perf_counter() - start:.1f} s")
    names = ["summary.md", *(name for _, name in figures)]
    # a workflow that only copies the files into a snakemake report, as rules/report.smk does
    (tmp_path / "Snakefile").write_text(
        "NAMES = " + repr(names) + "\n"
        "rule all:\n    input: expand('r/{name}', name=NAMES)\n"
        "rule copy:\n    input: 'src/{name}'\n"
        "    output: report('r/{name}', category='report')\n"
        "    shell: 'cp {input} {output}'\n"
    )
    snakemake(tmp_path)
    snakemake(tmp_path, "--report", "report.html")
    html = (tmp_path / "report.html").read_bytes()
    embedded = sum((src / n).stat().st_size for n in names)
    print(f"HTML report of 100 units: {len(html) / 1e6:.2f} MB ({embedded / 1e6:.2f} MB embedded)")
    assert len(html) <= MAX_HTML_BYTES
    assert b"heatmap_samples_only.png" in html and b"aggregate.png" in html
    assert b'src="http' not in html  # nothing fetched from elsewhere
    shutil.rmtree(src)


def test_summary_md_reports_every_claim_for_every_unit(tables):
    text = render_summary(tables, [])
    assert text.count("\n## ") == 2 + 100  # claims, ranking, then one section per unit
    for claim in ("samples_only", "samples_fewer", "invalid_by", "invalid_to", "rmse"):
        counts = tables["claims"][tables["claims"]["claim"] == claim]["verdict"].value_counts()
        assert counts.sum() == 100
