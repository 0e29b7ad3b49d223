"""What ml2tuner's models picked: validity of the picks against V's own estimate, per unit.

Reads the trial logs of a finished run (``results/{target}/{layer}/{template}/tuning/``) and
prints one Markdown row per unit and strategy, over all seeds:

* the measurements the models chose (a ``v_prob`` recorded) and the share of them that were
  valid, beside the mean V probability of those picks (equal when V is calibrated);
* the share of picks below V's threshold, measured although V rejected them: an ε-random
  slot, or a step where fewer than a batch passed V (``ml2tuner.tuners._ml2tuner``; before
  a8c10f8, fewer than a batch of P's shortlist, which on the ``autotvm`` template was most
  steps);
* the share of picks that failed to compile, and the valid share of the random measurements.

    python benchmarks/ml2tuner_picks.py results/            # every unit with ml2tuner runs
    python benchmarks/ml2tuner_picks.py results/ --strategies ml2tuner ml2tuner_prototype
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from ml2tuner.tuners._ml2tuner import ML2TunerSettings

V_THRESHOLD = ML2TunerSettings().v_threshold


def picks_row(logs: list[pd.DataFrame]) -> dict:
    """The row of one unit and strategy from its seeds' trial logs."""
    trials = pd.concat(logs, ignore_index=True)
    chosen = trials[trials["v_prob"].notna()]
    random = trials[trials["v_prob"].isna()]
    return {
        "seeds": len(logs),
        "model picks": len(chosen),
        "valid share": (chosen["status"] == "valid").mean(),
        "mean V": chosen["v_prob"].mean(),
        f"V < {V_THRESHOLD:g}": (chosen["v_prob"] < V_THRESHOLD).mean(),
        "compile errors": (chosen["status"] == "compile_error").mean(),
        "random picks valid": (random["status"] == "valid").mean(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path, help="the run's results/ folder")
    parser.add_argument("--strategies", nargs="+", default=["ml2tuner", "ml2tuner_prototype"])
    args = parser.parse_args()
    rows = []
    for unit_dir in sorted(args.results.glob("*/*/*/tuning")):
        target, layer, template = unit_dir.parent.relative_to(args.results).parts
        for strategy in args.strategies:
            paths = sorted((unit_dir / strategy).glob("seed*.parquet"))
            if not paths:
                continue
            logs = [pd.read_parquet(p, columns=["status", "v_prob"]) for p in paths]
            rows.append(
                {"unit": f"{target} {layer} {template}", "strategy": strategy, **picks_row(logs)}
            )
    table = pd.DataFrame(rows)
    print(table.to_markdown(index=False, floatfmt=".3f") if len(table) else "no ml2tuner runs")


if __name__ == "__main__":
    main()
