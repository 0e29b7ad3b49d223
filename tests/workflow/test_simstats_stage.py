"""The counting pass's statistics through simulate and merge, and the simstats stage."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ml2tuner.stages import (
    run_compile,
    run_enumerate,
    run_merge,
    run_merge_statistics,
    run_simstats,
    run_simulate_shard,
)
from ml2tuner.vta.counting import STATISTIC_NAMES
from ml2tuner.workflow import read_metadata, read_table
from ml2tuner.workflow.columns import (
    METRICS_COLUMNS,
    SIMSTATS_FILES,
    SIMSTATS_PREDICTION_COLUMNS,
    statistics_columns,
)
from ml2tuner.workflow.tables import TableError

FAST = {"optuna_trials": 0, "train_fraction": 0.1, "min_train": 6, "predictors": ["mlr", "xgb"]}


@pytest.fixture(scope="module")
def unit_dir(tmp_path_factory, micro_unit):
    """The micro unit simulated in two shards, each with its statistics, then merged."""
    _, unit = micro_unit
    root = tmp_path_factory.mktemp("simstats")
    run_enumerate(unit, root / "space.parquet")
    run_compile(unit, root / "space.parquet", root / "compiled.parquet")
    shards, statistics = [], []
    for i, bounds in enumerate([(0, 50), (50, unit.space_size())]):
        shards.append(root / f"measured/shard{i}.parquet")
        statistics.append(root / f"simstats/shard{i}.parquet")
        run_simulate_shard(
            unit,
            root / "space.parquet",
            root / "compiled.parquet",
            bounds,
            shards[-1],
            statistics_out=statistics[-1],
        )
    run_merge(unit, shards, root / "measured.parquet")
    run_merge_statistics(unit, statistics, root / "simstats.parquet")
    return unit, root


def test_statistics_cover_the_space_and_match_the_timing_counters(unit_dir, parquet_schema):
    unit, root = unit_dir
    stats = read_table(root / "simstats.parquet", "simstats", unit)
    assert parquet_schema(root / "simstats.parquet") == statistics_columns()
    assert stats["config_id"].tolist() == list(range(unit.space_size()))
    assert read_metadata(root / "simstats.parquet")["n_shards"] == "2"
    measured = read_table(root / "measured.parquet", "measured", unit)
    compiled = read_table(root / "compiled.parquet", "compiled", unit)
    streamless = (compiled["compile_status"] != "ok").to_numpy()
    assert (stats.loc[streamless, "s_insn_count"] == -1).all()
    assert (stats.loc[~streamless, [f"s_{n}" for n in STATISTIC_NAMES]] >= 0).all().all()
    # where the stream ran to the end, a counter of the same name holds the same value
    ran = (measured["status"] == "valid").to_numpy()
    assert ran.any()
    for name in ("gemm_counter", "inp_load_nbytes", "out_store_nbytes"):
        assert (stats.loc[ran, f"s_{name}"] == measured.loc[ran, f"c_{name}"]).all(), name


def test_stage_writes_metrics_beside_the_predictions(unit_dir, tmp_path, parquet_schema):
    unit, root = unit_dir
    out = tmp_path / "models"
    run_simstats(unit, root / "measured.parquet", root / "simstats.parquet", out, FAST)
    metrics = read_table(out / SIMSTATS_FILES["simstats_metrics"], "simstats_metrics", unit)
    assert parquet_schema(out / SIMSTATS_FILES["simstats_metrics"]) == METRICS_COLUMNS
    assert metrics["model"].unique().tolist() == ["mlr", "xgb"]
    assert set(metrics["metric"]) == {"mae", "mse", "spearman", "best_rank_pct"}
    assert all(f.startswith("s_") for f in json.loads(metrics["features"].iloc[0]))
    predictions = read_table(
        out / SIMSTATS_FILES["simstats_predictions"], "simstats_predictions", unit
    )
    assert parquet_schema(out / SIMSTATS_FILES["simstats_predictions"]) == (
        SIMSTATS_PREDICTION_COLUMNS
    )
    n_valid = int(
        (read_table(root / "measured.parquet", "measured", unit)["status"] == "valid").sum()
    )
    first = metrics.iloc[0]
    assert first["n_train"] == max(6, int(np.ceil(0.1 * n_valid)))
    assert first["n_train"] + first["n_test"] == n_valid == len(predictions) / 2
    # the stored best_rank_pct is the one the stored predictions give
    test = predictions[(predictions["split"] == "test") & (predictions["predictor"] == "mlr")]
    # measured in predicted order (slower configurations first among ties), the first of the
    # truly fastest (every one that shares the least latency) comes this many places in
    order = test.assign(fastest=test["latency_us"] == test["latency_us"].min())
    order = order.sort_values(["predicted_us", "fastest"], kind="stable")
    rank = 100 * (int(np.argmax(order["fastest"].to_numpy())) + 1) / len(test)
    stored = metrics.set_index(["model", "metric"]).loc[("mlr", "best_rank_pct"), "value"]
    assert stored == pytest.approx(rank)
    assert read_table(out / SIMSTATS_FILES["simstats_search"], "simstats_search").empty
    assert not (out / "simstats.journal").exists()


def test_stage_reads_its_statistics_through_the_checked_reader(unit_dir, tmp_path):
    unit, root = unit_dir
    with pytest.raises(TableError, match="a measured table, expected simstats"):
        run_simstats(unit, root / "measured.parquet", root / "measured.parquet", tmp_path, FAST)
