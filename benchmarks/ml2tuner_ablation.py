"""ml2tuner's and ml2tuner_plus's options, one at a time, against autotvm, on measured tables.

Usage::

    python benchmarks/ml2tuner_ablation.py --results results --units zcu102/C3 zcu102/C5 \\
        --seeds 10 15
    python benchmarks/ml2tuner_ablation.py --variant 'ml2tuner_plus:prior=none' --jobs 2

Every unit folder under ``--results`` (``{target}/{layer}/{template}`` with ``space``,
``compiled`` and ``measured`` tables) is a possible prior source; ``--units`` are the units
tuned (default: all), ``--sources`` limits the prior's sources (default: all). Each variant
(``strategy:k=v,k=v``; ``autotvm`` always runs, as the reference) is replayed on the tuned
unit's measured table for seeds ``[start, stop)``. A variant whose ``prior`` is not ``none``
warm-starts from models trained (:func:`ml2tuner.tuners.train_prior`, seed 0) on the sources
in scope, never on the tuned unit; with no source in scope it runs without a prior, as the
workflow does, and says so. Printed per unit and variant, median [quartiles] over seeds:

* ``to_top1`` — measurements until the best so far is at most the top-1 % latency cut of the
  valid configurations (the prototype's cut, ``ml2tuner.report.metrics.latency_cut``: the 1st
  percentile of the valid latencies, as in the report); ``inf`` = not within the budget;
* ``to_best`` — measurements until within 1 % of the optimum;
* ``invalid`` — share of measurements that were not valid;
* ``vs_autotvm`` — final best / autotvm's final best of the same seed (≤ 1: not worse).
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from machine import describe

from ml2tuner.measure import ReplayMeasurer
from ml2tuner.report.metrics import (
    censored,
    latency_cut,
    samples_to_best,
    samples_to_match,
    spread,
)
from ml2tuner.tuners import TUNERS, TuningSpace, make_tuner, run_tuning, train_prior
from ml2tuner.tuners._ml2tuner_plus import PriorSource, in_scope, unit_identity
from ml2tuner.workflow.config import Unit
from ml2tuner.workflow.tables import read_metadata, read_table

DEFAULT_VARIANTS = [
    "ml2tuner",
    "ml2tuner:preset=prototype",
    "ml2tuner:n_random=100",
    "ml2tuner:epsilon=0",
    "ml2tuner_plus",
    "ml2tuner_plus:prior=none",
    "ml2tuner_plus:prior=other-layers",
    "ml2tuner_plus:prior=other-targets",
    "ml2tuner_plus:v_hidden=false",
    "ml2tuner_plus:a_scores_all=false",
    "ml2tuner_plus:n_random_with_prior=16",
    "ml2tuner_plus:v_threshold=0.5",
    "ml2tuner_plus:epsilon=0.05",
    "ml2tuner_plus:prior_calibration=false",
    "ml2tuner_plus:batch_distance=0",
    "ml2tuner_plus:stall_batches=0",
    "ml2tuner_plus:v_threshold_stalled=0.9",
    "ml2tuner_plus:prior=none,v_hidden=false,a_scores_all=false,batch_distance=0,stall_batches=0",
]


@dataclass
class UnitData:
    """One unit's tables, as the tuners and the prior need them."""

    name: str
    unit: Unit
    space: TuningSpace
    source: PriorSource
    identity: tuple

    @property
    def measured(self) -> pd.DataFrame:
        return self.source.measured


def load_units(results: str | Path) -> dict[str, UnitData]:
    """Every unit under ``results`` with space, compiled and measured tables, by
    ``target/layer``."""
    units = {}
    for folder in sorted(p.parent for p in Path(results).glob("*/*/*/measured.parquet")):
        unit = Unit.from_metadata(read_metadata(folder / "measured.parquet"))
        space = read_table(folder / "space.parquet", "space", unit)
        compiled = read_table(folder / "compiled.parquet", "compiled", unit)
        measured = read_table(folder / "measured.parquet", "measured", unit)
        units[f"{unit.target.name}/{unit.workload.name}"] = UnitData(
            f"{unit.target.name}/{unit.workload.name}",
            unit,
            TuningSpace(space, unit.workload, unit.target, compiled, template=unit.template),
            PriorSource(space, compiled, measured, unit.workload, unit.target),
            unit_identity(unit.workload, unit.target),
        )
    return units


def parse_variant(text: str) -> tuple[str, dict]:
    """``strategy:k=v,k=v`` → (strategy, options); values parsed as JSON where they can be."""
    strategy, _, rest = text.partition(":")
    if strategy not in TUNERS:
        raise SystemExit(f"unknown strategy {strategy!r}: allowed {', '.join(TUNERS)}")
    options = {}
    for item in filter(None, rest.split(",")):
        key, value = item.split("=", 1)
        try:
            options[key] = json.loads(value)
        except json.JSONDecodeError:
            options[key] = value
    return strategy, options


def prior_sources(tuned: UnitData, pool: Sequence[UnitData], scope: str) -> list[UnitData]:
    """The units of ``pool`` in ``scope`` of ``tuned`` (never ``tuned`` itself)."""
    return [u for u in pool if in_scope(scope, tuned.identity, u.identity)]


def run_variant(
    tuned: UnitData,
    pool: Sequence[UnitData],
    strategy: str,
    options: dict,
    seeds: Sequence[int],
    budget: int,
) -> tuple[list[pd.DataFrame], str]:
    """Trial logs of one variant on one unit, one per seed, and which prior it used."""
    settings = make_tuner(strategy, tuned.space, options=options).settings
    scope = getattr(settings, "prior", "none")
    sources = prior_sources(tuned, pool, scope) if scope != "none" else []
    prior = train_prior([u.source for u in sources], settings) if sources else None
    used = "+".join(u.name for u in sources) if sources else "none"
    logs = []
    for seed in seeds:
        tuner = make_tuner(strategy, tuned.space, seed=seed, options=options)
        if prior is not None:
            tuner.warm_start(prior)
        logs.append(run_tuning(tuner, ReplayMeasurer(tuned.measured), budget))
    return logs, used


def run_metrics(log: pd.DataFrame, measured: pd.DataFrame, reference_us: float) -> dict:
    """The printed metrics of one run."""
    best = log["best_latency_us"].to_numpy(float)
    optimum = measured.loc[measured["status"] == "valid", "latency_us"].min()
    return {
        "to_top1": samples_to_match(best, latency_cut(measured)),
        "to_best": samples_to_best(best, optimum),
        "invalid": float((log["status"] != "valid").mean()),
        "vs_autotvm": float(best[-1] / reference_us),
    }


def _fmt(values, digits: int = 0, scale: float = 1.0) -> str:
    s = spread(np.asarray(values, float) * scale)
    return f"{s.median:.{digits}f} [{s.q25:.{digits}f}–{s.q75:.{digits}f}]"


def summarise(rows: list[dict]) -> dict:
    """Median [quartiles] of each metric over seeds."""
    to_top1 = censored([r["to_top1"] for r in rows])
    return {
        "to_top1": _fmt(to_top1),
        "reached": f"{int(np.isfinite(to_top1).sum())}/{len(rows)}",
        "to_best": _fmt(censored([r["to_best"] for r in rows])),
        "invalid %": _fmt([r["invalid"] for r in rows], 1, 100),
        "vs_autotvm": _fmt([r["vs_autotvm"] for r in rows], 3),
        "worse": sum(r["vs_autotvm"] > 1 for r in rows),
    }


def evaluate(
    tuned: UnitData, pool: Sequence[UnitData], variants: Sequence[str], seeds, budget: int
) -> list[dict]:
    """One table row per variant on ``tuned`` (autotvm first, the reference)."""
    ref_logs, _ = run_variant(tuned, pool, "autotvm", {}, seeds, budget)
    reference = [log["best_latency_us"].iloc[-1] for log in ref_logs]
    out = []
    for text in ["autotvm", *variants]:
        start = time.perf_counter()
        strategy, options = parse_variant(text)
        logs, used = (
            (ref_logs, "none")
            if text == "autotvm"
            else run_variant(tuned, pool, strategy, options, seeds, budget)
        )
        rows = [
            run_metrics(log, tuned.measured, ref) for log, ref in zip(logs, reference, strict=True)
        ]
        out.append(
            {
                "unit": tuned.name,
                "variant": text,
                **summarise(rows),
                "prior from": used,
                "s/run": round((time.perf_counter() - start) / len(seeds), 1),
            }
        )
        print(out[-1], flush=True)
    return out


def _job(args: tuple) -> list[dict]:
    results, tuned_name, source_names, variants, seeds, budget = args
    units = load_units(results)
    return evaluate(units[tuned_name], [units[n] for n in source_names], variants, seeds, budget)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", default="results")
    parser.add_argument("--units", nargs="*", help="target/layer of the units tuned (all)")
    parser.add_argument("--sources", nargs="*", help="target/layer of the prior's sources (all)")
    parser.add_argument("--seeds", type=int, nargs=2, default=[10, 15])
    parser.add_argument("--budget", type=int, default=200)
    parser.add_argument("--variant", action="append", help="strategy:k=v,k=v (repeatable)")
    parser.add_argument("--jobs", type=int, default=1, help="units evaluated in parallel")
    args = parser.parse_args()
    units = load_units(args.results)
    tuned = args.units or list(units)
    sources = args.sources or list(units)
    missing = sorted(set(tuned + sources) - set(units))
    if missing:
        raise SystemExit(f"no tables for {', '.join(missing)} under {args.results}")
    jobs = [
        (
            args.results,
            name,
            sources,
            args.variant or DEFAULT_VARIANTS,
            range(*args.seeds),
            args.budget,
        )
        for name in tuned
    ]
    start = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        rows = [row for part in pool.map(_job, jobs) for row in part]
    table = pd.DataFrame(rows)
    print(
        f"\nseeds {args.seeds[0]}–{args.seeds[1] - 1}, budget {args.budget}, "
        f"{time.perf_counter() - start:.0f} s; median [quartiles] over seeds; {describe()}\n"
    )
    print(table.to_markdown(index=False))


if __name__ == "__main__":
    main()
