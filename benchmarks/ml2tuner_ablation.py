"""ml2tuner's options, one change at a time, against autotvm on a finished workflow's tables.

Usage::

    python benchmarks/ml2tuner_ablation.py --results results --seeds 10 20
    python benchmarks/ml2tuner_ablation.py --variant 'n_random=32' --variant 'v_threshold=0.7'

Runs ``autotvm`` (defaults) and each ``ml2tuner`` variant in-process on the replay measurer of
every unit under ``--results`` for seeds ``[start, stop)``, and prints per unit and variant:
median samples to within 1 % of the optimum (runs that never get there count as more than the
budget), median samples to match autotvm's final best of the same seed, mean invalid share,
and the invalid share after the first 64 trials. Pass seeds the workflow did not use (e.g.
``--seeds 10 30``) to check a change on runs it was not chosen on.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd

from ml2tuner.measure import ReplayMeasurer
from ml2tuner.tuners import TuningSpace, make_tuner, run_tuning
from ml2tuner.workflow.config import Unit
from ml2tuner.workflow.tables import read_metadata, read_table

DEFAULT_VARIANTS = [
    "",
    "n_random=32",
    "n_random=16",
    "v_threshold=0.7",
    "v_threshold=0.3",
    "objective=reg:squarederror",
    "n_candidates=32",
    "n_candidates=128",
    "epsilon=0",
]


def parse_variant(text: str) -> dict:
    options = {}
    for item in filter(None, text.split(",")):
        key, value = item.split("=", 1)
        try:
            options[key] = json.loads(value)
        except json.JSONDecodeError:
            options[key] = value
    return options


def first_reaching(best: np.ndarray, level: float) -> float:
    hits = np.flatnonzero(np.nan_to_num(best, nan=np.inf) <= level)
    return float(hits[0] + 1) if hits.size else float("inf")


def median(values: list[float]) -> float:
    return float(np.quantile(np.sort(values), 0.5, method="inverted_cdf"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", default="results")
    parser.add_argument("--seeds", type=int, nargs=2, default=[0, 10])
    parser.add_argument("--budget", type=int, default=200)
    parser.add_argument("--variant", action="append", help="k=v,k=v options of ml2tuner")
    args = parser.parse_args()
    variants = args.variant or DEFAULT_VARIANTS
    rows = []
    for unit_dir in sorted(p.parent for p in Path(args.results).glob("*/*/*/measured.parquet")):
        unit = Unit.from_metadata(read_metadata(unit_dir / "measured.parquet"))
        measured = read_table(unit_dir / "measured.parquet", "measured", unit)
        space = TuningSpace(
            read_table(unit_dir / "space.parquet", "space", unit),
            unit.workload,
            unit.target,
            read_table(unit_dir / "compiled.parquet", "compiled", unit),
            template=unit.template,
        )
        optimum = measured.loc[measured["status"] == "valid", "latency_us"].min()
        reference = {}
        runs = [("autotvm", "autotvm", {})] + [
            ("ml2tuner", v or "defaults", parse_variant(v)) for v in variants
        ]
        for strategy, label, options in runs:
            to_best, to_match, invalid, late = [], [], [], []
            for seed in range(*args.seeds):
                log = run_tuning(
                    make_tuner(strategy, space, seed=seed, options=options),
                    ReplayMeasurer(measured),
                    args.budget,
                )
                best = log["best_latency_us"].to_numpy(float)
                if strategy == "autotvm":
                    reference[seed] = best[-1]
                bad = (log["status"] != "valid").to_numpy()
                to_best.append(first_reaching(best, optimum * 1.01))
                to_match.append(first_reaching(best, reference[seed]))
                invalid.append(bad.mean())
                late.append(bad[64:].mean())
            rows.append(
                {
                    "unit": unit.path,
                    "strategy": strategy,
                    "variant": label,
                    "to_best": median(to_best),
                    "reached": f"{np.isfinite(to_best).sum()}/{len(to_best)}",
                    "to_match": median(to_match),
                    "invalid": float(np.mean(invalid)),
                    "invalid_after_64": float(np.mean(late)),
                }
            )
            print(rows[-1], flush=True)
    table = pd.DataFrame(rows)
    with pd.option_context("display.width", 160, "display.max_rows", 200):
        print(table.to_string(index=False, float_format=lambda x: f"{x:.3g}"))


if __name__ == "__main__":
    main()
