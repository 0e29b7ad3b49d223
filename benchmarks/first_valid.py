"""Are the random starts uniform? The trial of each run's first valid measurement, per strategy.

A strategy that starts with uniform random draws without replacement (``random``; ``ml2tuner``
and ``ml2tuner_prototype`` until they have two valid measurements) takes its first valid
configuration at trial *f* with the hypergeometric probability of *f − 1* invalid draws first.
Per strategy and template this prints the share of runs whose randomised probability integral
transform of P(first valid ≥ f) is below 0.01 (0.01 expected if the draws are uniform) and the
longest waits with their unit, seed and probability. No goodness-of-fit test: a seed draws the
same configuration ids on every unit whose space has the same size (every ``nestc_sweep`` unit;
an ``autotvm`` layer on both boards, whose validity mostly agrees), so the runs are not
independent samples. ``autotvm`` is random for its first plan only; a longer wait is its
model's doing.

    python benchmarks/first_valid.py results/
    python benchmarks/first_valid.py results/ --strategies random ml2tuner autotvm
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
from machine import describe
from scipy import stats


def survival(n: int, n_invalid: int, first: int) -> tuple[float, float]:
    """P(first valid > first) and P(first valid ≥ first) for uniform draws without
    replacement from ``n`` configurations of which ``n_invalid`` are invalid: no valid one
    among the first ``first`` (``first − 1``) draws."""
    above, at_least = stats.hypergeom.pmf(0, n, n - n_invalid, [first, first - 1])
    return float(above), float(at_least)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path, help="the run's results/ folder")
    parser.add_argument("--strategies", nargs="+", default=["random", "ml2tuner", "autotvm"])
    parser.add_argument("--longest", type=int, default=3, help="longest waits shown per row")
    args = parser.parse_args()
    print(describe())
    rng = np.random.default_rng(0)  # the randomised PIT's tie-breaking draws
    rows = []
    for unit_dir in sorted(args.results.glob("*/*/*/tuning")):
        target, layer, template = unit_dir.parent.relative_to(args.results).parts
        status = pd.read_parquet(unit_dir.parent / "measured.parquet", columns=["status"])
        n, n_invalid = len(status), int((status["status"] != "valid").sum())
        for strategy in args.strategies:
            for path in sorted((unit_dir / strategy).glob("seed*.parquet")):
                valid = pd.read_parquet(path, columns=["status"])["status"].eq("valid")
                if not valid.any():
                    continue
                first = int(valid.to_numpy().argmax()) + 1
                above, at_least = survival(n, n_invalid, first)
                rows.append(
                    {
                        "template": template,
                        "strategy": strategy,
                        "run": f"{target} {layer} {path.stem}",
                        "first": first,
                        "p": at_least,
                        "pit": rng.uniform(above, at_least),
                    }
                )
    runs = pd.DataFrame(rows)
    table = []
    for (template, strategy), group in runs.groupby(["template", "strategy"]):
        longest = group.nsmallest(args.longest, "p")
        table.append(
            {
                "template": template,
                "strategy": strategy,
                "runs": len(group),
                "median first valid": group["first"].median(),
                "PIT < 0.01": (group["pit"] < 0.01).mean(),
                "longest waits (trial, P)": "; ".join(
                    f"{r.run}: {r.first}, {r.p:.1e}" for r in longest.itertuples()
                ),
            }
        )
    print(pd.DataFrame(table).to_markdown(index=False, floatfmt=".3g"))


if __name__ == "__main__":
    main()
