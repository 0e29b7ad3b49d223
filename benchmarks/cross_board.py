"""Cross-board transfer: tune one board's layer warm-started from another board's measurements.

Usage::

    python benchmarks/cross_board.py --results results --seeds 0 5 --jobs 2 [--layers C3 C4]

For every layer measured on two or more targets under ``--results`` (e.g. pynq and zcu102),
each of its units is tuned by ``ml2tuner_plus`` with ``prior: other-targets`` (models trained
on the same layer's tables of the other targets only) and with ``prior: none``, and by
``autotvm`` and ``ml2tuner`` for reference, replayed on the unit's measured table. Printed per
unit, median [quartiles] over seeds: samples to the top 1 % of the valid configurations, how
many seeds got there, the invalid share and the final best against autotvm's
(``benchmarks/ml2tuner_ablation.py`` defines each).
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor

import pandas as pd
from machine import describe
from ml2tuner_ablation import _job, load_units

VARIANTS = ["ml2tuner", "ml2tuner_plus:prior=none", "ml2tuner_plus:prior=other-targets"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", default="results")
    parser.add_argument("--seeds", type=int, nargs=2, default=[0, 5])
    parser.add_argument("--budget", type=int, default=100)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--layers", nargs="*", help="only these layers (default: every layer)")
    args = parser.parse_args()
    units = load_units(args.results)
    boards = Counter(name.split("/")[1] for name in units)
    tuned = [
        name
        for name in units
        if boards[name.split("/")[1]] > 1 and (not args.layers or name.split("/")[1] in args.layers)
    ]
    if not tuned:
        raise SystemExit(f"no layer is measured on two targets under {args.results}")
    jobs = [
        (args.results, name, list(units), VARIANTS, range(*args.seeds), args.budget)
        for name in tuned
    ]
    start = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        rows = [row for part in pool.map(_job, jobs) for row in part]
    table = pd.DataFrame(rows).drop(columns=["to_best", "s/run"])
    print(
        f"\nseeds {args.seeds[0]}–{args.seeds[1] - 1}, budget {args.budget}, "
        f"{time.perf_counter() - start:.0f} s; median [quartiles] over seeds; {describe()}\n"
    )
    print(table.to_markdown(index=False))


if __name__ == "__main__":
    main()
