"""Tests that need a real cluster: marked ``slurm`` (run alone with ``pytest -m slurm``)."""

from __future__ import annotations


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "slurm: starts a real single-node SLURM cluster on localhost (needs root "
        "and the Debian packages slurmctld slurmd slurm-client munge; skipped without them)",
    )
