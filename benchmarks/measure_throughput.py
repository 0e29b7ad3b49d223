"""Configurations per second of the VTA model over a whole search space, one process.

Counts what a simulate job does per configuration: compile (plan + emit + encode), decode,
timing simulation and classification — no functional run. Prints the rate, the simulated
VTA cycles per CPU-second and, with ``--profile``, where the time goes.

    python benchmarks/measure_throughput.py                 # C2, nestc, zcu102, full space
    python benchmarks/measure_throughput.py --template autotvm --target pynq
    python benchmarks/measure_throughput.py --limit 3000 --profile
"""

from __future__ import annotations

import argparse
import collections
import cProfile
import pstats
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
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()

    target, workload = get_target(args.target), get_layer(args.layer)
    space = get_template(args.template).enumerate(workload, target)
    if args.limit:
        space = space[: args.limit]
    measure(workload, target, args.template, space[0])  # compile the numba kernels first

    simulated = collections.Counter()  # VTA cycles of the runs that started

    def run() -> collections.Counter:
        statuses = collections.Counter()
        workspace = Workspace()  # as a simulate job reuses one
        for knobs in space:
            result = measure(workload, target, args.template, knobs, workspace=workspace)
            statuses[result.status] += 1
            simulated["cycles"] += max(result.cycles, 0)
        return statuses

    start, cpu_start = time.perf_counter(), time.process_time()
    if args.profile:
        profiler = cProfile.Profile()
        statuses = profiler.runcall(run)
    else:
        statuses = run()
    elapsed = time.perf_counter() - start
    cpu = time.process_time() - cpu_start
    print(f"{describe()}; one process")
    print(
        f"{args.layer} {args.template} on {args.target}: {len(space)} configurations in "
        f"{elapsed:.1f} s = {len(space) / elapsed:.0f} configurations/s"
        + (" (under cProfile)" if args.profile else "")
    )
    print(
        f"process CPU time {cpu:.1f} s = {len(space) / cpu:.0f} configurations per CPU-second"
        f" (differs from wall time when other processes share the cores)"
    )
    print(
        f"simulated {simulated['cycles']:.3e} VTA cycles = {simulated['cycles'] / cpu:.3e} "
        f"cycles per CPU-second (compile included)"
    )
    print("statuses:", dict(statuses))
    if args.profile:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)


if __name__ == "__main__":
    main()
