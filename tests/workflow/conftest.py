"""Shared fixtures of the workflow tests: a tiny configuration and its unit."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ml2tuner.workflow.config import load_config

REPO = Path(__file__).resolve().parents[2]

TINY_CONFIG_PATH = Path(__file__).with_name("tiny.yaml")


def load_tiny_config() -> dict:
    """The end-to-end test's configuration (tests/workflow/tiny.yaml) as a fresh dict."""
    return yaml.safe_load(TINY_CONFIG_PATH.read_text(encoding="utf-8"))


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


def _parquet_schema(path) -> list[tuple[str, str]]:
    """A Parquet file's columns as (name, type) in the notation of workflow.columns."""
    import pyarrow.parquet as pq

    names = {"int64": "int64", "double": "float64", "string": "string", "bool": "bool"}
    return [(f.name, names[str(f.type)]) for f in pq.read_schema(path)]


@pytest.fixture(scope="session")
def parquet_schema():
    """The function reading a table's (column, type) list, to compare with the documented one."""
    return _parquet_schema
