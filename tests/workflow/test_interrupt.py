"""`kill -9` of a real `snakemake` run mid-way, then the recovery README.md documents ("When a
run is interrupted"): the plain rerun stops at Snakemake's lock, `snakemake --unlock`, the same
command again; the tables then equal an uninterrupted run's, timing columns aside.

The uninterrupted run is the session's reference run, in another folder and other processes, so
this is also the check of determinism across processes (in the spirit of Optuna's
reproducible-in-another-process test): every table and model of the two runs was computed by
different processes, and nothing may depend on the process (hash seeds, thread scheduling,
dictionary order, the clock). The in-process check of one stage is
tests/workflow/test_train_tune_stages.py::test_training_is_deterministic."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path

import pyarrow.parquet as pq

FIRST_OUTPUT = "results/tiny/*/nestc/measured/shard*.parquet"


def _live_members(group: int) -> list[int]:
    """PIDs of the processes of a process group that still run (zombies excluded: in a container
    nothing may reap the orphans)."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # exited meanwhile
            continue
        if int(fields[2]) == group and fields[0] != "Z":
            pids.append(int(stat.parent.name))
    return pids


def _start_and_kill_when_first_output_appears(workdir: Path, argv: list[str]) -> None:
    with (workdir / "killed_run.log").open("w") as log:
        # Its own session, so that snakemake leads a process group of its own and its jobs.
        proc = subprocess.Popen(
            argv, cwd=workdir, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    deadline = time.monotonic() + 600
    while not list(workdir.glob(FIRST_OUTPUT)):
        assert proc.poll() is None, "the run ended before any shard was written"
        assert time.monotonic() < deadline, "no shard after 10 minutes"
        time.sleep(0.05)
    # kill -9 of snakemake alone does not stop its jobs: each job script is a child process,
    # which is orphaned (re-parented to init) and runs on, writing its outputs after snakemake
    # has gone. A power loss stops them too, so the jobs are killed as well: SIGKILL to the
    # process group, which the jobs inherited from snakemake.
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    with contextlib.suppress(ProcessLookupError):  # no job was running any more
        os.killpg(proc.pid, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while _live_members(proc.pid):
        assert time.monotonic() < deadline, "the killed jobs still run"
        time.sleep(0.05)


def test_kill_9_mid_run_then_unlock_and_rerun_equals_an_uninterrupted_run(
    reference_run, tmp_path, workflow_copy, snakemake, snakemake_args, same_results
):
    workdir = workflow_copy(tmp_path / "killed")
    _start_and_kill_when_first_output_appears(workdir, snakemake_args())

    # Some jobs were done, others running: Snakemake had marked the running jobs' outputs
    # incomplete, and the kill left the markers (and the lock) behind.
    assert list(workdir.glob(FIRST_OUTPUT))
    assert list((workdir / ".snakemake/incomplete").iterdir())
    assert list((workdir / ".snakemake/locks").iterdir())
    # Tables are written to a temp file and renamed: every table present is whole.
    for table in workdir.glob("results/**/[!.]*.parquet"):
        pq.read_metadata(table)

    locked = snakemake(workdir, check=False)
    assert locked.returncode != 0
    assert "LockException" in locked.stderr and "--unlock" in locked.stderr
    assert not (workdir / "results/report/summary.md").exists()

    snakemake(workdir, "--unlock")
    snakemake(workdir)
    same_results(reference_run, workdir)
