"""The report's simulation-statistics section: top-k curve, top-1 % cut, tables, figures."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ml2tuner.models.metrics import best_rank_pct
from ml2tuner.report import simstats as report


def _predictions(seed=0, n=200):
    rng = np.random.default_rng(seed)
    rows = []
    for unit in ("u/C2/nestc", "u/C4/nestc"):
        latency = rng.uniform(10, 100, n)
        for model, noise in (("mlr", 5.0), ("forest", 40.0)):
            rows.append(
                pd.DataFrame(
                    {
                        "unit": unit,
                        "config_id": np.arange(n),
                        "split": np.where(np.arange(n) < 10, "train", "test"),
                        "predictor": model,
                        "latency_us": latency,
                        "predicted_us": latency + rng.normal(0, noise, n),
                    }
                )
            )
    return pd.concat(rows, ignore_index=True)


def test_topk_curve_reaches_the_optimum_at_best_rank_pct():
    predictions = _predictions()
    curves = report.topk_curves(predictions)
    for (unit, model), curve in curves.groupby(["unit", "model"]):
        ratio = curve["best_ratio"].to_numpy()
        assert (np.diff(ratio) <= 0).all() and ratio[-1] == 1.0 and ratio[0] >= 1.0
        test = predictions[
            (predictions["unit"] == unit)
            & (predictions["predictor"] == model)
            & (predictions["split"] == "test")
        ]
        reached = curve["share_pct"].to_numpy()[np.argmax(ratio <= 1.0)]
        assert reached == pytest.approx(best_rank_pct(test["latency_us"], test["predicted_us"]))


def test_samples_to_cut_and_its_summary_over_seeds():
    measured = pd.DataFrame(
        {
            "status": ["valid"] * 101 + ["timeout"],
            "latency_us": [*np.arange(1.0, 102.0), np.nan],
        }
    )
    cut = report.latency_cut(measured)
    assert cut == pytest.approx(2.0)  # 1st percentile of 1..101
    trials = pd.DataFrame({"best_latency_us": [np.nan, 50.0, 3.0, 2.0, 1.0]})
    assert report.samples_to_cut(trials, cut) == 4
    assert report.samples_to_cut(trials.iloc[:3], cut) == np.inf
    runs = pd.DataFrame(
        {
            "unit": "u",
            "strategy": ["a"] * 3 + ["b"] * 2,
            "seed": [0, 1, 2, 0, 1],
            "samples_to_cut": [4.0, 10.0, np.inf, 7.0, 9.0],
        }
    )
    summary = report.cut_summary(runs).set_index("strategy")
    assert summary.loc["a", "median"] == 10.0 and summary.loc["a", "q75"] == np.inf
    assert summary.loc["a", "reached_share"] == pytest.approx(2 / 3)
    assert summary.loc["b", "median"] == 8.0 and summary.loc["b", "n_seeds"] == 2


@pytest.mark.parametrize("n_units", [1, 13])
def test_figures_wrap_their_panels_within_the_width_limit(n_units):
    # the full run has 40 units, one row of panels was 33,300 pixels wide; 13 need several rows
    units = [f"u/C{i}/nestc" for i in range(n_units)]
    predictions = pd.concat([_predictions().assign(unit=u) for u in units], ignore_index=True)
    runs = pd.DataFrame(
        {"unit": np.repeat(units, 9), "strategy": list(map(str, range(9))) * n_units, "seed": 0}
    ).assign(samples_to_cut=50.0)
    metrics = pd.DataFrame(columns=["unit", "model", "metric", "value"])
    figures = [
        report.plot_predicted_vs_measured(predictions, metrics),
        report.plot_topk(report.topk_curves(predictions)),
        report.plot_samples_to_cut(runs, dict.fromkeys(units, 200)),
    ]
    n_models = predictions["predictor"].nunique()
    for fig, n_panels in zip(figures, [n_units * n_models, n_units, n_units], strict=True):
        assert len(fig.axes) == n_panels
        assert fig.get_figwidth() <= report.MAX_WIDTH_IN
    # a unit's predictors stay side by side on one row
    fit = figures[0]
    rows = [round(ax.get_position().y0, 3) for ax in fit.axes]
    assert all(len(set(rows[i : i + n_models])) == 1 for i in range(0, len(rows), n_models))


def test_tables_and_figures_cover_every_unit_and_predictor():
    predictions = _predictions()
    metrics = pd.DataFrame(
        [
            {"unit": u, "model": m, "metric": k, "value": v, "n_train": 10, "n_test": 190}
            for u in ("u/C2/nestc", "u/C4/nestc")
            for m in ("mlr", "forest")
            for k, v in (("mae", 1.0), ("mse", 2.0), ("spearman", 0.9), ("best_rank_pct", 1.5))
        ]
    )
    table = report.metrics_table(metrics)
    assert len(table) == 4 and {"mae", "mse", "spearman", "best_rank_pct"} <= set(table.columns)
    fit = report.plot_predicted_vs_measured(predictions, metrics)
    assert len(fit.axes) == 4
    assert len(report.plot_topk(report.topk_curves(predictions)).axes) == 2
    runs = pd.DataFrame(
        {
            "unit": "u/C2/nestc",
            "strategy": ["autotvm", "simstats"],
            "seed": 0,
            "samples_to_cut": [80.0, np.inf],
        }
    )
    assert len(report.plot_samples_to_cut(runs, {"u/C2/nestc": 200}).axes) == 1
    text = report.render_simstats(table, report.cut_summary(runs), [("t", "f.png")])
    assert "| u/C4/nestc | forest | 10 | 190 |" in text and "| never |" in text
    assert "![t](f.png)" in text


def test_topk_curve_counts_ties_against_the_predictor():
    flat = pd.DataFrame(
        {
            "unit": "u",
            "split": "test",
            "predictor": "constant",
            "latency_us": [3.0, 1.0, 2.0, 4.0],
            "predicted_us": 5.0,
        }
    )
    curve = report.topk_curves(flat)
    assert curve["best_ratio"].tolist() == [4.0, 3.0, 2.0, 1.0]  # the best comes last
