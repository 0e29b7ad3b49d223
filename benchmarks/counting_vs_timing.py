"""CPU time per configuration of the counting pass against the cycle-level timing simulation.

Both run on the same decoded streams (compiled once, before timing starts), so the figures
compare the two simulators alone: Pelke et al.'s premise is that the instruction-accurate pass
is the cheap one.

    python benchmarks/counting_vs_timing.py                       # C2, nestc, zcu102
    python benchmarks/counting_vs_timing.py --layer C4 --limit 2000
"""

from __future__ import annotations

import argparse
import time

from machine import describe

from ml2tuner.space.templates import get_template
from ml2tuner.vta.compiler import compile_conv2d
from ml2tuner.vta.counting import count_stream
from ml2tuner.vta.sim import simulate
from ml2tuner.vta.target import get_target
from ml2tuner.vta.workload import get_layer


def _cpu_seconds(run, streams, repeats: int) -> float:
    """Best of ``repeats`` CPU times of ``run`` over every stream (the least disturbed pass)."""
    best = float("inf")
    for _ in range(repeats):
        start = time.process_time()
        for stream in streams:
            run(*stream)
        best = min(best, time.process_time() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", default="zcu102")
    parser.add_argument("--layer", default="C2")
    parser.add_argument("--template", default="nestc")
    parser.add_argument("--limit", type=int, default=1000, help="first N configurations")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    target, workload = get_target(args.target), get_layer(args.layer)
    space = get_template(args.template).enumerate(workload, target)[: args.limit]
    streams = []
    for knobs in space:
        program = compile_conv2d(workload, target, args.template, knobs).program
        if program is not None:
            fields, uops = program.decoded()
            streams.append((fields, uops, program.dram_elems))
    if not streams:
        raise SystemExit("no configuration of that slice compiles: nothing to compare")
    count_stream(target, streams[0][0])  # compile the numba kernels first
    simulate(target, *streams[0])

    counting = _cpu_seconds(lambda f, u, d: count_stream(target, f), streams, args.repeats)
    timing = _cpu_seconds(lambda f, u, d: simulate(target, f, u, d), streams, args.repeats)
    insns = sum(len(fields) for fields, _, _ in streams)
    print(f"{describe()}; one process, best of {args.repeats}")
    print(
        f"{args.layer} {args.template} on {args.target}: {len(streams)} compiled streams of the"
        f" first {len(space)} configurations, {insns / len(streams):.0f} instructions each"
    )
    for name, seconds in (("counting pass", counting), ("timing simulation", timing)):
        print(
            f"{name:>18}: {1e6 * seconds / len(streams):8.1f} µs per configuration,"
            f" {insns / seconds / 1e6:6.1f} M instructions per CPU-second"
        )
    print(f"timing / counting: {timing / counting:.1f}x")


if __name__ == "__main__":
    main()
