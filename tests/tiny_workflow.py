"""The real ``snakemake`` on the tiny configuration (tests/workflow/tiny.yaml), for every test
that runs the workflow: tests/workflow, and tests/cluster's SLURM run, which is compared with the
session's local reference run (``reference_run`` in tests/conftest.py).

A plain module, not a conftest: test modules and conftests import it by name (pytest puts
``tests/`` on ``sys.path`` for tests/conftest.py).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]

TINY_CONFIG_PATH = REPO / "tests/workflow/tiny.yaml"


def load_tiny_config() -> dict:
    """The end-to-end test's configuration (tests/workflow/tiny.yaml) as a fresh dict."""
    return yaml.safe_load(TINY_CONFIG_PATH.read_text(encoding="utf-8"))


WORKFLOW_FILES = ("Snakefile", "config.yaml", "rules", "scripts", "envs", "profiles", "report")


def copy_workflow(root: Path) -> Path:
    """Copy the workflow's files and tiny.yaml into ``root`` (created); return ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    for name in WORKFLOW_FILES:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, root / name)
        else:
            shutil.copy2(source, root / name)
    shutil.copy2(TINY_CONFIG_PATH, root / "tiny.yaml")
    return root


def snakemake_command() -> list[str]:
    """How to start ``snakemake``: the script beside this Python, else ``python -m snakemake``."""
    exe = Path(sys.executable).with_name("snakemake")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "snakemake"]


def snakemake_argv(*args: str) -> list[str]:
    """The command line of a run on tiny.yaml (in the run's folder) with ``args`` appended."""
    return [*snakemake_command(), "--cores", "2", "--configfile", "tiny.yaml", *args]


def run_snakemake(workdir: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run ``snakemake`` in ``workdir`` to completion; with ``check``, fail the test if it fails."""
    proc = subprocess.run(
        snakemake_argv(*args), cwd=workdir, capture_output=True, text=True, timeout=600
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc
