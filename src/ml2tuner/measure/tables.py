"""Build the three tables of a (small) space in memory: enumerate, compile, simulate.

The same columns as ``space.parquet`` / ``compiled.parquet`` / ``measured.parquet``
(docs/artifacts.md), without files or metadata: for tests, benchmarks and quick experiments.
The workflow's stages write the real, sharded, cached tables.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from ..space.templates import get_template
from ..vta.target import Target
from ..vta.workload import Conv2D

__all__ = ["space_table", "measure_space"]

_STRING_HIDDEN = ("fold_rule", "gemm_fold_outer", "gemm_fold_inner")


def space_table(workload: Conv2D, target: Target, template: str) -> pd.DataFrame:
    """``space.parquet``'s columns: ``config_id``, ``knobs_json``, one column per knob value."""
    configs = get_template(template).enumerate(workload, target)
    rows = []
    for i, knobs in enumerate(configs):
        row = {"config_id": i, "knobs_json": json.dumps(knobs)}
        for name, value in knobs.items():
            if isinstance(value, list):
                row[f"{name}_outer"], row[f"{name}_inner"] = value
            else:
                row[name] = value
        rows.append(row)
    table = pd.DataFrame(rows)
    table["knobs_json"] = table["knobs_json"].astype("string")
    return table.astype({c: "int64" for c in table.columns if c != "knobs_json"})


def measure_space(workload: Conv2D, target: Target,
                  template: str) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Enumerate, compile and simulate every configuration.

    Returns:
        ``(space, compiled, measured)`` tables.
    """
    from ..vta.compiler import compile_conv2d
    from ..vta.measure import run_compiled

    space = space_table(workload, target, template)
    configs = get_template(template).enumerate(workload, target)
    compiled_rows, measured_rows = [], []
    for i, knobs in enumerate(configs):
        compiled = compile_conv2d(workload, target, template, knobs)
        status = "ok" if compiled.program is not None else (
            "compile_error" if compiled.error_stage == "compile" else "runtime_error")
        compiled_rows.append({"config_id": i, "compile_status": status,
                              "error_kind": compiled.error_kind or "",
                              **{f"h_{k}": v for k, v in compiled.hidden.items()}})
        m = run_compiled(workload, target, compiled)
        measured_rows.append({"config_id": i, "status": m.status, "error_no": m.error_no,
                              "error_kind": m.error_kind, "cycles": m.cycles,
                              "latency_us": m.latency_us,
                              **{f"c_{k}": v for k, v in m.counters.items()}})
    compiled_df = pd.DataFrame(compiled_rows)
    for col in ("compile_status", "error_kind", *(f"h_{s}" for s in _STRING_HIDDEN)):
        compiled_df[col] = compiled_df[col].astype("string")
    measured_df = pd.DataFrame(measured_rows)
    counters = [c for c in measured_df.columns if c.startswith("c_")]
    measured_df[counters] = measured_df[counters].fillna(-1).astype(np.int64)
    measured_df = measured_df.astype({"status": "string", "error_kind": "string",
                                      "error_no": "int64", "cycles": "int64",
                                      "latency_us": "float64"})
    return space, compiled_df, measured_df
