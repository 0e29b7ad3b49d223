"""The `summary` and `report` rules and `snakemake --report` on the tiny configuration.

They work on a copy of the session's reference run (tests/conftest.py), which ran every rule;
with its summary tables and report folder removed, Snakemake must plan only the reporting rules
again, from the unit tables that are there.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from tiny_workflow import run_snakemake

from ml2tuner.workflow.columns import SUMMARY_TABLES

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
    "validity_tiny_T1_nestc",
    "validity_tiny_T2_nestc",
    "status",
]


@pytest.fixture(scope="module")
def workdir(reference_run, tmp_path_factory) -> Path:
    """A copy of the reference run (times kept, so Snakemake sees it as up to date)."""
    workdir = tmp_path_factory.mktemp("report_workflow") / "run"
    shutil.copytree(reference_run, workdir, symlinks=True)
    return workdir


def test_only_the_summary_and_report_rules_rerun_from_the_unit_tables(workdir, tmp_path):
    rerun = tmp_path / "rerun"
    shutil.copytree(workdir, rerun, symlinks=True)
    shutil.rmtree(rerun / "results/summary")
    shutil.rmtree(rerun / "results/report")  # the simstats report's files are in it too
    planned = run_snakemake(rerun, "-n").stdout
    rules = set(re.findall(r"^(?:local)?rule (\w+):", planned, re.M))
    assert {"summary", "report"} <= rules <= {"summary", "report", "simstats_report", "all"}, rules


def test_the_report_rule_writes_every_declared_file(workdir):
    report = workdir / "results" / "report"
    for name in REPORT_FILES:
        names = [name] if name.endswith(".md") else [f"{name}.png", f"{name}.svg"]
        for file in names:
            assert (report / file).stat().st_size > 0, file
    for name in SUMMARY_TABLES:
        assert (workdir / "results" / "summary" / f"{name}.parquet").exists()
    assert "figure status.png/.svg" in (workdir / "logs/report/report.log").read_text()


def test_snakemake_report_is_a_self_contained_html_with_categories(workdir):
    run_snakemake(workdir, "--report", "report.html")
    html = (workdir / "report.html").read_text(encoding="utf-8")
    assert len(html) > 100_000
    for category in ("0. Summary", "1. Tuning", "2. Models", "3. Search spaces"):
        assert category in html


def test_publish_copies_the_small_report_files_into_docs_results(workdir):
    # the target after a flag: run_snakemake's --configfile takes every word up to one
    log = run_snakemake(workdir, "--printshellcmds", "publish")
    ran = set(re.findall(r"^(?:local)?rule (\w+):", log.stdout + log.stderr, re.M))
    assert ran == {"publish"}, ran  # the reference run is complete: nothing else re-runs
    docs = workdir / "docs" / "results"
    copied = {p.relative_to(docs).as_posix() for p in docs.rglob("*") if p.is_file()}
    assert {f"summary/{name}.parquet" for name in SUMMARY_TABLES} <= copied
    assert {"report/summary.md", "report/simstats.md", "report/aggregate.png"} <= copied
    assert not any(name.endswith(".svg") or "/." in f"/{name}" for name in copied)  # no temps
    for name in copied:
        source = workdir / "results" / name
        assert (docs / name).read_bytes() == source.read_bytes(), name
