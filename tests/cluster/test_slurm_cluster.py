"""The test cluster's helper: it stops what it started, and says why it cannot start."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest
from slurm_cluster import ROOT_PREFIX, SLURM_CONF, ClusterError, SlurmCluster

pytestmark = pytest.mark.slurm


def test_cluster_stops_every_daemon_it_started_even_on_failure():
    reason = SlurmCluster.unavailable()
    if reason:
        pytest.skip(reason)
    cluster = SlurmCluster(cpus=1, memory_mb=500)
    with pytest.raises(RuntimeError, match="on purpose"):
        with cluster:
            pids = [daemon.process.pid for daemon in cluster.daemons]
            assert {d.name for d in cluster.daemons} >= {"slurmctld", "slurmd"}
            raise RuntimeError("on purpose")
    for pid in pids:
        assert not _alive(pid), f"daemon {pid} still runs"
    assert not SLURM_CONF.is_symlink() and cluster.root is None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_unavailable_reason_names_what_is_missing(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None if name == "slurmd" else name)
    assert SlurmCluster.unavailable().startswith("SLURM binaries not found on PATH: slurmd")
    with pytest.raises(ClusterError, match="slurmd"):
        SlurmCluster().start()


def test_a_dead_test_clusters_configuration_is_replaced():
    reason = SlurmCluster.unavailable()
    if reason:
        pytest.skip(reason)
    stale = Path(tempfile.mkdtemp(prefix=ROOT_PREFIX))  # as a SIGKILLed test leaves it
    (stale / "slurm.conf").write_text("# stale\n")
    (stale / "slurmctld.pid").write_text("999999999\n")
    SLURM_CONF.parent.mkdir(parents=True, exist_ok=True)
    SLURM_CONF.symlink_to(stale / "slurm.conf")
    try:
        assert SlurmCluster.unavailable() is None
        with SlurmCluster(cpus=1, memory_mb=500) as cluster:
            assert os.readlink(SLURM_CONF) == str(cluster.conf)
            assert not stale.exists()
            assert "another test cluster is running" in SlurmCluster.unavailable()
    finally:
        if SLURM_CONF.is_symlink() and os.readlink(SLURM_CONF) == str(stale / "slurm.conf"):
            SLURM_CONF.unlink()
        shutil.rmtree(stale, ignore_errors=True)
    assert not SLURM_CONF.is_symlink()
