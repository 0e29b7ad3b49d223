"""One tune job per unit: every strategy x seed in one process, resumable after a kill, and the
whole network's DAG (config/resnet18.yaml) small enough to plan and run."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pyarrow.parquet as pq

from ml2tuner.stages.tune import STRATEGIES, TuningRun, run_tune, run_tune_unit
from ml2tuner.workflow.config import load_config_file

SETTINGS = {"random": {}, "ml2tuner": {"n_random": 10, "num_boost_round": 15}}
BUDGET = 30


def _runs(out: Path, seeds=range(4)) -> list[TuningRun]:
    return [
        TuningRun(strategy, seed, out / f"tuning/{strategy}/seed{seed}.parquet")
        for strategy in SETTINGS
        for seed in seeds
    ]


def _tune_unit(unit, root: Path, runs, budget=BUDGET, settings=SETTINGS):
    return run_tune_unit(
        unit,
        root / "space.parquet",
        root / "compiled.parquet",
        root / "measured.parquet",
        runs,
        budget=budget,
        settings=settings,
        statistics_path=root / "simstats.parquet",
    )


def _same_trials(expected: Path, actual: Path) -> None:
    want, got = pq.read_table(expected), pq.read_table(actual)
    assert got.schema.equals(want.schema, check_metadata=True), actual
    for name in set(want.column_names) - {"tuner_wall_s"}:  # wall time: not deterministic
        assert got[name].equals(want[name]), f"{actual}: column {name} differs"


def test_one_job_writes_what_separate_runs_write(unit_tables, tmp_path):
    unit, root = unit_tables
    runs = _runs(tmp_path / "unit", seeds=(0, 1))
    assert _tune_unit(unit, root, runs) == runs
    for run in runs:
        alone = tmp_path / "alone" / f"{run.strategy}{run.seed}.parquet"
        run_tune(
            unit,
            root / "space.parquet",
            root / "compiled.parquet",
            root / "measured.parquet",
            alone,
            run.strategy,
            run.seed,
            BUDGET,
            SETTINGS[run.strategy],
            statistics_path=root / "simstats.parquet",
        )
        _same_trials(alone, run.path)


def test_a_variant_runs_its_tuner_under_its_own_name_and_budget(unit_tables, tmp_path):
    unit, root = unit_tables
    variant = TuningRun("quick", 0, tmp_path / "quick.parquet", tuner="ml2tuner", budget=12)
    own = TuningRun("ml2tuner", 0, tmp_path / "own.parquet")
    settings = {"quick": SETTINGS["ml2tuner"], "ml2tuner": SETTINGS["ml2tuner"]}
    assert _tune_unit(unit, root, [variant, own], settings=settings) == [variant, own]
    quick, full = pq.read_table(variant.path), pq.read_table(own.path)
    assert (quick.num_rows, full.num_rows) == (12, BUDGET)
    # the same tuner, seed and options: the same random start (n_random = 10)
    assert quick["config_id"].to_pylist()[:10] == full["config_id"].to_pylist()[:10]
    meta = {k.decode(): v.decode() for k, v in quick.schema.metadata.items()}
    assert meta["strategy"] == "quick"
    assert (
        meta["config_hash"]
        != {k.decode(): v.decode() for k, v in full.schema.metadata.items()}["config_hash"]
    )
    # done runs are recognised with the variant's own budget, not the job's
    assert _tune_unit(unit, root, [variant, own], settings=settings) == []


_KILLED_JOB = """
import sys
from pathlib import Path
from ml2tuner.stages.tune import TuningRun, run_tune_unit
from ml2tuner.workflow.tables import read_metadata
from ml2tuner.workflow.config import Unit

root, out = Path(sys.argv[1]), Path(sys.argv[2])
unit = Unit.from_metadata(read_metadata(root / "measured.parquet"))
runs = [TuningRun(s, k, out / f"tuning/{{s}}/seed{{k}}.parquet")
        for s in {strategies} for k in {seeds}]
run_tune_unit(unit, root / "space.parquet", root / "compiled.parquet", root / "measured.parquet",
              runs, budget={budget}, settings={settings},
              statistics_path=root / "simstats.parquet")
"""


def test_a_killed_job_resumes_without_rerunning_finished_runs(unit_tables, tmp_path):
    unit, root = unit_tables
    reference = _runs(tmp_path / "reference")
    _tune_unit(unit, root, reference)

    killed = _runs(tmp_path / "killed")
    script = textwrap.dedent(_KILLED_JOB).format(
        strategies=list(SETTINGS), seeds=list(range(4)), budget=BUDGET, settings=SETTINGS
    )
    job = subprocess.Popen([sys.executable, "-c", script, str(root), str(tmp_path / "killed")])
    deadline = time.monotonic() + 300
    while not killed[0].path.exists():
        assert job.poll() is None, "the job ended before its first run was written"
        assert time.monotonic() < deadline, "no run finished within 5 minutes"
        time.sleep(0.01)
    os.kill(job.pid, signal.SIGKILL)  # as a power loss: no clean-up of any kind
    job.wait()

    finished = [run for run in killed if run.path.exists()]
    assert 0 < len(finished) < len(killed), "the kill came too late to leave runs to do"
    stamps = {run.path: run.path.stat().st_mtime_ns for run in finished}
    rerun = _tune_unit(unit, root, killed)

    assert rerun == [run for run in killed if run not in finished]
    assert {run.path: run.path.stat().st_mtime_ns for run in finished} == stamps
    for want, got in zip(reference, killed, strict=True):
        _same_trials(want.path, got.path)


def test_a_run_is_redone_when_its_table_is_not_what_it_would_write(unit_tables, tmp_path):
    unit, root = unit_tables
    runs = _runs(tmp_path, seeds=(0,))
    _tune_unit(unit, root, runs)
    assert _tune_unit(unit, root, runs) == []  # everything done
    # Another budget, other settings of one strategy: only the runs they change.
    assert _tune_unit(unit, root, runs, budget=BUDGET + 1) == runs
    other = {**SETTINGS, "random": {"batch_size": 2}}
    assert _tune_unit(unit, root, runs, budget=BUDGET + 1, settings=other) == runs[:1]
    # An input newer than the tables (a re-simulated unit): every run.
    os.utime(root / "measured.parquet")
    assert _tune_unit(unit, root, runs, budget=BUDGET + 1, settings=other) == runs
    # A damaged table: that run.
    runs[1].path.write_bytes(b"not parquet")
    assert _tune_unit(unit, root, runs, budget=BUDGET + 1, settings=other) == runs[1:]


# ---- the whole network -----------------------------------------------------------------------

WORKFLOW_FILES = ("Snakefile", "config", "rules", "scripts", "envs", "profiles", "report")


def test_the_whole_network_plans_at_most_1000_jobs(repo_root, tmp_path):
    for name in WORKFLOW_FILES:
        source = repo_root / name
        copy = shutil.copytree if source.is_dir() else shutil.copy2
        copy(source, tmp_path / name)
    exe = Path(sys.executable).with_name("snakemake")
    proc = subprocess.run(
        [str(exe), "-n", "--quiet", "rules", "--configfile", "config/resnet18.yaml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr
    counts = dict(re.findall(r"^(\w+)\s+(\d+)$", proc.stdout, re.M))
    cfg = load_config_file(repo_root / "config/resnet18.yaml")
    n_units = len(cfg.targets) * len(cfg.layers) * len(cfg.templates)
    assert (n_units, len(cfg.seeds), set(cfg.strategies)) == (100, 10, set(STRATEGIES))
    assert int(counts["tune"]) == n_units  # one job per unit runs every strategy and seed
    assert int(counts["total"]) <= 1000
