"""Configurations per second of the VTA model over a whole search space, one process.

Counts what a simulate job does per configuration: compile (plan + emit + encode), decode,
timing simulation and classification — no functional run. Measures the space ``--passes``
times and prints the median rate and every pass's (the rate varies by a third between
passes on a shared VM), the simulated VTA cycles per CPU-second and, with ``--profile``,
where the time goes.

    python benchmarks/measure_throughput.py                 # C2, nestc, zcu102, full space
    python benchmarks/measure_throughput.py --template autotvm --target pynq
    python benchmarks/measure_throughput.py --limit 3000 --profile
"""

from __future__ import annotations

import argparse
import collections
import cProfile
import pstats
import statistics
import time

from machine import describe

from ml2tuner.space.templates import get_template
from ml2tuner.vta.harness import Workspace, measure
from ml2tuner.vta.target import get_target
from ml2tuner.vta.workload import get_layer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", default="zcu102")
    parser.add_argument("--layer", default="C2")
    parser.add_argument("--template", default="nestc")
    parser.add_argument("--limit", type=int, default=0, help="first N configurations only")
    parser.add_argument(
        "--passes",
        type=int,
        default=3,
        help="times to measure the space (the rate varies between passes on a shared machine)",
    )
    parser.add_argument("--profile", action="store_true", help="one pass under cProfile")
    args = parser.parse_args()

    target, workload = get_target(args.target), get_layer(args.layer)
    space = get_template(args.template).enumerate(workload, target)
    if args.limit:
        space = space[: args.limit]
    measure(workload, target, args.template, space[0])  # compile the numba kernels first

    def run() -> tuple[collections.Counter, int]:
        statuses, cycles = collections.Counter(), 0  # cycles: of the runs that started
        workspace = Workspace()  # as a simulate job reuses one
        for knobs in space:
            result = measure(workload, target, args.template, knobs, workspace=workspace)
            statuses[result.status] += 1
            cycles += max(result.cycles, 0)
        return statuses, cycles

    rates, wall_rates = [], []  # configurations per CPU-second and per second, by pass
    for _ in range(1 if args.profile else args.passes):
        start, cpu_start = time.perf_counter(), time.process_time()
        if args.profile:
            profiler = cProfile.Profile()
            statuses, cycles = profiler.runcall(run)
        else:
            statuses, cycles = run()
        wall_rates.append(len(space) / (time.perf_counter() - start))
        rates.append(len(space) / (time.process_time() - cpu_start))
    rate = statistics.median(rates)
    print(f"{describe()}; one process")
    print(
        f"{args.layer} {args.template} on {args.target}: {len(space)} configurations, "
        f"{len(rates)} pass(es)" + (" under cProfile" if args.profile else "")
    )
    print(
        f"{rate:.0f} configurations per CPU-second (median; passes "
        + ", ".join(f"{r:.0f}" for r in rates)
        + f"); {statistics.median(wall_rates):.0f} per second of wall time (differs when other"
        " processes share the cores)"
    )
    print(
        f"simulated {cycles:.3e} VTA cycles per pass = {cycles * rate / len(space):.3e} cycles"
        " per CPU-second (compile included)"
    )
    print("statuses:", dict(statuses))
    if args.profile:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)


if __name__ == "__main__":
    main()
