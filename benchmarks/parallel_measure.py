"""Wall time of one batch of live measurements against the number of simulator processes.

Pelke et al. run autotuning candidates on several simulators in parallel. Here one batch of
configurations (drawn at random among those the compiler accepts, so that each one is
simulated; never measured before) is compiled and simulated by ``LiveMeasurer(n_workers=N)``.
The processes are started and warmed (imports, the simulator's compiled code loaded) by a
first batch that is not timed. The results are checked equal to those of one process. On a
shared machine the figures vary with the load; the CPU count and load average are printed.

    python benchmarks/parallel_measure.py                         # C2, nestc, zcu102, N = 1 2 4
    python benchmarks/parallel_measure.py --batch 64 --workers 1 2
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import pandas as pd

from ml2tuner.measure import LiveMeasurer
from ml2tuner.space.templates import get_template
from ml2tuner.vta.compiler import compile_conv2d
from ml2tuner.vta.target import get_target
from ml2tuner.vta.workload import get_layer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", default="zcu102")
    parser.add_argument("--layer", default="C2")
    parser.add_argument("--template", default="nestc")
    parser.add_argument("--batch", type=int, default=32, help="configurations per batch")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    target, layer = get_target(args.target), get_layer(args.layer)
    configs = get_template(args.template).enumerate(layer, target)
    accepted = []
    for config_id in np.random.default_rng(args.seed).permutation(len(configs)).tolist():
        if compile_conv2d(layer, target, args.template, configs[config_id]).program is not None:
            accepted.append(config_id)
        if len(accepted) == args.batch + max(args.workers):
            break
    warm, batch = accepted[: max(args.workers)], accepted[max(args.workers) :]
    print(
        f"{args.target} {args.layer} {args.template}: batch of {len(batch)} compiled "
        "configurations, "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}"
    )
    print(f"{'N':>3} {'batch s':>9} {'s / config':>11} {'speed-up':>9}")
    reference: pd.DataFrame | None = None
    first = None
    for n in args.workers:
        with LiveMeasurer(layer, target, args.template, n_workers=n) as measurer:
            measurer.measure(warm)  # start and warm the processes; not timed
            start = time.perf_counter()
            out = measurer.measure(batch)
            wall = time.perf_counter() - start
        if reference is None:
            reference, first = out, wall
        pd.testing.assert_frame_equal(out, reference)  # identical to one process, same order
        print(f"{n:>3} {wall:>9.2f} {wall / len(batch):>11.3f} {first / wall:>9.2f}")


if __name__ == "__main__":
    main()
