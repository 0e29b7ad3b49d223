"""Parquet I/O for the workflow's tables: typed, atomic, with key/value metadata, checked on read.

Every table carries string metadata (``docs/artifacts.md``): ``table`` (its kind),
``table_schema`` (:data:`TABLE_SCHEMA`), ``ml2tuner_version``, ``stage``, ``target``,
``target_params``, ``layer``, ``layer_shape``, ``template``, ``config_section`` (canonical
JSON) and ``config_hash`` (its sha256). :func:`read_table` checks all of it against what the
reading job expects before any row is used, and raises :class:`TableError` (one line, naming the
file) on a mismatch.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .. import __version__
from .columns import UNIT_TABLES, Column, table_columns
from .config import Unit, canonical_json, config_hash

__all__ = [
    "TABLE_SCHEMA",
    "TableError",
    "arrow_schema",
    "atomic_write",
    "write_table",
    "read_table",
    "read_metadata",
    "check_table",
    "unit_metadata",
    "derived_metadata",
    "describe_table",
]

# Version of the tables' layout. Bump it when a column of any table changes its meaning (a
# change of name or type is caught by the column check anyway): older tables are then refused.
TABLE_SCHEMA = 2

_ARROW_TYPES = {
    "int64": pa.int64(),
    "float64": pa.float64(),
    "string": pa.string(),
    "bool": pa.bool_(),
}
_TYPE_NAMES = {"int64": "int64", "double": "float64", "string": "string", "bool": "bool"}

# Metadata that describes one table only and is not inherited by derived tables.
_STAGE_ONLY_METADATA = frozenset({"table", "n_shards", "config_id_range", "strategy", "seed"})

# Metadata keys that hold JSON (pretty-printed by `ml2tuner show`).
JSON_METADATA = ("target_params", "layer_shape", "config_section")

_ADVICE = "delete it and re-run"


class TableError(ValueError):
    """An input table is unreadable, of another kind, from another unit or another version.

    The message is one line: ``{path}: {what is wrong}; delete it and re-run``.
    """

    def __init__(self, path: str | Path, problem: str) -> None:
        super().__init__(f"{path}: {problem}; {_ADVICE}")


def arrow_schema(columns: Sequence[Column]) -> pa.Schema:
    """Arrow schema of ``(name, type)`` column specs."""
    return pa.schema([pa.field(name, _ARROW_TYPES[kind]) for name, kind in columns])


def unit_metadata(unit: Unit, stage: str, section: Mapping[str, Any]) -> dict[str, str]:
    """Metadata of a table produced for ``unit`` by ``stage`` from config ``section``."""
    return {
        "ml2tuner_version": __version__,
        "stage": stage,
        "target": unit.target.name,
        "target_params": canonical_json(unit.target.params()),
        "layer": unit.workload.name,
        "layer_shape": canonical_json(unit.section()["layer"]),
        "template": unit.template,
        "config_section": canonical_json(section),
        "config_hash": config_hash(section),
    }


def derived_metadata(
    upstream: Mapping[str, str], stage: str, extra_section: Mapping[str, Any]
) -> dict[str, str]:
    """Metadata of a table derived from ``upstream``'s, its section extended by ``extra``."""
    section = {**json.loads(upstream["config_section"]), **extra_section}
    meta = {k: v for k, v in upstream.items() if k not in _STAGE_ONLY_METADATA}
    meta.update(
        stage=stage,
        ml2tuner_version=__version__,
        config_section=canonical_json(section),
        config_hash=config_hash(section),
    )
    return meta


def atomic_write(path: str | Path, write: Callable[[Path], None]) -> None:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then rename it to ``path``.

    A reader never sees a half-written file, and a killed job leaves no file at ``path`` (the
    rename is atomic within a folder). The temporary name keeps ``path``'s suffix, for writers
    that choose the format by it (XGBoost).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp{path.suffix}")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_table(
    frame: pd.DataFrame,
    path: str | Path,
    kind: str,
    metadata: Mapping[str, str],
    columns: Sequence[Column],
) -> None:
    """Write ``frame`` to ``path`` as Parquet, atomically, typed by ``columns``.

    Args:
        frame: the rows; exactly the ``columns`` are written, cast to their types.
        path: destination; its folder is created.
        kind: the table's kind (``space``, ``measured``, …), stored as ``table`` metadata.
        metadata: string key/value metadata stored in the Parquet schema.
        columns: ``(name, type)`` specs (:mod:`ml2tuner.workflow.columns`).
    Raises:
        TypeError: a missing column, or a value that does not cast.
    """
    path = Path(path)
    missing = [name for name, _ in columns if name not in frame.columns]
    if missing:
        raise TypeError(f"{path.name}: missing columns {', '.join(missing)}")
    table = pa.Table.from_pandas(
        frame[[name for name, _ in columns]], schema=arrow_schema(columns), preserve_index=False
    )
    merged = dict(table.schema.metadata or {})
    stamped = {**metadata, "table": kind, "table_schema": str(TABLE_SCHEMA)}
    merged.update({str(k).encode(): str(v).encode() for k, v in stamped.items()})
    table = table.replace_schema_metadata(merged)
    atomic_write(path, lambda tmp: pq.write_table(table, tmp, compression="zstd"))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _open(path: Path) -> pa.Schema:
    if not path.exists():
        raise TableError(path, "missing")
    try:
        return pq.read_schema(path)
    except (OSError, pa.ArrowException) as exc:
        raise TableError(path, f"not a readable Parquet table ({_first_line(exc)})") from None


def _metadata(schema: pa.Schema) -> dict[str, str]:
    raw = schema.metadata or {}
    return {k.decode(): v.decode() for k, v in raw.items() if k not in (b"pandas", b"ARROW:schema")}


def _check_columns(path: Path, schema: pa.Schema, expected: Sequence[Column], version: str):
    found = {field.name: _TYPE_NAMES.get(str(field.type), str(field.type)) for field in schema}
    wanted = dict(expected)
    older = f"written by ml2tuner {version}, this is {__version__}"
    for name, kind in expected:
        if name not in found:
            raise TableError(path, f"column {name} missing ({older})")
        if found[name] != kind:
            raise TableError(path, f"column {name} is {found[name]}, expected {kind} ({older})")
    extra = [name for name in found if name not in wanted]
    if extra:
        raise TableError(path, f"unexpected column {extra[0]} ({older})")


def _check_unit(path: Path, meta: Mapping[str, str], kind: str, unit: Unit) -> None:
    for key, want in (
        ("layer", unit.workload.name),
        ("target", unit.target.name),
        ("template", unit.template),
    ):
        if meta.get(key) != want:
            raise TableError(path, f"built for {key} {meta.get(key)}, expected {want}")
    if meta.get("layer_shape") != canonical_json(unit.section()["layer"]):
        raise TableError(path, f"built for another shape of layer {unit.workload.name}")
    if meta.get("target_params") != canonical_json(unit.target.params()):
        raise TableError(path, f"built for other parameters of target {unit.target.name}")
    if kind in UNIT_TABLES and meta.get("config_hash") != config_hash(unit.section()):
        raise TableError(
            path,
            f"built from another configuration (config hash {meta.get('config_hash', '?')[:12]}, "
            f"expected {config_hash(unit.section())[:12]})",
        )


def check_table(path: str | Path, kind: str, unit: Unit | None = None) -> dict[str, str]:
    """Check a table before use; return its metadata.

    Checks, in order: the file is a readable Parquet table; it was written with this
    :data:`TABLE_SCHEMA`; it is a table of ``kind``; its columns and their types are those of
    ``kind`` (:func:`~ml2tuner.workflow.columns.table_columns`); with ``unit``, its provenance
    (layer, target, template, their parameters and, for a unit table, the config hash) is
    ``unit``'s.

    Args:
        path: the table.
        kind: the kind the reader expects.
        unit: the unit of the reading job; None for tables that belong to no unit (summary) or
            when any unit will do (``ml2tuner export-autotvm``).
    Raises:
        TableError: the first mismatch, in one line naming ``path``.
    """
    path = Path(path)
    schema = _open(path)
    meta = _metadata(schema)
    version = meta.get("ml2tuner_version", "unknown")
    if meta.get("table_schema") != str(TABLE_SCHEMA):
        raise TableError(
            path,
            f"table schema {meta.get('table_schema', 'none')}, expected {TABLE_SCHEMA} "
            f"(written by ml2tuner {version}, this is {__version__})",
        )
    if meta.get("table") != kind:
        raise TableError(path, f"a {meta.get('table', 'unknown')} table, expected {kind}")
    if unit is not None:
        _check_unit(path, meta, kind, unit)
    own_unit = unit
    if own_unit is None and kind in ("space", "tuning"):
        try:
            own_unit = Unit.from_metadata(meta)
        except ValueError as exc:
            raise TableError(path, str(exc)) from None
    _check_columns(path, schema, table_columns(kind, own_unit), version)
    return meta


def read_table(
    path: str | Path,
    kind: str,
    unit: Unit | None = None,
    columns: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Read a checked table (:func:`check_table`) into pandas.

    Args:
        path: the table.
        kind: the kind the reader expects (``space``, ``measured``, ``runs``, …).
        unit: the unit of the reading job, or None (see :func:`check_table`).
        columns: only these columns (all when None).
    Raises:
        TableError: the table fails a check, or its data cannot be read (a damaged page).
    """
    check_table(path, kind, unit)
    try:
        return pq.read_table(path, columns=list(columns) if columns else None).to_pandas()
    except (OSError, pa.ArrowException) as exc:
        raise TableError(path, f"not a readable Parquet table ({_first_line(exc)})") from None


def read_metadata(path: str | Path, kind: str | None = None, unit: Unit | None = None):
    """A table's key/value metadata (checked as by :func:`check_table` when ``kind`` is given)."""
    if kind is not None:
        return check_table(path, kind, unit)
    return _metadata(_open(Path(path)))


def describe_table(path: str | Path, rows: int = 5) -> str:
    """Schema, metadata and the first ``rows`` rows of a Parquet table, as text."""
    path = Path(path)
    parquet = pq.ParquetFile(path)
    schema = parquet.schema_arrow
    lines = [f"{path}: {parquet.metadata.num_rows} rows, {len(schema)} columns", "", "schema:"]
    width = max((len(field.name) for field in schema), default=0)
    lines += [f"  {field.name:<{width}}  {field.type}" for field in schema]
    lines += ["", "metadata:"]
    for key, value in _metadata(schema).items():
        if key in JSON_METADATA:
            value = json.dumps(json.loads(value), sort_keys=True)
        lines.append(f"  {key}: {value}")
    batch = next(parquet.iter_batches(batch_size=max(1, rows)), None)
    head = batch.to_pandas() if batch is not None else pd.DataFrame(columns=schema.names)
    lines += ["", f"first {min(rows, parquet.metadata.num_rows)} rows:"]
    lines += ["  " + line for line in head.to_string(index=False).splitlines()]
    return "\n".join(lines)
