"""The stages as functions: enumerate → compile → simulate shards → merge → train → tune →
summary, on a 128-configuration unit (no Snakemake involved)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from ml2tuner.space.templates import get_template
from ml2tuner.stages import (
    run_compile,
    run_enumerate,
    run_merge,
    run_report,
    run_simulate_shard,
    run_summary,
    run_train,
    run_tune,
)
from ml2tuner.stages.merge import merge_frames
from ml2tuner.stages.summary import invalid_share, samples_to_best
from ml2tuner.vta.harness import ERROR_NO, STATUSES, measure
from ml2tuner.vta.target import PRESETS
from ml2tuner.workflow import TableError, Unit, read_metadata, read_table
from ml2tuner.workflow.columns import compiled_columns, measured_columns, space_columns


@pytest.fixture(scope="module")
def built(tmp_path_factory, micro_unit):
    """The unit's space, compiled and measured tables (measured from two shards)."""
    cfg, unit = micro_unit
    root = tmp_path_factory.mktemp("results") / unit.path
    run_enumerate(unit, root / "space.parquet")
    run_compile(unit, root / "space.parquet", root / "compiled.parquet")
    shards = []
    for i, bounds in enumerate(cfg.shard_bounds(unit)):
        shards.append(root / f"measured/shard{i}.parquet")
        run_simulate_shard(
            unit, root / "space.parquet", root / "compiled.parquet", bounds, shards[-1]
        )
    run_merge(unit, shards, root / "measured.parquet")
    return root


def test_space_enumerates_the_template_in_order(parquet_schema, built, micro_unit):
    _, unit = micro_unit
    space = read_table(built / "space.parquet", "space", unit)
    configs = get_template("nestc").enumerate(unit.workload, unit.target)
    assert len(space) == len(configs) == 128
    assert (space["config_id"] == np.arange(128)).all()
    assert [json.loads(k) for k in space["knobs_json"]] == configs
    assert (space["tile_h"] == [c["tile_h"] for c in configs]).all()
    assert parquet_schema(built / "space.parquet") == space_columns(
        "nestc", unit.workload, unit.target
    )


def test_autotvm_knob_splits_become_outer_inner_columns(tmp_path):
    from ml2tuner.stages.enumerate import space_frame
    from ml2tuner.workflow.config import load_config

    cfg = load_config({"targets": ["pynq"], "layers": ["C11"], "templates": ["autotvm"]})
    frame = space_frame(cfg.unit("pynq", "C11", "autotvm"))
    row = frame.iloc[-1]
    knobs = json.loads(row["knobs_json"])
    assert [row["tile_co_outer"], row["tile_co_inner"]] == knobs["tile_co"]
    assert row["oc_nthread"] == knobs["oc_nthread"]


def test_compiled_and_measured_match_a_direct_measurement(parquet_schema, built, micro_unit):
    _, unit = micro_unit
    space = read_table(built / "space.parquet", "space", unit)
    compiled = read_table(built / "compiled.parquet", "compiled", unit)
    measured = read_table(built / "measured.parquet", "measured", unit)
    assert parquet_schema(built / "compiled.parquet") == compiled_columns()
    assert parquet_schema(built / "measured.parquet") == measured_columns()
    assert set(measured["status"]) <= set(STATUSES)
    assert (measured["error_no"] == measured["status"].map(ERROR_NO)).all()
    for config_id in (0, 37, 127):
        direct = measure(
            unit.workload, unit.target, "nestc", json.loads(space.loc[config_id, "knobs_json"])
        )
        row = measured.loc[config_id]
        assert (row["status"], row["cycles"]) == (direct.status, direct.cycles)
        assert compiled.loc[config_id, "h_n_insn"] == pytest.approx(
            direct.hidden["n_insn"], nan_ok=True
        )
    never_ran = measured["cycles"] < 0
    assert measured.loc[never_ran, "latency_us"].isna().all()
    assert (measured.loc[~never_ran, "latency_us"] > 0).all()


def test_shard_metadata_and_merge_checks(built, micro_unit):
    meta = read_metadata(built / "measured.parquet", "measured", micro_unit[1])
    assert meta["stage"] == "simulate" and meta["n_shards"] == "3"
    measured = read_table(built / "measured.parquet", "measured")
    with pytest.raises(ValueError, match="once each"):
        merge_frames([measured.iloc[:60], measured.iloc[50:]], 128)
    with pytest.raises(ValueError, match="once each"):
        merge_frames([measured.iloc[:60]], 128)


def _models(unit, built):
    run_train(
        unit,
        built / "space.parquet",
        built / "compiled.parquet",
        built / "measured.parquet",
        built / "models",
        {},
        seed=0,
    )
    return built / "models"


def _tune(unit, built, strategy, seed, budget=30):
    out = built / f"tuning/{strategy}/seed{seed}.parquet"
    run_tune(
        unit,
        built / "space.parquet",
        built / "compiled.parquet",
        built / "measured.parquet",
        out,
        strategy,
        seed,
        budget,
        {},
    )
    return out


# train and tune themselves: tests/workflow/test_train_tune_stages.py


def test_samples_to_best_and_invalid_share():
    best = np.array([np.nan, 12.0, 10.5, 10.05, 10.0])
    assert samples_to_best(best, 10.0) == 4  # 10.05 is within 1 %
    assert samples_to_best(best, 9.0) == -1
    assert samples_to_best(best, float("nan")) == -1
    assert invalid_share(["valid", "timeout", "wrong_answer", "valid"]) == 0.5
    assert np.isnan(invalid_share([]))


def test_summary_and_report(built, micro_unit, tmp_path):
    _, unit = micro_unit
    runs = [_tune(unit, built, s, seed) for s in ("random", "ml2tuner") for seed in (0, 1)]
    _models(unit, built)
    run_summary(
        [built / "measured.parquet"],
        runs,
        [built / "models/metrics.parquet"],
        tmp_path / "summary",
        units=[unit],
    )
    runs_frame = read_table(tmp_path / "summary/runs.parquet", "runs")
    assert len(runs_frame) == 4 and set(runs_frame["strategy"]) == {"random", "ml2tuner"}
    spaces = read_table(tmp_path / "summary/spaces.parquet", "spaces")
    measured = read_table(built / "measured.parquet", "measured", unit)
    valid = measured[measured["status"] == "valid"]
    assert spaces.loc[0, "n_configs"] == 128
    assert spaces.loc[0, "n_valid"] == len(valid)
    assert spaces.loc[0, "optimum_latency_us"] == valid["latency_us"].min()
    assert (runs_frame["final_best_latency_us"] >= spaces.loc[0, "optimum_latency_us"]).all()
    strategies = read_table(tmp_path / "summary/strategies.parquet", "strategies")
    assert list(strategies["n_seeds"]) == [2, 2]
    run_report(tmp_path / "summary", tmp_path / "report/summary.md", unit_dirs={unit: built})
    text = (tmp_path / "report/summary.md").read_text()
    assert f"## {unit.workload.name} on {unit.target.name}, template nestc" in text
    assert isinstance(pd.read_parquet(tmp_path / "summary/models.parquet"), pd.DataFrame)


def test_summary_refuses_a_table_of_another_unit(built, micro_unit, tmp_path):
    _, unit = micro_unit
    other = tmp_path / "ultra96" / unit.workload.name / unit.template / "measured.parquet"
    other.parent.mkdir(parents=True)
    other.write_bytes((built / "measured.parquet").read_bytes())
    foreign = Unit(PRESETS["ultra96"], unit.workload, unit.template)
    with pytest.raises(TableError, match="built for target pynq, expected ultra96"):
        run_summary([other], [], [], tmp_path / "summary", units=[unit, foreign])
