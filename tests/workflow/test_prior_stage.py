"""The prior stage: which units a prior learns from, the rule's jobs, the fallback's log line."""

from __future__ import annotations

import dataclasses
import logging
import re

import pytest
import yaml

from ml2tuner.stages.prior import prior_scope, prior_units, run_prior, warm_start
from ml2tuner.tuners import make_tuner
from ml2tuner.vta.target import PRESETS
from ml2tuner.vta.workload import Conv2D
from ml2tuner.workflow.config import Unit

C2 = Conv2D("C2", 1, 56, 56, 64, 64, 3, 1, 1)
C4 = Conv2D("C4", 1, 56, 56, 64, 128, 1, 0, 2)


def test_prior_units_follow_the_scope_and_never_hold_the_unit():
    units = [Unit(PRESETS[t], layer, "nestc") for t in ("zcu102", "pynq") for layer in (C2, C4)]
    tuned = units[0]  # zcu102 C2

    def keys(scope):
        return [u.key[:2] for u in prior_units(tuned, units, scope)]

    assert keys("none") == []
    assert keys("other-layers") == [("zcu102", "C4")]
    assert keys("other-targets") == [("pynq", "C2")]
    assert keys("all") == [("zcu102", "C4"), ("pynq", "C2"), ("pynq", "C4")]
    assert prior_scope("ml2tuner_plus", {"prior": "other-layers"}) == "other-layers"
    assert prior_scope("ml2tuner", {}) == "none"


def test_run_prior_refuses_the_unit_being_tuned(tmp_path):
    unit = Unit(PRESETS["zcu102"], C2, "nestc")
    with pytest.raises(ValueError, match="unit being tuned"):
        run_prior(unit, [(unit, "s", "c", "m")], tmp_path, "ml2tuner_plus", {})


def test_without_a_prior_the_tuner_falls_back_and_says_so(nestc_tables, caplog):
    unit = Unit(nestc_tables.target, nestc_tables.layer, "nestc")
    tuner = make_tuner("ml2tuner_plus", nestc_tables.tuning_space())
    with caplog.at_level(logging.INFO, logger="ml2tuner"):
        warm_start(tuner, None, unit)
    assert "falling back to prior none" in caplog.text and tuner.prior is None


def test_warm_start_reads_the_prior_folder(nestc_tables, tmp_path):
    from ml2tuner.tuners import train_prior
    from ml2tuner.tuners._ml2tuner_plus import PriorSource

    other = dataclasses.replace(nestc_tables.layer, h=28)
    tables = nestc_tables
    source = PriorSource(tables.space, tables.compiled, tables.measured, other, tables.target)
    tuner = make_tuner("ml2tuner_plus", tables.tuning_space(), options={"num_boost_round": 5})
    train_prior([source], tuner.settings).save(tmp_path)
    warm_start(tuner, tmp_path, Unit(tables.target, tables.layer, "nestc"))
    assert tuner.prior is not None and set(tuner.prior.models) == {"V", "A"}


def _prior_jobs(workflow_copy, snakemake, folder, layers) -> int:
    workdir = workflow_copy(folder)
    config = yaml.safe_load((workdir / "tiny.yaml").read_text())
    config.update(layers=layers, strategies=["ml2tuner_plus"])
    (workdir / "tiny.yaml").write_text(yaml.safe_dump(config))
    out = snakemake(workdir, "-n").stdout
    match = re.search(r"^prior\s+(\d+)$", out, re.M)
    return int(match.group(1)) if match else 0


def test_the_rule_builds_a_prior_only_from_other_units(workflow_copy, snakemake, tmp_path):
    assert _prior_jobs(workflow_copy, snakemake, tmp_path / "two", ["T1", "T2"]) == 2
    assert _prior_jobs(workflow_copy, snakemake, tmp_path / "one", ["T1"]) == 0
