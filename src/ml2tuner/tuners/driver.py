"""The tuning loop (:func:`run_tuning`) and the AutoTVM log export (:func:`export_autotvm_jsonl`).

The driver owns the budget and the bookkeeping, so strategies never count or touch files:
each step it asks the tuner for a batch, checks it (distinct, never measured), has the
measurer measure it, tells the tuner, and appends one row per measurement.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..measure import Measurer
from ..workflow.columns import tuning_columns
from ._base import Tuner

__all__ = ["run_tuning", "trial_columns", "export_autotvm_jsonl", "AUTOTVM_LOG_VERSION"]

AUTOTVM_LOG_VERSION = 0.2
_COST_OF_FAILURE = 1e9  # AutoTVM's recorded cost of a failed measurement


def trial_columns(knob_names: list[str]) -> list[str]:
    """Columns of a trial log, in order (their types: ``ml2tuner.workflow.columns``)."""
    return [name for name, _ in tuning_columns(knob_names)]


def run_tuning(tuner: Tuner, measurer: Measurer, budget: int) -> pd.DataFrame:
    """Run ``tuner`` for ``budget`` measurements (fewer if the space is smaller).

    Args:
        tuner: a strategy built on the space (its seed fixes every random choice).
        measurer: where results come from.
        budget: number of measurements.
    Returns:
        one row per measurement, in order (:func:`trial_columns`): ``trial`` (0-based),
        ``batch``, ``config_id``, the knob columns, ``status``, ``error_no``, ``error_kind``,
        ``latency_us``, ``best_latency_us`` (best valid so far, NaN before the first),
        ``p_score`` / ``v_prob`` / ``a_score`` (the models' predictions when the configuration
        was chosen, NaN where a strategy has no such model) and ``tuner_wall_s`` (the
        batch's propose + observe wall time, shared equally by its rows). Every column but
        ``tuner_wall_s`` is identical for identical inputs and seed.
    """
    if budget < 0:
        raise ValueError("budget must be ≥ 0")
    budget = min(int(budget), tuner.space.n)
    seen: set[int] = set()
    parts: list[pd.DataFrame] = []
    done = batch = 0
    while done < budget:
        start = time.perf_counter()
        ids = tuner.propose(min(tuner.batch_size, budget - done))
        propose_s = time.perf_counter() - start
        _check_batch(tuner.name, ids, seen)
        predictions = tuner.predictions(ids)
        results = measurer.measure(ids)
        start = time.perf_counter()
        tuner.observe(results)
        wall = (propose_s + time.perf_counter() - start) / len(ids)
        parts.append(
            pd.concat([results, predictions], axis=1).assign(batch=batch, tuner_wall_s=wall)
        )
        seen.update(ids)
        done += len(ids)
        batch += 1
    return _trial_table(tuner, parts)


def _check_batch(name: str, ids: list[int], seen: set[int]) -> None:
    if not ids:
        raise RuntimeError(f"{name} proposed nothing while the budget was not spent")
    if len(set(ids)) != len(ids) or seen.intersection(ids):
        raise RuntimeError(f"{name} proposed a configuration twice: {ids}")


def _trial_table(tuner: Tuner, parts: list[pd.DataFrame]) -> pd.DataFrame:
    knobs = tuner.space.knob_names
    columns = trial_columns(knobs)
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype="float64") for c in columns})
    log = pd.concat(parts, ignore_index=True)
    rows = tuner.space.rows(log["config_id"].to_numpy())
    for name in knobs:
        log[name] = tuner.space.knobs[name].to_numpy(np.int64)[rows]
    log["trial"] = np.arange(len(log), dtype=np.int64)
    log["batch"] = log["batch"].astype(np.int64)
    valid_lat = np.where(
        log["status"].astype(str).to_numpy() == "valid",
        log["latency_us"].to_numpy(np.float64, na_value=np.nan),
        np.nan,
    )
    log["best_latency_us"] = pd.Series(valid_lat).cummin().ffill().to_numpy()
    return log[columns]


def _entity(knobs: Any) -> list:
    """AutoTVM ``ConfigEntity.to_json_dict()["entity"]`` of a knobs dict."""
    if isinstance(knobs, list):  # already in entity form
        return knobs
    entity = []
    for name, value in knobs.items():
        if isinstance(value, list):
            entity.append([name, "sp", [-1, *value[1:]]])
        else:
            entity.append([name, "ot", value])
    return entity


def export_autotvm_jsonl(
    trials: pd.DataFrame,
    path: str | Path,
    *,
    space: pd.DataFrame,
    workload: Any,
    target: Any,
    template: str,
    timestamp: float | None = None,
) -> int:
    """Write a trial log as AutoTVM JSON lines (log version 0.2), one line per trial.

    ``autotvm.record.load_from_file`` reads them: ``input`` is (target string, task name, task
    args, {}), ``config`` the entity, ``result`` ``(costs in s, error_no, all_cost, timestamp)``
    with AutoTVM's ``(1e9,)`` cost for failures.

    Args:
        trials: a :func:`run_tuning` table.
        path: output file.
        space: ``space.parquet`` (``config_id``, ``knobs_json``).
        workload: the Conv2D layer.
        target: the Target.
        template: ``autotvm`` (TVM's ``conv2d_packed.vta`` task), ``nestc`` or ``nestc_sweep``.
        timestamp: time of the first record (default: now); trial ``i`` is stamped
            ``timestamp + i``.
    Returns:
        number of lines written.
    """
    knobs = dict(
        zip(
            space["config_id"].to_numpy(np.int64).tolist(),
            space["knobs_json"].astype(str).tolist(),
            strict=True,
        )
    )
    target_str = f"ext_dev -keys=vta,cpu -device=vta -model={target.model_string}"
    task = "conv2d_packed.vta" if template == "autotvm" else f"conv2d_{template}.vta"
    b, blk = target.batch, target.block
    args = [
        ["TENSOR", [workload.n // b, workload.ic // blk, workload.h, workload.w, b, blk], "int8"],
        [
            "TENSOR",
            [workload.oc // blk, workload.ic // blk, workload.kernel, workload.kernel, blk, blk],
            "int8",
        ],
        [workload.stride, workload.stride],
        [workload.pad] * 4,
        [1, 1],
        f"NCHW{b}n{blk}c",
        "int32",
    ]
    start = time.time() if timestamp is None else float(timestamp)
    lines = []
    for i, row in enumerate(trials.itertuples(index=False)):
        ok = row.status == "valid" and np.isfinite(row.latency_us)
        cost = float(row.latency_us) * 1e-6 if ok else _COST_OF_FAILURE
        record = {
            "input": [target_str, task, args, {}],
            "config": {
                "index": int(row.config_id),
                "code_hash": None,
                "entity": _entity(json.loads(knobs[int(row.config_id)])),
            },
            "result": [[cost], int(row.error_no), cost if ok else 0.0, start + i],
            "version": AUTOTVM_LOG_VERSION,
            "tvm_version": "0.16.0",
        }
        lines.append(json.dumps(record))
    Path(path).write_text("".join(line + "\n" for line in lines))
    return len(lines)
