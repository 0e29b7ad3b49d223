"""The summary and report stages on the tiny experiment: every file is written, and the numbers
equal those recomputed here, independently, from the trial logs and the measured tables."""

from __future__ import annotations

import json
import math
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from ml2tuner.report.build import figure_names
from ml2tuner.report.markdown import render_summary
from ml2tuner.report.model_metrics import RocCurve, validity_roc
from ml2tuner.report.results import UnitKey, validity_map
from ml2tuner.report.stats import VERDICTS, verdict
from ml2tuner.stages import run_report, run_summary
from ml2tuner.stages.summary import summarise
from ml2tuner.workflow import read_metadata, read_table
from ml2tuner.workflow.columns import SUMMARY_TABLES
from ml2tuner.workflow.config import config_hash

NEVER = 1e18  # a run that never got there, for pandas' quantiles


@pytest.fixture(scope="module")
def reported(tiny_experiment, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("out")
    run_summary(
        tiny_experiment.measured,
        tiny_experiment.tuning,
        tiny_experiment.metrics,
        out / "summary",
        units=tiny_experiment.units,
    )
    run_report(
        out / "summary",
        out / "report" / "summary.md",
        unit_dirs=dict(zip(tiny_experiment.units, tiny_experiment.unit_dirs, strict=True)),
        figures_dir=out / "report",
    )
    return out


def recompute(tiny_experiment) -> pd.DataFrame:
    """Per run: final best, samples to the top-1 % cut, to within 1 %, to match autotvm,
    invalid share."""
    optimum, cut = {}, {}
    for path in tiny_experiment.measured:
        m = pd.read_parquet(path)
        valid = m.loc[m["status"] == "valid", "latency_us"]
        optimum[path.parts[-3]] = valid.min()
        cut[path.parts[-3]] = np.percentile(valid, 1)
    logs = {}
    for path in tiny_experiment.tuning:  # .../{layer}/nestc/tuning/{strategy}/seed{k}.parquet
        layer, strategy, seed = path.parts[-5], path.parts[-2], int(path.stem[4:])
        logs[(layer, strategy, seed)] = pd.read_parquet(path)
    rows = []
    for (layer, strategy, seed), log in logs.items():
        best = log["latency_us"].where(log["status"] == "valid").cummin()
        ref_log = logs[(layer, "autotvm", seed)]
        reference = ref_log.loc[ref_log["status"] == "valid", "latency_us"].min()

        def first(mask):
            hits = np.flatnonzero(mask.to_numpy())
            return hits[0] + 1 if hits.size else NEVER

        rows.append(
            {
                "layer": layer,
                "strategy": strategy,
                "seed": seed,
                "final": log.loc[log["status"] == "valid", "latency_us"].min(),
                "to_cut": first(best <= cut[layer]),
                "to_best": first(best <= optimum[layer] * 1.01),
                "to_match": first(best <= reference),
                "invalid": (log["status"] != "valid").mean(),
            }
        )
    return pd.DataFrame(rows)


def median(values: pd.Series) -> float:
    q = values.median()
    return math.inf if q >= NEVER / 2 else q


def test_every_report_file_is_written(reported, tiny_experiment):
    units = [UnitKey("pynq", layer, "nestc") for layer in ("M", "N")]
    for stem in figure_names(units):
        png = (reported / "report" / f"{stem}.png").read_bytes()
        assert png.startswith(b"\x89PNG") and len(png) > 10_000, stem
        root = ET.parse(reported / "report" / f"{stem}.svg").getroot()
        assert root.tag.endswith("svg"), stem
    assert {p.stem for p in (reported / "report").glob("*.png")} == set(figure_names(units))
    for name in SUMMARY_TABLES:
        meta = read_metadata(reported / "summary" / f"{name}.parquet")
        assert meta["stage"] == "summary" and "config_hash" in meta
        # a digest per kind of input, not every input's hash (the full run has 7,200 logs)
        section = json.loads(meta["config_section"])
        assert set(section) == {"measured", "tuning", "metrics"}
        hashes = [read_metadata(p)["config_hash"] for p in tiny_experiment.tuning]
        assert section["tuning"] == {
            "n": len(tiny_experiment.tuning),
            "sha256": config_hash({"inputs": hashes}),
        }
    text = (reported / "report" / "summary.md").read_text()
    assert text.startswith("# ml2tuner results")
    for stem in figure_names(units):
        assert f"]({stem}.png)" in text


def test_run_metrics_equal_the_trial_logs(reported, tiny_experiment):
    expected = recompute(tiny_experiment).set_index(["layer", "strategy", "seed"]).sort_index()
    runs = read_table(reported / "summary" / "runs.parquet", "runs")
    runs = runs.set_index(["layer", "strategy", "seed"]).sort_index()
    assert len(runs) == 2 * len(tiny_experiment.strategies) * len(tiny_experiment.seeds)
    assert (runs["n_trials"] == tiny_experiment.budget).all()
    np.testing.assert_allclose(runs["final_best_latency_us"], expected["final"])
    for column, mine in (("samples_to_cut", "to_cut"), ("samples_to_best", "to_best")):
        np.testing.assert_array_equal(
            runs[column], expected[mine].where(expected[mine] < NEVER, -1)
        )
    np.testing.assert_allclose(
        runs["best_over_optimum"], expected["final"] / runs["optimum_latency_us"]
    )
    np.testing.assert_array_equal(
        runs["samples_to_match"], expected["to_match"].where(expected["to_match"] < NEVER, -1)
    )
    np.testing.assert_allclose(runs["invalid_share"], expected["invalid"])


def test_strategy_medians_claims_and_markdown_equal_the_trial_logs(reported, tiny_experiment):
    expected = recompute(tiny_experiment)
    strategies = read_table(reported / "summary" / "strategies.parquet", "strategies")
    claims = read_table(reported / "summary" / "claims.parquet", "claims")
    text = (reported / "report" / "summary.md").read_text()
    sections = dict(re.findall(r"## (\w+) on pynq, template nestc\n(.*?)(?=\n## |\Z)", text, re.S))
    for (layer, strategy), group in expected.groupby(["layer", "strategy"]):
        row = strategies[
            (strategies["layer"] == layer) & (strategies["strategy"] == strategy)
        ].iloc[0]
        for column, prefix in (
            ("to_cut", "samples_to_cut"),
            ("to_best", "samples_to_best"),
            ("to_match", "samples_to_match"),
            ("invalid", "invalid_share"),
        ):
            assert row[f"{prefix}_median"] == pytest.approx(median(group[column]))
            assert row[f"{prefix}_ci_low"] <= row[f"{prefix}_median"] <= row[f"{prefix}_ci_high"]
        assert re.search(rf"^\| {strategy} \| {len(group)} \| ", sections[layer], re.M)
    for layer, group in expected.groupby("layer"):
        mine = claims[claims["layer"] == layer].set_index("claim")
        by = {s: g for s, g in group.groupby("strategy")}
        ml2, atvm = by["ml2tuner"]["to_cut"], by["autotvm"]["to_cut"]
        ratio = median(ml2) / median(atvm)
        for claim in ("samples_only", "samples_fewer"):
            row = mine.loc[claim]
            assert row["ratio"] == pytest.approx(ratio)
            assert row["p_value"] == pytest.approx(stats.mannwhitneyu(ml2, atvm).pvalue)
            assert row["verdict"] == verdict(row["ci_low"], row["ci_high"], row["claimed_ratio"])
        if by["autotvm"]["invalid"].median() > 0:
            invalid = by["ml2tuner"]["invalid"].median() / by["autotvm"]["invalid"].median()
            assert mine.loc["invalid_by", "ratio"] == pytest.approx(invalid)
        else:  # N: every configuration is valid, so neither run measured an invalid one
            assert mine.loc["invalid_by", "verdict"] == "not testable"
        metrics = pd.read_parquet(
            tiny_experiment.root / f"results/pynq/{layer}/nestc/models/metrics.parquet"
        ).set_index(["model", "metric"])["value"]
        ratio = metrics[("A", "rmse")] / metrics[("P", "rmse")]
        assert mine.loc["rmse", "ratio"] == pytest.approx(ratio)
        assert mine.loc["rmse", "verdict"] == "inconclusive"
        assert f"{100 * ratio:.1f} %" in sections[layer]
    groups = re.search(r"by board and template:\n\n(.*?)\n\n", text, re.S).group(1)
    assert groups.splitlines()[0] == "| claim | pynq (nestc) |"  # the tiny run's one group
    for claim, group in claims.groupby("claim"):
        row = re.search(rf"^\| {claim} \| (.*) \|$", groups, re.M).group(1)
        assert [int(n) for n in row.split(" / ")] == [
            int((group["verdict"] == v).sum()) for v in VERDICTS
        ]
    assert "| **paper** |" in text and "91.6 %" in text
    assert "## The paper's claims" in text and "## Strategies over all spaces" in text
    assert "only 12.3 % of the samples" in text and "12.3 % fewer samples" in text


def test_spaces_and_curves_equal_the_measured_tables(reported, tiny_experiment):
    spaces = read_table(reported / "summary" / "spaces.parquet", "spaces").set_index("layer")
    curves = read_table(reported / "summary" / "curves.parquet", "curves")
    expected = recompute(tiny_experiment)
    for path in tiny_experiment.measured:
        m = pd.read_parquet(path)
        layer = path.parts[-3]
        counts = m["status"].value_counts()
        assert spaces.loc[layer, "n_configs"] == len(m)
        assert spaces.loc[layer, "n_valid"] == counts.get("valid", 0)
        assert spaces.loc[layer, "n_wrong_answer"] == counts.get("wrong_answer", 0)
        last = curves[
            (curves["layer"] == layer) & (curves["n_measurements"] == tiny_experiment.budget)
        ]
        for row in last.itertuples():
            finals = expected[
                (expected["layer"] == layer) & (expected["strategy"] == row.strategy)
            ]["final"]
            assert row.best_latency_us_median == pytest.approx(finals.median())


def test_validity_map_and_roc_from_the_unit_tables(tiny_experiment):
    unit, unit_dir = tiny_experiment.units[0], tiny_experiment.unit_dirs[0]  # M: valid, wrong
    space, measured = (
        read_table(unit_dir / f"{n}.parquet", n, unit) for n in ("space", "measured")
    )
    vmap = validity_map(space, measured, UnitKey("pynq", "M", "nestc"))
    assert not vmap.aggregated and len(vmap.panels) == space["n_vthread"].nunique()
    codes = np.concatenate([p.status[p.status >= 0] for p in vmap.panels])
    assert np.bincount(codes, minlength=5).tolist() == [
        int((measured["status"] == s).sum()) for s in vmap.statuses
    ]
    best = np.nanmin([np.nanmin(p.latency) for p in vmap.panels])
    assert best == measured.loc[measured["status"] == "valid", "latency_us"].min()
    metrics = pd.read_parquet(unit_dir / "models/metrics.parquet")
    v = metrics[metrics["model"] == "V"].set_index("metric")
    roc = validity_roc(unit, unit_dir, v.loc["roc_auc", "value"])
    assert isinstance(roc, RocCurve) and roc.note == ""
    assert roc.n_test == v.loc["roc_auc", "n_test"]
    assert roc.auc == pytest.approx(v.loc["roc_auc", "value"])
    # N: every configuration is valid
    one_class = validity_roc(tiny_experiment.units[1], tiny_experiment.unit_dirs[1])
    assert isinstance(one_class, str) and "one class" in one_class


def test_a_strategy_with_a_longer_budget_is_compared_on_the_references(tiny_experiment):
    """autotvm's runs cut to half the budget: the other strategies keep their whole runs in
    ``runs`` and ``strategies``, are compared with autotvm on their first half only, and the
    aggregate score's window ends where autotvm stopped."""
    half = tiny_experiment.budget // 2
    measured, tuning = {}, []
    for unit, path in zip(tiny_experiment.units, tiny_experiment.measured, strict=True):
        measured[unit.key] = read_table(path, "measured", unit)[
            ["config_id", "status", "latency_us"]
        ]
    for path in tiny_experiment.tuning:
        meta, trials = read_metadata(path), read_table(path, "tuning")
        tuning.append((meta, trials.iloc[:half] if meta["strategy"] == "autotvm" else trials))
    tables = summarise(measured, tuning, {})
    runs, expected = tables["runs"], recompute(tiny_experiment)
    assert set(runs.loc[runs["strategy"] == "autotvm", "n_trials"]) == {half}
    assert set(runs.loc[runs["strategy"] != "autotvm", "n_trials"]) == {tiny_experiment.budget}
    strategies = tables["strategies"].set_index(["layer", "strategy"])
    comparisons = tables["comparisons"].set_index(["layer", "strategy", "metric"])
    for (layer, strategy), group in expected[expected["strategy"] != "autotvm"].groupby(
        ["layer", "strategy"]
    ):
        whole = group["invalid"].median()
        first_half = [
            (trials["status"].iloc[:half] != "valid").mean()
            for meta, trials in tuning
            if (meta["layer"], meta["strategy"]) == (layer, strategy)
        ]
        assert strategies.loc[(layer, strategy), "invalid_share_median"] == pytest.approx(whole)
        compared = comparisons.loc[(layer, strategy, "invalid_share"), "median"]
        assert compared == pytest.approx(np.median(first_half))
    assert tables["scores"]["n_measurements"].max() <= half
    text = render_summary(tables, [])
    assert f"budget {tiny_experiment.budget} measurements per run (autotvm: {half})" in text
