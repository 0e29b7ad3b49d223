"""Session fixtures: small real tables, built once by running the VTA model over a small layer,
and one real run of the workflow on the tiny configuration."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from tiny_workflow import copy_workflow, run_snakemake

from ml2tuner.vta.target import PRESETS
from ml2tuner.vta.workload import Conv2D

SMALL_LAYER = Conv2D("T", 1, 14, 14, 32, 32, 3, 1, 1)
SMALL_TARGET = PRESETS["pynq"]


class Tables:
    """The tables of one small space (and its counting-pass statistics), and their origin."""

    def __init__(self, template: str) -> None:
        from ml2tuner.stages import measure_space_statistics

        self.layer, self.target, self.template = SMALL_LAYER, SMALL_TARGET, template
        self.space, self.compiled, self.measured, self.statistics = measure_space_statistics(
            SMALL_LAYER, SMALL_TARGET, template
        )

    def tuning_space(self, with_hidden: bool = True):
        from ml2tuner.tuners import TuningSpace

        return TuningSpace(
            self.space,
            self.layer,
            self.target,
            self.compiled if with_hidden else None,
            template=self.template,
            statistics=self.statistics,
        )

    def all_failed(self) -> pd.DataFrame:
        """The measured table with every configuration turned into a wrong answer."""
        failed = self.measured.copy()
        failed["status"] = pd.array(["wrong_answer"] * len(failed), dtype="string")
        failed["error_no"] = 5
        failed["latency_us"] = float("nan")
        return failed


@pytest.fixture(scope="session")
def nestc_tables() -> Tables:
    return Tables("nestc")


@pytest.fixture(scope="session")
def autotvm_tables() -> Tables:
    return Tables("autotvm")


@pytest.fixture(scope="session", params=["nestc", "autotvm"])
def tables(request, nestc_tables, autotvm_tables) -> Tables:
    return nestc_tables if request.param == "nestc" else autotvm_tables


@pytest.fixture(scope="session")
def reference_run(tmp_path_factory) -> Path:
    """One uninterrupted ``snakemake --cores 2`` run of the tiny configuration, shared by the
    tests that compare runs (tests/workflow and tests/cluster's SLURM run). Tests that change a
    run work on a copy."""
    workdir = copy_workflow(tmp_path_factory.mktemp("reference"))
    run_snakemake(workdir)
    return workdir
