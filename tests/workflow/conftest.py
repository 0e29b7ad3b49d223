"""Shared fixtures of the workflow tests: a tiny configuration and its unit, and the real
`snakemake` command line run on it in a temporary copy of the workflow (tests/tiny_workflow.py;
the session's reference run is tests/conftest.py's ``reference_run``)."""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from tiny_workflow import REPO, copy_workflow, load_tiny_config, run_snakemake, snakemake_argv

from ml2tuner.workflow.config import load_config


def timing_columns() -> set[str]:
    """The columns docs/artifacts.md calls non-deterministic (wall times), from its tables."""
    text = (REPO / "docs/artifacts.md").read_text(encoding="utf-8")
    return set(re.findall(r"^\| (\w+) \| \w+ \| .*non-deterministic", text, re.M))


def result_tables(workdir: Path) -> list[Path]:
    """The Parquet tables under ``workdir/results``, relative to ``workdir``; not the hidden
    temp files (``.name.<pid>.tmp.parquet``) a job killed while writing leaves behind."""
    found = (workdir / "results").rglob("*.parquet")
    return sorted(p.relative_to(workdir) for p in found if not p.name.startswith("."))


def assert_same_results(expected: Path, actual: Path) -> None:
    """Every Parquet table under ``expected/results`` equals ``actual``'s (schema, metadata,
    values), timing columns aside, and the trained models are byte-identical."""
    timing = timing_columns()
    assert timing, "docs/artifacts.md names no non-deterministic column"
    tables = result_tables(expected)
    assert tables == result_tables(actual)
    seen: set[str] = set()
    for rel in tables:
        want, got = pq.read_table(expected / rel), pq.read_table(actual / rel)
        assert got.schema.equals(want.schema, check_metadata=True), rel
        seen.update(want.column_names)
        for name in set(want.column_names) - timing:
            assert got[name].equals(want[name]), f"{rel}: column {name} differs"
    assert timing <= seen, f"no table has the timing columns {timing - seen}"
    models = [p.relative_to(expected) for p in (expected / "results").glob("*/*/*/models/?.json")]
    assert models
    for rel in models:
        assert (actual / rel).read_bytes() == (expected / rel).read_bytes(), rel


# Test modules cannot import conftest, so they take the helpers above as fixtures.
@pytest.fixture(scope="session")
def workflow_copy():
    """:func:`copy_workflow`: a fresh copy of the workflow and tiny.yaml in a given folder."""
    return copy_workflow


@pytest.fixture(scope="session")
def snakemake():
    """:func:`run_snakemake`: run ``snakemake`` on tiny.yaml in a folder, to completion."""
    return run_snakemake


@pytest.fixture(scope="session")
def snakemake_args():
    """:func:`snakemake_argv`: that run's command line, for starting it without waiting."""
    return snakemake_argv


@pytest.fixture(scope="session")
def same_results():
    """:func:`assert_same_results`: two runs' tables equal, timing columns aside."""
    return assert_same_results


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture
def tiny_config() -> dict:
    return load_tiny_config()


@pytest.fixture(scope="session")
def micro_unit():
    """A 128-configuration unit (4x4 output, nestc) for fast stage tests."""
    cfg = load_config(
        {
            "targets": ["pynq"],
            "layers": ["M"],
            "templates": ["nestc"],
            "shard_size": 50,
            "layer_definitions": {"M": {"h": 4, "w": 4, "ic": 16, "oc": 16, "kernel": 3, "pad": 1}},
        }
    )
    return cfg, cfg.unit("pynq", "M", "nestc")


@pytest.fixture(scope="session")
def unit_tables(tmp_path_factory, micro_unit):
    """The micro unit's space, compiled, measured and simstats tables (built once)."""
    from ml2tuner.stages import (
        run_compile,
        run_enumerate,
        run_merge,
        run_merge_statistics,
        run_simulate_shard,
    )

    _, unit = micro_unit
    root = tmp_path_factory.mktemp("unit")
    run_enumerate(unit, root / "space.parquet")
    run_compile(unit, root / "space.parquet", root / "compiled.parquet")
    shard, statistics = root / "measured/shard0.parquet", root / "simstats/shard0.parquet"
    run_simulate_shard(
        unit,
        root / "space.parquet",
        root / "compiled.parquet",
        (0, unit.space_size()),
        shard,
        statistics_out=statistics,
    )
    run_merge(unit, [shard], root / "measured.parquet")
    run_merge_statistics(unit, [statistics], root / "simstats.parquet")
    return unit, root


def _parquet_schema(path) -> list[tuple[str, str]]:
    """A Parquet file's columns as (name, type) in the notation of workflow.columns."""
    import pyarrow.parquet as pq

    names = {"int64": "int64", "double": "float64", "string": "string", "bool": "bool"}
    return [(f.name, names[str(f.type)]) for f in pq.read_schema(path)]


@pytest.fixture(scope="session")
def parquet_schema():
    """The function reading a table's (column, type) list, to compare with the documented one."""
    return _parquet_schema
