"""The workflow through ``profiles/slurm`` on a real SLURM cluster equals a local run.

A single-node cluster (munged, slurmctld, slurmd) is started on localhost for this module
(``slurm_cluster.py``); the tiny configuration (``tests/workflow/tiny.yaml``) is run once with
``snakemake --cores 2`` (the session's reference run, shared with tests/workflow) and once with
``snakemake --workflow-profile profiles/slurm``, each in a fresh copy of the workflow, and every
Parquet table of the two runs must hold the same rows (wall-time columns aside). Skipped, with
the reason, where no cluster can be started (no SLURM binaries, not root, a SLURM configuration
of the machine's own); ``.ci/run`` installs them.

The SLURM run adds what docs/cluster.md tells a user to add (``--default-resources
slurm_partition=...``; ``--slurm-no-account`` as this cluster has no accounts) and what only this
cluster needs: ``--slurm-status-command squeue`` (no slurmdbd, so no ``sacct``) and
``--slurm-init-seconds-before-status-checks 1`` (instead of 40 s). The node declares the CPUs and
memory the profile asks for, so its requests are submitted as written.

Every step is bounded: daemons must start in 60 s, each snakemake run is killed after
``SNAKEMAKE_TIMEOUT_S`` (``timeout -k``), and the daemons are stopped by PID when the module ends,
however it ends (SIGTERM included).
"""

from __future__ import annotations

import importlib.util
import math
import os
import re
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
import yaml
from slurm_cluster import PARTITION, SlurmCluster
from tiny_workflow import copy_workflow, snakemake_command

pytestmark = pytest.mark.slurm

REPO = Path(__file__).resolve().parents[2]
PROFILE = REPO / "profiles/slurm/config.yaml"
SNAKEMAKE_TIMEOUT_S = 600
# What a user adds to the profile (docs/cluster.md): the partition (this cluster has no accounts).
USER_ARGS = ("--default-resources", f"slurm_partition={PARTITION}", "--slurm-no-account")
# What only this cluster needs (no slurmdbd, so no sacct; seconds, not minutes, per status check).
LOCAL_CLUSTER_OVERRIDES = (
    "--slurm-status-command",
    "squeue",
    "--slurm-init-seconds-before-status-checks",
    "1",
    "--slurm-keep-successful-logs",
)
# CPUs of the tiny DAG's widest wave: every simulate_shard job (2 layers x 3 shards), or the
# tuning group (4 CPUs) with both train_models and simstats_models jobs.
WIDEST_WAVE_CPUS = 8
# Columns that hold wall time, which differs between any two runs.
WALL_TIME_COLUMN = re.compile(r"wall|duration|elapsed|seconds|(^|_)time(_|$)")


# ---- the cluster and the two runs -----------------------------------------------------------


def _skip_reason() -> str | None:
    reason = SlurmCluster.unavailable()
    if reason is None and importlib.util.find_spec("snakemake_executor_plugin_slurm") is None:
        reason = "snakemake-executor-plugin-slurm is not installed (pip install -e '.[test]')"
    return reason


def profile_needs(profile: dict) -> tuple[int, int]:
    """(CPUs, MB) of the largest SLURM job the profile can ask for: a full group job."""
    cores = int(profile.get("cores", 1))
    mems = [int(profile.get("default-resources", {}).get("mem_mb", 1000))]
    mems += [
        int(res["mem_mb"]) for res in profile.get("set-resources", {}).values() if "mem_mb" in res
    ]
    return cores, cores * max(mems)


@pytest.fixture(scope="module")
def cluster():
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    cpus, memory_mb = profile_needs(yaml.safe_load(PROFILE.read_text()))
    # As wide as the widest wave, so the run's depth, not the node's width, sets its time: each
    # wave costs ~30 s of job start-up and the executor's status-check back-off.
    cpus = max(cpus, WIDEST_WAVE_CPUS)
    previous = signal.signal(signal.SIGTERM, _raise_on_sigterm)  # so the daemons get stopped
    try:
        with SlurmCluster(cpus=cpus, memory_mb=memory_mb) as running:
            yield running
    finally:
        signal.signal(signal.SIGTERM, previous)


def _raise_on_sigterm(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def run_snakemake(workdir: Path, *args: str) -> tuple[subprocess.CompletedProcess, float]:
    """One bounded snakemake run on the tiny configuration; (process, seconds).

    Snakemake runs in a session of its own, under ``timeout -k``; if the test is interrupted,
    the whole session gets SIGTERM (Snakemake then cancels its SLURM jobs), then SIGKILL.
    """
    command = [
        "timeout",
        "-k",
        "15",
        str(SNAKEMAKE_TIMEOUT_S),
        *snakemake_command(),
        "--configfile",
        "tiny.yaml",
        *args,
    ]
    start = time.monotonic()
    process = subprocess.Popen(
        command,
        cwd=workdir,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=SNAKEMAKE_TIMEOUT_S + 60)
    except BaseException:
        _stop_session(process)
        raise
    return (
        subprocess.CompletedProcess(command, process.returncode, stdout, stderr),
        time.monotonic() - start,
    )


def _stop_session(process: subprocess.Popen, grace: float = 30) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.communicate(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue


@dataclass(frozen=True)
class Runs:
    """The session's local run of the tiny configuration (``reference_run``), the SLURM run,
    and the SLURM jobs of the latter."""

    local_dir: Path
    slurm: subprocess.CompletedProcess
    slurm_dir: Path
    jobs: list[dict[str, str]]  # slurmctld's job completion records


@pytest.fixture(scope="module")
def runs(cluster, reference_run, tmp_path_factory) -> Runs:
    slurm_dir = copy_workflow(tmp_path_factory.mktemp("slurm_e2e") / "slurm")
    slurm, slurm_s = run_snakemake(
        slurm_dir, "--workflow-profile", "profiles/slurm", *USER_ARGS, *LOCAL_CLUSTER_OVERRIDES
    )
    assert slurm.returncode == 0, (
        f"SLURM run failed (exit {slurm.returncode}, {slurm_s:.0f} s):\n{slurm.stdout}\n"
        f"{slurm.stderr[-20000:]}\n{cluster.logs()}"
    )
    run_id = re.search(r"SLURM run ID: (\S+)", slurm.stderr + slurm.stdout).group(1)
    jobs = [job for job in cluster.finished_jobs() if job.get("Name") == run_id]
    print(f"\nslurm e2e: SLURM run {slurm_s:.0f} s, {len(jobs)} SLURM jobs")
    return Runs(reference_run, slurm, slurm_dir, jobs)


# ---- what must hold ----------------------------------------------------------------------------


def job_stats(proc: subprocess.CompletedProcess) -> dict[str, int]:
    """Snakemake's ``Job stats`` table: rule -> jobs."""
    text = proc.stdout + proc.stderr
    stats = text[text.index("Job stats:") :]
    stats = stats[: stats.index("total")]
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+)\s+(\d+)$", stats, re.M)}


def comparable(path: Path) -> pd.DataFrame:
    """A Parquet table's rows without its wall-time columns."""
    table = pq.read_table(path).to_pandas()
    return table.drop(columns=[c for c in table.columns if WALL_TIME_COLUMN.search(c)])


def test_slurm_run_writes_the_same_tables_as_a_local_run(runs):
    local = {p.relative_to(runs.local_dir) for p in runs.local_dir.glob("results/**/*.parquet")}
    slurm = {p.relative_to(runs.slurm_dir) for p in runs.slurm_dir.glob("results/**/*.parquet")}
    assert local, "the local run wrote no tables"
    assert slurm == local
    for relative in sorted(local):
        pd.testing.assert_frame_equal(
            comparable(runs.slurm_dir / relative),
            comparable(runs.local_dir / relative),
            check_exact=True,
            obj=str(relative),
        )


def test_every_job_but_the_local_rules_ran_on_slurm_with_tuning_runs_grouped(runs):
    stats = job_stats(runs.slurm)  # the DAG's jobs per rule, as the SLURM run planned them
    slurm_log = runs.slurm.stdout + runs.slurm.stderr
    local_rules = set(re.findall(r"^localrule (\w+):", slurm_log, re.M))
    assert {"all", "summary", "report"} <= local_rules
    group_size = int(yaml.safe_load(PROFILE.read_text())["group-components"][0].split("=")[1])
    n_tune_groups = math.ceil(stats["tune"] / group_size)
    expected = sum(n for rule, n in stats.items() if rule not in local_rules | {"tune"})
    expected += n_tune_groups
    submitted = re.findall(r"has been submitted with SLURM jobid (\d+)", slurm_log)
    assert len(submitted) == expected, (stats, submitted)
    assert sorted(job["JobId"] for job in runs.jobs) == sorted(submitted)
    assert {job["JobState"] for job in runs.jobs} == {"COMPLETED"}
    assert (
        len(list(runs.slurm_dir.glob(".snakemake/slurm_logs/group_tuning*/**/*.log")))
        == n_tune_groups
    )
