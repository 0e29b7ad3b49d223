"""The numba emitter against the plain reference emitter over whole spaces (a check, not a test).

For every configuration (or every ``--every``-th) of each space named, compiles with both
emitters and requires the same outcome: refusal (stage, kind, message), hidden features, the
instruction fields, uops, encoded instruction and uop words, DRAM sizes, and, run through the
harness and the counting pass, the same status, cycles, counters and statistics. Prints per
space the configurations checked, the statuses and the CPU time per configuration of each
emitter; exits non-zero at the first difference.

    python benchmarks/check_emit_equal.py                       # the three spaces below
    python benchmarks/check_emit_equal.py --space C11:autotvm:pynq --every 3
"""

from __future__ import annotations

import argparse
import collections
import math
import sys
import time

import numpy as np
from machine import describe

from ml2tuner.space.templates import get_template
from ml2tuner.vta.compiler import compile_conv2d
from ml2tuner.vta.counting import count_stream
from ml2tuner.vta.harness import run_compiled
from ml2tuner.vta.target import get_target
from ml2tuner.vta.workload import get_layer

DEFAULT_SPACES = ("C2:nestc:zcu102", "C2:autotvm:pynq", "C4:nestc:pynq")


def _same(a, b) -> bool:
    """Equal, NaN equal to NaN (the hidden features a refusal leaves unknown)."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b


def differences(workload, target, fast, plain) -> list[str]:
    """What differs between two compilations of one configuration (empty when nothing)."""
    diff = []
    for name in ("error_stage", "error_kind", "error_message"):
        if getattr(fast, name) != getattr(plain, name):
            diff.append(f"{name}: {getattr(fast, name)!r} != {getattr(plain, name)!r}")
    diff += [
        f"hidden {k}: {fast.hidden[k]!r} != {plain.hidden[k]!r}"
        for k in plain.hidden
        if not _same(fast.hidden.get(k), plain.hidden[k])
    ]
    if (fast.program is None) != (plain.program is None):
        return diff + ["one emitter produced a program, the other did not"]
    if plain.program is None:
        return diff
    a, b = fast.program, plain.program
    for name in ("fields", "uops", "words", "uop_words"):
        x, y = getattr(a, name), getattr(b, name)
        if x.shape != y.shape or not np.array_equal(x, y):
            diff.append(f"program.{name} differs")
    if a.dram_elems != b.dram_elems:
        diff.append("program.dram_elems differs")
    run_a, run_b = run_compiled(workload, target, fast), run_compiled(workload, target, plain)
    for name in ("status", "error_kind", "cycles", "counters"):
        if getattr(run_a, name) != getattr(run_b, name):
            diff.append(f"measurement {name} differs")
    if count_stream(target, a.decoded()[0]) != count_stream(target, b.decoded()[0]):
        diff.append("counting-pass statistics differ")
    return diff


def check_space(layer: str, template: str, target_name: str, every: int) -> bool:
    """Check one space; prints its line. True when every configuration checked agreed."""
    workload, target = get_layer(layer), get_target(target_name)
    space = get_template(template).enumerate(workload, target)[::every]
    statuses: collections.Counter = collections.Counter()
    cpu = {"fast": 0.0, "plain": 0.0}
    for knobs in space:
        start = time.process_time()
        fast = compile_conv2d(workload, target, template, knobs)
        middle = time.process_time()
        plain = compile_conv2d(workload, target, template, knobs, reference=True)
        cpu["fast"] += middle - start
        cpu["plain"] += time.process_time() - middle
        diff = differences(workload, target, fast, plain)
        if diff:
            print(f"{layer} {template} {target_name}: DIFFERENT at {knobs}:", *diff, sep="\n  ")
            return False
        statuses[fast.error_kind or "ok"] += 1
    n = len(space)
    print(
        f"{layer} {template} {target_name}: {n} configurations (every {every}-th) equal;"
        f" emit CPU per configuration: numba {1e6 * cpu['fast'] / n:.0f} us,"
        f" reference {1e6 * cpu['plain'] / n:.0f} us; outcomes {dict(statuses)}",
        flush=True,
    )
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--space",
        action="append",
        help="layer:template:target (repeatable); default: " + ", ".join(DEFAULT_SPACES),
    )
    parser.add_argument("--every", type=int, default=1, help="check every k-th configuration")
    args = parser.parse_args()
    print(describe())
    ok = True
    for spec in args.space or DEFAULT_SPACES:
        ok = check_space(*spec.split(":"), args.every) and ok
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
