"""The prior pool: every unit's tables of a template gathered once for the prior jobs, so that
the whole network's DAG does not grow with the square of its units."""

from __future__ import annotations

import re
import shutil

import pytest
import yaml

from ml2tuner.stages.prior_pool import POOL_KINDS, pool_table, run_prior_pool
from ml2tuner.workflow.tables import TableError


def _tables(root) -> dict:
    return {kind: [root / f"{kind}.parquet"] for kind in POOL_KINDS}


def test_the_pool_holds_each_units_tables_unchanged(unit_tables, tmp_path):
    unit, root = unit_tables
    run_prior_pool([unit], _tables(root), tmp_path / "pool" / "nestc")
    held = sorted(p.relative_to(tmp_path) for p in (tmp_path / "pool").rglob("*") if p.is_file())
    assert held == sorted(
        pool_table(tmp_path / "pool" / "nestc", unit, kind).relative_to(tmp_path)
        for kind in POOL_KINDS
    )
    for kind in POOL_KINDS:
        pooled = pool_table(tmp_path / "pool" / "nestc", unit, kind)
        assert pooled.read_bytes() == (root / f"{kind}.parquet").read_bytes()


def test_a_foreign_table_is_refused_and_no_pool_is_left(unit_tables, micro_unit, tmp_path):
    unit, root = unit_tables
    foreign = tmp_path / "foreign"
    shutil.copytree(root, foreign)
    shutil.copy2(root / "space.parquet", foreign / "measured.parquet")  # a space table
    with pytest.raises(TableError, match=re.escape(str(foreign / "measured.parquet"))):
        run_prior_pool([unit], _tables(foreign), tmp_path / "pool" / "nestc")
    assert list((tmp_path / "pool").iterdir()) == []  # no pool, no staging folder


def test_prior_jobs_read_one_pool_per_template(workflow_copy, snakemake, tmp_path):
    workdir = workflow_copy(tmp_path / "run")
    config = yaml.safe_load((workdir / "tiny.yaml").read_text())
    config.update(strategies=["ml2tuner_plus"])
    (workdir / "tiny.yaml").write_text(yaml.safe_dump(config))
    out = snakemake(workdir, "-n", "--quiet", "rules").stdout
    counts = dict(re.findall(r"^(\w+)\s+(\d+)$", out, re.M))
    assert (counts["prior_pool"], counts["prior"]) == ("1", "2")  # one template, two units
