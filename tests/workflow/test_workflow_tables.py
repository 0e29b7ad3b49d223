"""Parquet I/O: atomic writes, metadata, types, the checked reader, and `ml2tuner show`."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ml2tuner.cli import main
from ml2tuner.stages import run_enumerate
from ml2tuner.workflow.columns import SPLIT_COLUMNS
from ml2tuner.workflow.config import config_hash, load_config
from ml2tuner.workflow.tables import (
    TABLE_SCHEMA,
    TableError,
    atomic_write,
    derived_metadata,
    read_metadata,
    read_table,
    unit_metadata,
    write_table,
)


def _frame() -> pd.DataFrame:
    return pd.DataFrame({"config_id": [0, 1, 2], "split": ["train", "test", "train"]})


def _write(path, unit, frame=None, **extra) -> None:
    meta = {**unit_metadata(unit, "train", unit.section()), **extra}
    write_table(_frame() if frame is None else frame, path, "split", meta, SPLIT_COLUMNS)


def _rewrite(path, table: pa.Table, **metadata) -> None:
    """Write ``table`` back with its metadata changed (what another ml2tuner would have left)."""
    merged = {**(table.schema.metadata or {})}
    merged.update({k.encode(): v.encode() for k, v in metadata.items()})
    pq.write_table(table.replace_schema_metadata(merged), path)


def test_types_and_metadata_round_trip(tmp_path, micro_unit):
    _, unit = micro_unit
    meta = unit_metadata(unit, "train", unit.section())
    path = tmp_path / "sub" / "t.parquet"
    write_table(_frame(), path, "split", meta, SPLIT_COLUMNS)
    schema = pq.read_schema(path)
    assert [(f.name, str(f.type)) for f in schema] == [("config_id", "int64"), ("split", "string")]
    stored = read_metadata(path, "split", unit)
    assert stored == {**meta, "table": "split", "table_schema": str(TABLE_SCHEMA)}
    assert json.loads(stored["target_params"])["name"] == "pynq"
    assert stored["config_hash"] == config_hash(unit.section())
    back = read_table(path, "split", unit)
    assert back["config_id"].dtype == np.int64
    assert not any(back[c].dtype == object for c in back.columns)


def test_write_casts_to_the_declared_types(tmp_path, micro_unit):
    frame = _frame().assign(config_id=lambda f: f["config_id"].astype("int32"))
    _write(tmp_path / "t.parquet", micro_unit[1], frame)
    assert pq.read_schema(tmp_path / "t.parquet").field("config_id").type == pa.int64()


def test_missing_declared_column_is_refused(tmp_path, micro_unit):
    with pytest.raises(TypeError, match="missing columns split"):
        _write(tmp_path / "t.parquet", micro_unit[1], _frame().drop(columns="split"))
    assert not list(tmp_path.iterdir())


def test_failed_write_keeps_the_old_file_and_leaves_no_temp(tmp_path, monkeypatch, micro_unit):
    path = tmp_path / "t.parquet"
    _write(path, micro_unit[1], stage="old")

    def broken_write(table, where, **kwargs):
        with open(where, "wb") as handle:  # a partial file, then the crash
            handle.write(b"PAR1 partial")
        raise OSError("disk full")

    monkeypatch.setattr(pq, "write_table", broken_write)
    with pytest.raises(OSError, match="disk full"):
        _write(path, micro_unit[1], _frame().head(1), stage="new")
    assert read_metadata(path)["stage"] == "old" and len(read_table(path, "split")) == 3
    assert [p.name for p in tmp_path.iterdir()] == ["t.parquet"]


def test_atomic_write_keeps_the_suffix_and_cleans_up(tmp_path):
    seen = []

    def write(tmp):
        seen.append(tmp)
        tmp.write_text("{}")

    atomic_write(tmp_path / "a" / "P.json", write)
    assert seen[0].suffix == ".json" and seen[0].parent == tmp_path / "a"
    assert [p.name for p in (tmp_path / "a").iterdir()] == ["P.json"]


def test_derived_metadata_extends_the_section(micro_unit):
    _, unit = micro_unit
    upstream = unit_metadata(unit, "simulate", unit.section())
    upstream.update(n_shards="3", table="measured")
    meta = derived_metadata(upstream, "train", {"seed": 4})
    assert meta["stage"] == "train" and "n_shards" not in meta and "table" not in meta
    assert json.loads(meta["config_section"]) == {**unit.section(), "seed": 4}
    assert meta["config_hash"] == config_hash({**unit.section(), "seed": 4})
    assert meta["target_params"] == upstream["target_params"]


# ---- the checked reader: every refusal is one line naming the file ---------------------------


def _refused(path, kind, unit, match) -> str:
    with pytest.raises(TableError, match=match) as info:
        read_table(path, kind, unit)
    message = str(info.value)
    assert message.startswith(f"{path}: ") and message.endswith("; delete it and re-run")
    assert "\n" not in message
    return message


def test_a_truncated_table_is_refused(tmp_path, micro_unit):
    path = tmp_path / "t.parquet"
    _write(path, micro_unit[1])
    with path.open("r+b") as handle:  # `truncate -s 200`
        handle.truncate(200)
    _refused(path, "split", micro_unit[1], "not a readable Parquet table")


def test_a_missing_or_foreign_file_is_refused(tmp_path, micro_unit):
    _refused(tmp_path / "nope.parquet", "split", micro_unit[1], "missing")
    (tmp_path / "x.parquet").write_text("not parquet")
    _refused(tmp_path / "x.parquet", "split", micro_unit[1], "not a readable Parquet table")


def test_a_table_of_another_layer_or_target_is_refused(tmp_path, micro_unit):
    cfg, unit = micro_unit
    path = tmp_path / "t.parquet"
    _write(path, unit)
    other_layer = dataclasses.replace(unit, workload=dataclasses.replace(unit.workload, name="N"))
    message = _refused(path, "split", other_layer, "built for layer M, expected N")
    assert message == f"{path}: built for layer M, expected N; delete it and re-run"
    other_shape = dataclasses.replace(unit, workload=dataclasses.replace(unit.workload, oc=32))
    _refused(path, "split", other_shape, "another shape of layer M")
    other = load_config({"targets": ["ultra96"], "layers": ["C2"], "templates": ["nestc"]})
    _refused(path, "split", other.units()[0], "built for layer M, expected C2")


def test_a_unit_table_from_another_configuration_is_refused(tmp_path, micro_unit):
    _, unit = micro_unit
    path = tmp_path / "space.parquet"
    run_enumerate(unit, path)
    assert len(read_table(path, "space", unit)) == unit.space_size()
    table = pq.read_table(path)
    _rewrite(path, table, config_hash="0" * 64)
    _refused(path, "space", unit, "built from another configuration")


def test_a_table_of_another_kind_is_refused(tmp_path, micro_unit):
    path = tmp_path / "t.parquet"
    _write(path, micro_unit[1])
    _refused(path, "measured", micro_unit[1], "a split table, expected measured")


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ("drop", "column split missing"),
        ("rename", "column split missing"),
        ("retype", "column config_id is float64, expected int64"),
        ("extra", "unexpected column p_score"),
        ("old_version", f"table schema 1, expected {TABLE_SCHEMA}"),
        ("no_version", f"table schema none, expected {TABLE_SCHEMA}"),
    ],
)
def test_a_table_of_an_older_ml2tuner_is_refused(tmp_path, micro_unit, change, match):
    path = tmp_path / "t.parquet"
    _write(path, micro_unit[1])
    table = pq.read_table(path)
    meta = table.schema.metadata
    if change == "drop":
        table = table.drop_columns(["split"])
    elif change == "rename":
        table = table.rename_columns(["config_id", "fold"])
    elif change == "retype":
        table = table.set_column(0, "config_id", table["config_id"].cast(pa.float64()))
    elif change == "extra":
        table = table.append_column("p_score", pa.array([0.0, 1.0, 2.0]))
    elif change == "old_version":
        meta = {**meta, b"table_schema": b"1"}
    else:
        meta = {k: v for k, v in meta.items() if k != b"table_schema"}
    pq.write_table(table.replace_schema_metadata(meta), path)
    _refused(path, "split", micro_unit[1], match)


# ---- ml2tuner show ----------------------------------------------------------------------------


def test_show_prints_schema_metadata_and_rows(tmp_path, capsys, micro_unit):
    path = tmp_path / "t.parquet"
    _write(path, micro_unit[1])
    assert main(["show", str(path), "--rows", "2"]) == 0
    out = capsys.readouterr().out
    assert "3 rows, 2 columns" in out
    assert "config_id" in out and "int64" in out and "split" in out and "string" in out
    assert "template: nestc" in out and "config_hash:" in out and "table: split" in out
    assert "first 2 rows:" in out and "test" in out


def test_show_reports_a_bad_path_in_one_line(tmp_path, capsys):
    assert main(["show", str(tmp_path / "missing.parquet")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ml2tuner: error:") and err.count("\n") == 1
