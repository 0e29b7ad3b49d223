"""Stage ``compile``: lower every configuration; compile status and hidden features."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from ..workflow.columns import compiled_columns
from ..workflow.config import Unit
from ..workflow.progress import Progress
from ..workflow.tables import read_table, unit_metadata, write_table
from .enumerate import knobs_of

__all__ = ["compiled_row", "compiled_frame", "run_compile", "COMPILE_STATUS"]

logger = logging.getLogger(__name__)

# CompiledConv.error_stage -> compile_status
COMPILE_STATUS = {None: "ok", "compile": "compile_error", "runtime": "runtime_error"}


def compiled_row(config_id: int, compiled) -> dict:
    """One ``compiled.parquet`` row of a :class:`~ml2tuner.vta.compiler.CompiledConv`."""
    return {
        "config_id": config_id,
        "compile_status": COMPILE_STATUS[compiled.error_stage],
        "error_kind": compiled.error_kind or "",
        "message": compiled.error_message or "",
        **{f"h_{name}": value for name, value in compiled.hidden.items()},
    }


def compiled_frame(unit: Unit, space: pd.DataFrame) -> pd.DataFrame:
    """Compile every row of ``space`` (``config_id``, ``knobs_json``) for ``unit``."""
    from ..vta.compiler import EmitWorkspace, compile_conv2d  # the heavy import only here

    progress = Progress(f"compile {unit.path}", len(space), logger)
    rows = []
    workspace = EmitWorkspace()  # each program's row is taken before the next compile
    for config_id, knobs_json in zip(space["config_id"], space["knobs_json"], strict=True):
        compiled = compile_conv2d(
            unit.workload,
            unit.target,
            unit.template,
            knobs_of(knobs_json),
            workspace=workspace,
        )
        rows.append(compiled_row(int(config_id), compiled))
        progress.advance()
    frame = pd.DataFrame(rows, columns=[name for name, _ in compiled_columns()])
    counts = frame["compile_status"].value_counts().to_dict()
    logger.info("compile %s: %s", unit.path, ", ".join(f"{k} {v}" for k, v in counts.items()))
    return frame


def run_compile(unit: Unit, space_path: str | Path, out: str | Path) -> None:
    """Write ``compiled.parquet`` for ``unit`` from its ``space.parquet``."""
    space = read_table(space_path, "space", unit, ["config_id", "knobs_json"])
    write_table(
        compiled_frame(unit, space),
        out,
        "compiled",
        unit_metadata(unit, "compile", unit.section()),
        compiled_columns(),
    )
