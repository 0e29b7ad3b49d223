"""Parquet I/O: atomic writes, metadata, types, and `ml2tuner show`."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ml2tuner.cli import main
from ml2tuner.workflow.config import config_hash
from ml2tuner.workflow.tables import (
    derived_metadata,
    read_metadata,
    read_table,
    unit_metadata,
    write_table,
)

COLUMNS = [
    ("config_id", "int64"),
    ("status", "string"),
    ("latency_us", "float64"),
    ("placeholder", "bool"),
]


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "config_id": [0, 1, 2],
            "status": ["valid", "timeout", "valid"],
            "latency_us": [1.5, np.nan, 2.5],
            "placeholder": [True, False, True],
        }
    )


def test_types_and_metadata_round_trip(tmp_path, micro_unit):
    _, unit = micro_unit
    meta = unit_metadata(unit, "compile", unit.section())
    path = tmp_path / "sub" / "t.parquet"
    write_table(_frame(), path, meta, COLUMNS)
    schema = pq.read_schema(path)
    assert [(f.name, str(f.type)) for f in schema] == [
        ("config_id", "int64"),
        ("status", "string"),
        ("latency_us", "double"),
        ("placeholder", "bool"),
    ]
    stored = read_metadata(path)
    assert stored == meta
    for key in (
        "ml2tuner_version",
        "target",
        "target_params",
        "layer",
        "layer_shape",
        "template",
        "config_hash",
        "stage",
    ):
        assert stored[key]
    assert json.loads(stored["target_params"])["name"] == "pynq"
    assert stored["config_hash"] == config_hash(unit.section())
    back = read_table(path)
    assert back["config_id"].dtype == np.int64 and back["latency_us"].dtype == np.float64
    assert not any(back[c].dtype == object for c in back.columns)


def test_write_casts_to_the_declared_types(tmp_path):
    frame = _frame().assign(config_id=lambda f: f["config_id"].astype("int32"))
    write_table(frame, tmp_path / "t.parquet", {}, COLUMNS)
    assert pq.read_schema(tmp_path / "t.parquet").field("config_id").type == pa.int64()


def test_untyped_object_column_is_refused(tmp_path):
    frame = pd.DataFrame({"mixed": pd.Series([1, "a"], dtype=object)})
    with pytest.raises(TypeError, match="object"):
        write_table(frame, tmp_path / "t.parquet", {})
    assert not list(tmp_path.iterdir())


def test_missing_declared_column_is_refused(tmp_path):
    with pytest.raises(TypeError, match="missing columns placeholder"):
        write_table(_frame().drop(columns="placeholder"), tmp_path / "t.parquet", {}, COLUMNS)


def test_failed_write_keeps_the_old_file_and_leaves_no_temp(tmp_path, monkeypatch):
    path = tmp_path / "t.parquet"
    write_table(_frame(), path, {"stage": "old"}, COLUMNS)

    def broken_write(table, where, **kwargs):
        with open(where, "wb") as handle:  # a partial file, then the crash
            handle.write(b"PAR1 partial")
        raise OSError("disk full")

    monkeypatch.setattr(pq, "write_table", broken_write)
    with pytest.raises(OSError, match="disk full"):
        write_table(_frame().head(1), path, {"stage": "new"}, COLUMNS)
    assert read_metadata(path)["stage"] == "old" and len(read_table(path)) == 3
    assert [p.name for p in tmp_path.iterdir()] == ["t.parquet"]


def test_derived_metadata_extends_the_section(tmp_path, micro_unit):
    _, unit = micro_unit
    upstream = unit_metadata(unit, "simulate", unit.section())
    upstream["n_shards"] = "3"
    meta = derived_metadata(upstream, "train", {"seed": 4})
    assert meta["stage"] == "train" and "n_shards" not in meta
    assert json.loads(meta["config_section"]) == {**unit.section(), "seed": 4}
    assert meta["config_hash"] == config_hash({**unit.section(), "seed": 4})
    assert meta["target_params"] == upstream["target_params"]


def test_show_prints_schema_metadata_and_rows(tmp_path, capsys, micro_unit):
    _, unit = micro_unit
    path = tmp_path / "t.parquet"
    write_table(_frame(), path, unit_metadata(unit, "compile", unit.section()), COLUMNS)
    assert main(["show", str(path), "--rows", "2"]) == 0
    out = capsys.readouterr().out
    assert "3 rows, 4 columns" in out
    assert "config_id" in out and "int64" in out and "latency_us" in out and "double" in out
    assert "template: nestc" in out and "config_hash:" in out
    assert "first 2 rows:" in out and "timeout" in out


def test_show_reports_a_bad_path_in_one_line(tmp_path, capsys):
    assert main(["show", str(tmp_path / "missing.parquet")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ml2tuner: error:") and err.count("\n") == 1
