"""Tuner overhead per trial, for every strategy, on a replay measurer over a real measured table.

Usage::

    python benchmarks/tuner_overhead.py                      # zcu102 / C2 / nestc, budget 200
    python benchmarks/tuner_overhead.py --tables results/zcu102/C2/nestc --budget 300

Without ``--tables`` the three tables are built once by running the VTA model over the whole
space (about two minutes for C2 on two cores) and cached under ``--cache``. The overhead is
the wall time spent in ``propose`` + ``observe`` (the trial log's ``tuner_wall_s``); it is
printed beside the cost of measuring one configuration live (compile + timing simulation), so
one can see whether the tuner or the measurement dominates a run.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
import xgboost
from machine import describe

from ml2tuner.measure import ReplayMeasurer
from ml2tuner.stages import measure_space
from ml2tuner.tuners import TUNERS, TuningSpace, make_tuner, run_tuning
from ml2tuner.vta.target import get_target
from ml2tuner.vta.workload import get_layer

TABLES = ("space", "compiled", "measured")


def load_tables(args: argparse.Namespace) -> tuple[dict[str, pd.DataFrame], float]:
    """The three tables and the live cost of one measurement (s)."""
    layer, target = get_layer(args.layer), get_target(args.target)
    folder = (
        Path(args.tables)
        if args.tables
        else Path(args.cache) / f"{args.target}_{args.layer}_{args.template}"
    )
    if all((folder / f"{name}.parquet").exists() for name in TABLES):
        tables = {name: pd.read_parquet(folder / f"{name}.parquet") for name in TABLES}
        from ml2tuner.measure import LiveMeasurer  # time a few live measurements

        live = LiveMeasurer(layer, target, args.template)
        ids = tables["space"]["config_id"].sample(51, random_state=0).tolist()
        live.measure(ids[:1])  # the first call compiles the numba simulator
        start = time.perf_counter()
        live.measure(ids[1:])
        return tables, (time.perf_counter() - start) / (len(ids) - 1)
    print(
        f"building the tables of {args.target}/{args.layer}/{args.template} "
        f"(cached in {folder}) ...",
        flush=True,
    )
    start = time.perf_counter()
    tables = dict(zip(TABLES, measure_space(layer, target, args.template), strict=True))
    per_config = (time.perf_counter() - start) / len(tables["space"])
    folder.mkdir(parents=True, exist_ok=True)
    for name, table in tables.items():
        table.to_parquet(folder / f"{name}.parquet")
    return tables, per_config


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", default="zcu102")
    parser.add_argument("--layer", default="C2")
    parser.add_argument("--template", default="nestc")
    parser.add_argument("--budget", type=int, default=200)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--strategies", nargs="*", default=sorted(TUNERS))
    parser.add_argument("--tables", help="a results/{target}/{layer}/{template} directory")
    parser.add_argument("--cache", default=str(Path.home() / ".cache" / "ml2tuner-bench"))
    args = parser.parse_args()

    print(f"{describe()}; xgboost {xgboost.__version__}, optuna {optuna.__version__}")
    tables, live_s = load_tables(args)
    layer, target = get_layer(args.layer), get_target(args.target)
    space = TuningSpace(tables["space"], layer, target, tables["compiled"], template=args.template)
    measured = tables["measured"]
    valid = measured["status"] == "valid"
    optimum = measured.loc[valid, "latency_us"].min()
    print(
        f"space: {args.target}/{args.layer}/{args.template}, {space.n} configurations, "
        f"{valid.mean():.1%} valid, optimum {optimum:.1f} µs"
    )
    print(f"live measurement (compile + timing simulation): {live_s * 1e3:.1f} ms/config")
    print(f"budget {args.budget}, seeds 0..{args.seeds - 1}, default settings, replay measurer\n")
    header = (
        f"{'strategy':<10}{'ms/trial':>10}{'max ms/batch':>14}{'vs live':>9}"
        f"{'invalid':>9}{'best/opt':>10}"
    )
    print(header)
    print("-" * len(header))
    for name in args.strategies:
        per_trial, per_batch, invalid, ratio = [], [], [], []
        for seed in range(args.seeds):
            tuner = make_tuner(name, space, seed=seed)
            log = run_tuning(tuner, ReplayMeasurer(measured), args.budget)
            per_trial.append(log["tuner_wall_s"].sum() / len(log))
            per_batch.append((log.groupby("batch")["tuner_wall_s"].sum()).max())
            invalid.append((log["status"] != "valid").mean())
            ratio.append(log["best_latency_us"].iloc[-1] / optimum)
        ms = 1e3 * float(np.mean(per_trial))
        print(
            f"{name:<10}{ms:>10.2f}{1e3 * max(per_batch):>14.1f}"
            f"{ms / (1e3 * live_s):>8.1%} {np.mean(invalid):>8.1%}"
            f"{np.nanmedian(ratio):>10.3f}"
        )
    print(
        "\nms/trial: tuner wall time (propose + observe) per measurement, mean over seeds; "
        "vs live: that as a share of one live measurement; best/opt: median over seeds of "
        "the best latency found / the space's optimum."
    )


if __name__ == "__main__":
    main()
