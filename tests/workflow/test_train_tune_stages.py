"""The train and tune stages as functions on a 128-configuration unit, and `export-autotvm`."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest

from ml2tuner.cli import main
from ml2tuner.models import XGBModel
from ml2tuner.stages import run_train, run_tune
from ml2tuner.stages.tune import STRATEGIES
from ml2tuner.tuners import TUNERS
from ml2tuner.workflow import read_metadata, read_table
from ml2tuner.workflow.columns import (
    METRICS_COLUMNS,
    SPLIT_COLUMNS,
    search_columns,
    tuning_columns,
)
from ml2tuner.workflow.config import Unit, config_schema

# Small-space options so each model-based phase starts within a budget of 30.
FAST_OPTIONS = {
    "random": {},
    "autotvm": {"plan_size": 10, "n_iter": 40},
    "hwinit": {"plan_size": 10, "n_iter": 40},
    "ml2tuner": {"n_random": 10, "num_boost_round": 15},
    "ml2tuner_plus": {"n_random": 10, "num_boost_round": 15},
    "active": {"n_init": 10, "num_boost_round": 10, "n_models": 2},
    "optuna": {"n_startup_trials": 5, "batch_size": 2, "max_retries": 1},
    "simstats": {"n_init": 10},
}
FAST_MODEL = {"train_fraction": 0.75, "n_estimators": 20}


@pytest.fixture(scope="module")
def unit_dir(tmp_path_factory, unit_tables):
    """The micro unit's space, compiled and measured tables (a copy), and its models."""
    _, tables = unit_tables
    root = tmp_path_factory.mktemp("unit")
    shutil.copytree(tables, root, dirs_exist_ok=True)
    _train(root, root / "models", FAST_MODEL, seed=0)
    return root


def _unit(root):
    """The unit the tables in ``root`` were built for."""
    return Unit.from_metadata(read_metadata(root / "measured.parquet"))


def _train(root, out, settings, seed):
    run_train(
        _unit(root),
        root / "space.parquet",
        root / "compiled.parquet",
        root / "measured.parquet",
        out,
        settings,
        seed=seed,
    )
    return out


def _tune(root, out, strategy, seed, budget=30, settings=None):
    run_tune(
        _unit(root),
        root / "space.parquet",
        root / "compiled.parquet",
        root / "measured.parquet",
        out,
        strategy,
        seed,
        budget,
        FAST_OPTIONS[strategy] if settings is None else settings,
        statistics_path=root / "simstats.parquet",
    )
    return out


# ---- train -----------------------------------------------------------------------------------


def test_train_writes_three_models_and_their_heldout_metrics(parquet_schema, unit_dir):
    models = unit_dir / "models"
    metrics = read_table(models / "metrics.parquet", "metrics")
    assert parquet_schema(models / "metrics.parquet") == METRICS_COLUMNS
    by = metrics.set_index(["model", "metric"])["value"]
    assert 0 < by[("P", "rmse")] < 1 and 0 < by[("A", "rmse")] < 1
    assert {"accuracy", "precision", "recall", "roc_auc"} <= set(by["V"].index)
    assert by[("V", "accuracy")] > by[("V", "majority_accuracy")]
    assert 0 <= by[("P", "top_k_recall")] <= 1
    features = {
        m: json.loads(f)
        for m, f in metrics.drop_duplicates("model").set_index("model")["features"].items()
    }
    assert features["P"] == features["V"] and not any(f.startswith("h_") for f in features["P"])
    assert features["A"][: len(features["P"])] == features["P"]
    assert any(f.startswith("h_") for f in features["A"])
    for role in "PVA":
        model = XGBModel.load(models / f"{role}.json")
        assert model.feature_names == features[role]
    split = read_table(models / "split.parquet", "split")
    assert parquet_schema(models / "split.parquet") == SPLIT_COLUMNS and len(split) == 128
    v = metrics[metrics["model"] == "V"].iloc[0]
    assert (split["split"] == "test").sum() == v["n_test"] == 128 - v["n_train"]
    assert parquet_schema(models / "search.parquet") == search_columns()
    assert read_table(models / "search.parquet", "search").empty  # optuna_trials 0: no search
    assert not (models / "optuna.journal").exists()
    meta = read_metadata(models / "metrics.parquet")
    assert meta["stage"] == "train" and meta["top_k"] == "10"
    assert json.loads(meta["config_section"])["model"]["n_estimators"] == 20


def test_training_is_deterministic(unit_dir, tmp_path):
    again = _train(unit_dir, tmp_path / "models", FAST_MODEL, seed=0)
    for name in ("metrics.parquet", "split.parquet"):
        pd.testing.assert_frame_equal(
            read_table(again / name, name[:-8]), read_table(unit_dir / "models" / name, name[:-8])
        )
    for role in "PVA":
        assert (again / f"{role}.json").read_bytes() == (
            unit_dir / "models" / f"{role}.json"
        ).read_bytes()


def test_search_is_recorded_and_resumes_from_its_journal(parquet_schema, unit_dir, tmp_path):
    out = _train(unit_dir, tmp_path / "models", {**FAST_MODEL, "optuna_trials": 2}, seed=1)
    first = read_table(out / "search.parquet", "search")
    assert parquet_schema(out / "search.parquet") == search_columns()
    assert first["model"].tolist() == ["P"] * 2 + ["V"] * 2 + ["A"] * 2
    assert first.groupby("model")["best"].sum().tolist() == [1, 1, 1]
    assert (first["state"] == "COMPLETE").all() and (out / "optuna.journal").exists()
    params = read_table(out / "metrics.parquet", "metrics").drop_duplicates("model")["params_json"]
    best = first[first["best"]].set_index("model")
    for role, text in zip("PVA", params, strict=True):
        assert json.loads(text)["num_boost_round"] == best.loc[role, "params_num_boost_round"]
    # a longer search resumes the same studies: the first trials are not run again
    longer = read_table(
        _train(unit_dir, out, {**FAST_MODEL, "optuna_trials": 3}, seed=1) / "search.parquet",
        "search",
    )
    assert len(longer) == 9
    kept = longer.groupby("model", sort=False).head(2).reset_index(drop=True)
    pd.testing.assert_frame_equal(
        kept.drop(columns=["duration_s", "best"]), first.drop(columns=["duration_s", "best"])
    )


# ---- tune ------------------------------------------------------------------------------------


def test_strategies_are_the_registry_and_the_schema():
    schema_names = config_schema()["$defs"]["tuner"]["enum"]
    assert set(STRATEGIES) == set(TUNERS) == set(schema_names) == set(FAST_OPTIONS)


@pytest.mark.parametrize("strategy", sorted(TUNERS))
def test_every_strategy_replays_measured_without_repeats(
    parquet_schema, unit_dir, tmp_path, strategy
):
    out = _tune(unit_dir, tmp_path / "t.parquet", strategy, seed=1)
    trials = read_table(out, "tuning")
    space = read_table(unit_dir / "space.parquet", "space")
    knobs = [c for c in space.columns if c not in ("config_id", "knobs_json")]
    assert parquet_schema(out) == tuning_columns(knobs)
    assert trials["trial"].tolist() == list(range(30)) and trials["config_id"].is_unique
    measured = read_table(unit_dir / "measured.parquet", "measured").set_index("config_id")
    assert (trials["status"].to_numpy() == measured.loc[trials["config_id"], "status"]).all()
    assert (
        trials[knobs].to_numpy()
        == space.set_index("config_id").loc[trials["config_id"], knobs].to_numpy()
    ).all()
    valid_so_far = trials["latency_us"].where(trials["status"] == "valid").cummin().ffill()
    assert np.allclose(trials["best_latency_us"], valid_so_far, equal_nan=True)
    meta = read_metadata(out)
    assert (meta["strategy"], meta["seed"], meta["stage"]) == (strategy, "1", "tune")
    assert json.loads(meta["tuner_settings"])["batch_size"] >= 1
    if strategy == "ml2tuner":  # after the random start, every proposal has all three scores
        scored = trials.loc[trials["trial"] >= 10, ["p_score", "v_prob", "a_score"]]
        assert scored.notna().all(axis=1).mean() > 0.8
    if strategy == "random":
        assert trials[["p_score", "v_prob", "a_score"]].isna().all().all()


def test_tuning_is_seeded_and_budget_capped(unit_dir, tmp_path):
    runs = [
        read_table(_tune(unit_dir, tmp_path / f"{i}.parquet", "ml2tuner", seed), "tuning")
        for i, seed in enumerate((5, 5, 6))
    ]
    pd.testing.assert_frame_equal(
        runs[0].drop(columns="tuner_wall_s"), runs[1].drop(columns="tuner_wall_s")
    )
    assert runs[0]["config_id"].tolist() != runs[2]["config_id"].tolist()
    whole = read_table(
        _tune(unit_dir, tmp_path / "all.parquet", "random", 0, budget=1000), "tuning"
    )
    assert sorted(whole["config_id"]) == list(range(128))


def test_bad_strategy_options_are_refused(unit_dir, tmp_path):
    with pytest.raises(ValueError, match="unknown strategy"):
        _tune(unit_dir, tmp_path / "x.parquet", "grid", seed=0, settings={})
    with pytest.raises(ValueError, match="unknown option"):
        _tune(unit_dir, tmp_path / "x.parquet", "ml2tuner", seed=0, settings={"n_rand": 3})


def test_tuning_reads_no_model_of_the_train_stage(unit_dir, tmp_path):
    """The tune rule's inputs are space, compiled, measured and the counting pass's statistics
    only: the tuners train online."""
    bare = tmp_path / "unit"
    bare.mkdir()
    for name in ("space.parquet", "compiled.parquet", "measured.parquet", "simstats.parquet"):
        (bare / name).write_bytes((unit_dir / name).read_bytes())
    alone = read_table(_tune(bare, tmp_path / "alone.parquet", "ml2tuner", seed=3), "tuning")
    beside = read_table(_tune(unit_dir, tmp_path / "beside.parquet", "ml2tuner", seed=3), "tuning")
    pd.testing.assert_frame_equal(
        alone.drop(columns="tuner_wall_s"), beside.drop(columns="tuner_wall_s")
    )


# ---- ml2tuner export-autotvm -----------------------------------------------------------------


def test_export_autotvm_writes_one_record_per_trial(unit_dir, tmp_path, capsys):
    trials_path = _tune(unit_dir, tmp_path / "t.parquet", "ml2tuner", seed=2, budget=12)
    out = tmp_path / "run.jsonl"
    space_path = unit_dir / "space.parquet"
    argv = ["export-autotvm", str(trials_path), "--out", str(out), "--space", str(space_path)]
    assert main(argv) == 0
    assert "12 records" in capsys.readouterr().out
    records = [json.loads(line) for line in out.read_text().splitlines()]
    trials = read_table(trials_path, "tuning")
    space = read_table(unit_dir / "space.parquet", "space").set_index("config_id")
    assert [r["config"]["index"] for r in records] == trials["config_id"].tolist()
    first = records[0]
    assert first["input"][0].startswith("ext_dev -keys=vta,cpu -device=vta -model=pynq_")
    knobs = json.loads(space.loc[trials["config_id"].iloc[0], "knobs_json"])
    assert first["config"]["entity"] == [[k, "ot", v] for k, v in knobs.items()]
    for record, (status, error_no, latency) in zip(
        records, trials[["status", "error_no", "latency_us"]].itertuples(index=False), strict=True
    ):
        assert record["result"][1] == error_no
        expected = latency * 1e-6 if status == "valid" else 1e9
        assert record["result"][0][0] == pytest.approx(expected)


@pytest.mark.parametrize("which", ["metrics", "missing", "not_parquet"])
def test_export_autotvm_bad_input_is_one_line_exit_2(unit_dir, tmp_path, capsys, which):
    path = {
        "metrics": unit_dir / "models/metrics.parquet",
        "missing": tmp_path / "nope.parquet",
        "not_parquet": unit_dir / "models/P.json",
    }[which]
    code = main(["export-autotvm", str(path), "--out", str(tmp_path / "x.jsonl")])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("ml2tuner: error:") and err.count("\n") == 1
    assert not (tmp_path / "x.jsonl").exists()
