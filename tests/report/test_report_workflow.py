"""The `summary` and `report` rules and `snakemake --report` on the tiny experiment.

The unit tables of the tiny experiment (built by the stage functions, in DAG order) are placed
where the workflow expects them, so Snakemake only has the summary and the report to run.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ml2tuner.workflow.columns import SUMMARY_TABLES

REPO = Path(__file__).resolve().parents[2]
WORKFLOW_FILES = ("Snakefile", "config.yaml", "rules", "scripts", "envs", "profiles", "report")
REPORT_FILES = [
    "summary.md",
    "aggregate",
    "heatmap_samples_only",
    "heatmap_samples_fewer",
    "heatmap_invalid_by",
    "heatmap_invalid_to",
    "best_latency",
    "invalid_share",
    "samples",
    "models",
    "validity_pynq_M_nestc",
    "validity_pynq_N_nestc",
    "status",
]


def snakemake(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("snakemake")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "snakemake"]
    proc = subprocess.run(
        [*cmd, "--cores", "1", "--configfile", "tiny.yaml", *args],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=900,  # a guard against a hang; a shared, loaded machine needs minutes
    )
    assert proc.returncode == 0, f"snakemake {' '.join(args)}:\n{proc.stdout}\n{proc.stderr}"
    return proc


@pytest.fixture(scope="module")
def workdir(tiny_experiment, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("workflow")
    for name in WORKFLOW_FILES:
        source = REPO / name
        (shutil.copytree if source.is_dir() else shutil.copy2)(source, root / name)
    shutil.copytree(tiny_experiment.root / "results", root / "results")
    (root / "tiny.yaml").write_text(yaml.safe_dump(tiny_experiment.config, sort_keys=False))
    return root


@pytest.fixture(scope="module")
def ran(workdir) -> subprocess.CompletedProcess:
    return snakemake(workdir)


def test_the_report_rule_writes_every_declared_file(ran, workdir):
    jobs = ran.stdout + ran.stderr
    assert "localrule summary:" in jobs and "localrule report:" in jobs
    assert "rule tune:" not in jobs  # the unit tables were already there
    report = workdir / "results" / "report"
    for name in REPORT_FILES:
        names = [name] if name.endswith(".md") else [f"{name}.png", f"{name}.svg"]
        for file in names:
            assert (report / file).stat().st_size > 0, file
    for name in SUMMARY_TABLES:
        assert (workdir / "results" / "summary" / f"{name}.parquet").exists()
    assert "figure status.png/.svg" in (workdir / "logs/report/report.log").read_text()


def test_snakemake_report_is_a_self_contained_html_with_categories(ran, workdir):
    snakemake(workdir, "--report", "report.html")
    html = (workdir / "report.html").read_text(encoding="utf-8")
    assert len(html) > 100_000
    for category in ("0. Summary", "1. Tuning", "2. Models", "3. Search spaces"):
        assert category in html
