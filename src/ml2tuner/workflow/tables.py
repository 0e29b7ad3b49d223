"""Parquet I/O for the workflow's tables: typed, atomic, with key/value metadata.

Every table carries string metadata (``docs/artifacts.md``): ``ml2tuner_version``, ``stage``,
``target``, ``target_params``, ``layer``, ``layer_shape``, ``template``, ``config_section``
(canonical JSON) and ``config_hash`` (its sha256).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .. import __version__
from .config import Unit, canonical_json, config_hash

__all__ = [
    "Column",
    "arrow_schema",
    "write_table",
    "read_table",
    "read_metadata",
    "unit_metadata",
    "derived_metadata",
    "write_json",
    "describe_table",
]

Column = tuple[str, str]  # (name, arrow type name: int64 | float64 | string | bool)

_ARROW_TYPES = {
    "int64": pa.int64(),
    "float64": pa.float64(),
    "string": pa.string(),
    "bool": pa.bool_(),
}

# Metadata that describes one table only and is not inherited by derived tables.
_STAGE_ONLY_METADATA = frozenset(
    {"n_shards", "config_id_range", "placeholder", "placeholder_strategy", "strategy", "seed"}
)

# Metadata keys that hold JSON (pretty-printed by `ml2tuner show`).
JSON_METADATA = ("target_params", "layer_shape", "config_section")


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


def write_table(
    frame: pd.DataFrame,
    path: str | Path,
    metadata: Mapping[str, str],
    columns: Sequence[Column] | None = None,
) -> None:
    """Write ``frame`` to ``path`` as Parquet, atomically (temp file in the folder, rename).

    Args:
        frame: the rows; with ``columns`` exactly those columns are written, cast to their types.
        path: destination; its folder is created.
        metadata: string key/value metadata stored in the Parquet schema.
        columns: optional ``(name, type)`` specs; without them no ``object`` column is allowed.
    Raises:
        TypeError: an untyped (``object``) column, or a value that does not cast.
    """
    path = Path(path)
    if columns is not None:
        missing = [name for name, _ in columns if name not in frame.columns]
        if missing:
            raise TypeError(f"{path.name}: missing columns {', '.join(missing)}")
        table = pa.Table.from_pandas(
            frame[[name for name, _ in columns]], schema=arrow_schema(columns), preserve_index=False
        )
    else:
        untyped = [str(c) for c in frame.columns if frame[c].dtype == object]
        if untyped:
            raise TypeError(f"{path.name}: untyped (object) columns {', '.join(untyped)}")
        table = pa.Table.from_pandas(frame, preserve_index=False)
    merged = dict(table.schema.metadata or {})
    merged.update({str(k).encode(): str(v).encode() for k, v in metadata.items()})
    table = table.replace_schema_metadata(merged)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        pq.write_table(table, tmp, compression="zstd")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_json(payload: Mapping[str, Any], path: str | Path) -> None:
    """Write JSON atomically (same temp-then-rename as :func:`write_table`)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def read_table(path: str | Path, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """Read a Parquet table into pandas (string columns as pandas string dtype)."""
    return pq.read_table(path, columns=list(columns) if columns else None).to_pandas()


def read_metadata(path: str | Path) -> dict[str, str]:
    """The table's key/value metadata, without pandas' and arrow's own entries."""
    raw = pq.read_schema(path).metadata or {}
    return {k.decode(): v.decode() for k, v in raw.items() if k not in (b"pandas", b"ARROW:schema")}


def describe_table(path: str | Path, rows: int = 5) -> str:
    """Schema, metadata and the first ``rows`` rows of a Parquet table, as text."""
    path = Path(path)
    parquet = pq.ParquetFile(path)
    schema = parquet.schema_arrow
    lines = [f"{path}: {parquet.metadata.num_rows} rows, {len(schema)} columns", "", "schema:"]
    width = max((len(field.name) for field in schema), default=0)
    lines += [f"  {field.name:<{width}}  {field.type}" for field in schema]
    lines += ["", "metadata:"]
    for key, value in read_metadata(path).items():
        if key in JSON_METADATA:
            value = json.dumps(json.loads(value), sort_keys=True)
        lines.append(f"  {key}: {value}")
    batch = next(parquet.iter_batches(batch_size=max(1, rows)), None)
    head = batch.to_pandas() if batch is not None else pd.DataFrame(columns=schema.names)
    lines += ["", f"first {min(rows, parquet.metadata.num_rows)} rows:"]
    lines += ["  " + line for line in head.to_string(index=False).splitlines()]
    return "\n".join(lines)
