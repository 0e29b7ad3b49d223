"""The real `snakemake` command line on a tiny configuration, in a temporary directory.

The session's reference run builds everything (``reference_run``); these tests work on a copy
of it (tables, logs and Snakemake's records, times kept) and check the artifacts against
docs/artifacts.md, that a second run has nothing to do, that changing one layer re-runs only
that layer's jobs, that `-n` and `--lint` are clean, and that a bad config stops before any job.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml
from tiny_workflow import TINY_CONFIG_PATH

UNIT_KEYS = {"target": "tiny", "template": "nestc"}
ARROW_TYPES = {
    "int64": "int64",
    "double": "float64",
    "string": "string",
    "large_string": "string",
    "bool": "bool",
}


def write_config(workdir: Path, config: dict) -> None:
    (workdir / "tiny.yaml").write_text(yaml.safe_dump(config, sort_keys=False))


@pytest.fixture(scope="module")
def workdir(tmp_path_factory, reference_run) -> Path:
    """A finished run of tiny.yaml that these tests may change: a copy of the reference run
    (copytree keeps the files' times, so Snakemake sees the copy as up to date only if its
    records hold)."""
    workdir = tmp_path_factory.mktemp("workflow") / "run"
    shutil.copytree(reference_run, workdir, symlinks=True)
    return workdir


# ---- the documented contract ---------------------------------------------------------------


def documented_tables(repo_root: Path) -> dict[str, list[tuple[str, str]]]:
    """``{path pattern: [(column or prefix*, type)]}`` parsed from docs/artifacts.md."""
    tables: dict[str, list[tuple[str, str]]] = {}
    current = None
    for line in (repo_root / "docs/artifacts.md").read_text(encoding="utf-8").splitlines():
        heading = re.match(r"^## `([^`]+\.parquet)`", line)
        if heading:
            current = heading.group(1)
            tables[current] = []
        elif current and line.startswith("|") and not line.startswith(("| column", "|---")):
            cells = [c.strip() for c in line.strip("|").split("|")]
            name, kind = cells[0].strip("`"), cells[1].split()[0]
            if re.fullmatch(r"[a-z_0-9]+\*?", name):
                tables[current].append((name, kind))
        elif line.startswith("## "):
            current = None
    return tables


def expand_path(pattern: str, layer: str) -> str:
    path = pattern.replace("{strategy}", "ml2tuner").replace("{seed}", "1")
    if path.startswith("results/"):
        return path
    return f"results/{UNIT_KEYS['target']}/{layer}/{UNIT_KEYS['template']}/{path}"


def test_docs_describe_every_table(repo_root):
    tables = documented_tables(repo_root)
    assert {
        "space.parquet",
        "compiled.parquet",
        "measured.parquet",
        "models/metrics.parquet",
        "tuning/{strategy}/seed{seed}.parquet",
        "results/summary/runs.parquet",
        "results/summary/strategies.parquet",
        "results/summary/spaces.parquet",
        "results/summary/models.parquet",
    } <= set(tables)
    assert all(tables.values())


def test_every_artifact_exists_with_its_documented_columns(workdir, repo_root):
    for pattern, columns in documented_tables(repo_root).items():
        for layer in ("T1", "T2"):
            path = workdir / expand_path(pattern, layer)
            assert path.exists(), path
            schema = {f.name: ARROW_TYPES[str(f.type)] for f in pq.read_schema(path)}
            assert all(t != "object" for t in schema.values())
            for name, kind in columns:
                if name.endswith("*"):
                    matching = [n for n in schema if n.startswith(name[:-1])]
                    assert matching, f"{path.name}: no {name} column"
                    if kind != "float64":  # h_* is float64 with three string exceptions
                        assert {schema[n] for n in matching} == {kind}, (path, name)
                else:
                    assert schema.get(name) == kind, f"{path}: {name} {schema.get(name)} != {kind}"
            meta = pq.read_schema(path).metadata
            assert b"config_hash" in meta and b"ml2tuner_version" in meta
    for layer in ("T1", "T2"):
        unit = workdir / f"results/tiny/{layer}/nestc"
        assert {p.name for p in (unit / "models").iterdir()} >= {
            "P.json",
            "V.json",
            "A.json",
            "optuna.journal",
        }
        assert not list(unit.glob("measured/shard*.parquet"))  # temp shards are gone
    assert (workdir / "results/report/summary.md").read_text().startswith("# ml2tuner results")
    for stem in (
        "best_latency",
        "invalid_share",
        "samples",
        "models",
        "status",
        "validity_tiny_T1_nestc",
        "validity_tiny_T2_nestc",
    ):  # docs/report.md
        for suffix in (".png", ".svg"):
            assert (workdir / "results/report" / f"{stem}{suffix}").stat().st_size > 0, stem


def test_every_rule_wrote_its_log_and_benchmark(workdir):
    logs = {p.relative_to(workdir / "logs").parts[0] for p in (workdir / "logs").rglob("*.log")}
    benches = {
        p.relative_to(workdir / "benchmarks").parts[0]
        for p in (workdir / "benchmarks").rglob("*.tsv")
    }
    rules = {
        "enumerate_space",
        "compile_space",
        "simulate_shard",
        "merge_measured",
        "simstats_models",
        "train_models",
        "tune",
        "summary",
        "report",
        "simstats_report",
    }
    assert logs == rules and benches == rules
    shard_log = (workdir / "logs/simulate_shard/tiny/T1/nestc/shard0.log").read_text()
    assert re.search(r"simulate tiny/T1/nestc: 200/200 \(100%\)", shard_log)
    tune_log = (workdir / "logs/tune/tiny/T1/nestc.log").read_text()  # every run of the unit
    assert "0 done already" in tune_log and "ml2tuner seed 0: 20 trials" in tune_log
    train_log = (workdir / "logs/train_models/tiny/T1/nestc.log").read_text()
    assert "RMSE(A) / RMSE(P)" in train_log


def test_show_cli_on_an_artifact(workdir):
    exe = Path(sys.executable).with_name("ml2tuner")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "ml2tuner.cli"]
    out = subprocess.run(
        [*cmd, "show", "results/tiny/T1/nestc/measured.parquet"],
        cwd=workdir,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "512 rows" in out and "latency_us" in out and "config_hash" in out


# ---- caching ---------------------------------------------------------------------------------


def test_second_run_has_nothing_to_do(workdir, snakemake):
    again = snakemake(workdir)
    assert "Nothing to be done" in again.stdout + again.stderr


def test_dry_run_and_lint_are_clean(workdir, snakemake):
    dry = snakemake(workdir, "-n")
    assert "Nothing to be done" in dry.stdout + dry.stderr
    lint = snakemake(workdir, "--lint")
    assert "Congratulations, your workflow is in a good condition" in lint.stdout + lint.stderr


def _planned_jobs(proc: subprocess.CompletedProcess) -> tuple[dict[str, int], set[str]]:
    text = proc.stdout + proc.stderr
    stats = text[text.index("Job stats:") :]
    counts = {
        m.group(1): int(m.group(2))
        for m in re.finditer(r"^(\w+)\s+(\d+)$", stats, re.M)
        if m.group(1) != "total"
    }
    layers = set(re.findall(r"wildcards: .*layer=(\w+)", text))
    return counts, layers


def test_changing_one_layer_reruns_only_that_layer(workdir, snakemake):
    # Touching the config file alone changes nothing.
    (workdir / "tiny.yaml").touch()
    assert "Nothing to be done" in snakemake(workdir, "-n").stdout

    t1_tables = sorted((workdir / "results/tiny/T1").rglob("*.parquet"))
    t1_mtimes = [p.stat().st_mtime_ns for p in t1_tables]
    changed = yaml.safe_load(TINY_CONFIG_PATH.read_text())
    changed["layer_definitions"]["T2"]["shift"] = 9
    write_config(workdir, changed)
    counts, layers = _planned_jobs(snakemake(workdir, "-n"))
    assert layers == {"T2"}
    assert counts == {
        "enumerate_space": 1,
        "compile_space": 1,
        "simulate_shard": 3,
        "merge_measured": 1,
        "train_models": 1,
        "tune": 1,  # one job runs every strategy x seed of T2
        "simstats_models": 1,
        "summary": 1,
        "report": 1,
        "simstats_report": 1,
        "all": 1,
    }
    # Running T2's jobs up to its measured table (the plan above holds the rest) leaves T1's
    # tables as they were and gives T2 the new shape.
    t2_measured = workdir / "results/tiny/T2/nestc/measured.parquet"
    snakemake(workdir, "--", str(t2_measured.relative_to(workdir)))  # ends --configfile's files
    assert [p.stat().st_mtime_ns for p in t1_tables] == t1_mtimes
    assert '"shift":9' in pq.read_schema(t2_measured).metadata[b"layer_shape"].decode()
    shutil.copy2(TINY_CONFIG_PATH, workdir / "tiny.yaml")


# ---- bad configuration -----------------------------------------------------------------------


def test_bad_config_stops_before_any_job_with_one_line(workdir, snakemake):
    (workdir / "bad.yaml").write_text("budget: -5\n")
    proc = snakemake(workdir, "--configfile", "bad.yaml", check=False)
    assert proc.returncode != 0
    notices = ("Using workflow specific profile", "Config file config.yaml is extended")
    lines = [
        line for line in proc.stderr.splitlines() if line.strip() and not line.startswith(notices)
    ]
    assert lines == ["ml2tuner: config error: budget = -5: out of range; allowed an integer ≥ 1"]
    assert "Building DAG" not in proc.stdout + proc.stderr


# ---- a broken or foreign input table ---------------------------------------------------------


def _drop_column(path: Path) -> None:
    table = pq.read_table(path)
    pq.write_table(
        table.drop_columns(["message"]).replace_schema_metadata(table.schema.metadata), path
    )


def _old_schema_version(path: Path) -> None:
    table = pq.read_table(path)
    meta = {**table.schema.metadata, b"table_schema": b"1"}
    pq.write_table(table.replace_schema_metadata(meta), path)


@pytest.mark.parametrize(
    ("damage", "problem"),
    [
        ("truncated", "not a readable Parquet table"),
        ("other_layer", "built for layer T2, expected T1"),
        ("dropped_column", "column message missing"),
        ("old_schema_version", "table schema 1, expected"),
    ],
)
def test_a_bad_input_table_fails_its_job_with_one_line(workdir, snakemake, damage, problem):
    """The issue's reproduction: damage T1's measured.parquet, re-run training through the real
    CLI; the job fails with one line naming the file, on stderr and in its own log."""
    measured = workdir / "results/tiny/T1/nestc/measured.parquet"
    saved = workdir / "measured.saved"
    shutil.copy2(measured, saved)
    try:
        if damage == "truncated":
            with measured.open("r+b") as handle:  # truncate -s 900
                handle.truncate(900)
        elif damage == "other_layer":
            shutil.copy2(workdir / "results/tiny/T2/nestc/measured.parquet", measured)
        elif damage == "dropped_column":
            _drop_column(measured)
        else:
            _old_schema_version(measured)
        proc = snakemake(
            workdir,
            "--forcerun",
            "train_models",
            "--",  # ends --configfile's file names
            "results/tiny/T1/nestc/models/metrics.parquet",
            check=False,
        )
        line = f"ml2tuner: results/tiny/T1/nestc/measured.parquet: {problem}"
        assert proc.returncode != 0
        assert line in proc.stderr and "delete it and re-run" in proc.stderr
        log = (workdir / "logs/train_models/tiny/T1/nestc.log").read_text()
        assert line in log and "Traceback" not in log
        assert len([entry for entry in log.splitlines() if "ml2tuner: results/" in entry]) == 1
    finally:
        shutil.copy2(saved, measured)
        saved.unlink()
