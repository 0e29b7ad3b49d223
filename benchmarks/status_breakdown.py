"""Status breakdown of every ResNet-18 layer's search spaces (issue 2's report).

Measures every configuration of the ``nestc`` and ``autotvm`` spaces of C2..C11 on the given
targets (compile + timing simulation, the same path as the workflow's simulate stage) and
prints one Markdown table per target: counts per status, plus the failure causes.

    python benchmarks/status_breakdown.py --targets zcu102 pynq --jobs 2
"""

from __future__ import annotations

import argparse
import collections
import time
from concurrent.futures import ProcessPoolExecutor

from ml2tuner.space.templates import get_template
from ml2tuner.vta.harness import STATUSES, measure
from ml2tuner.vta.target import get_target
from ml2tuner.vta.workload import RESNET18, get_layer


def _breakdown(
    job: tuple[str, str, str],
) -> tuple[tuple[str, str, str], collections.Counter, collections.Counter, float]:
    target_name, layer, template = job
    target, workload = get_target(target_name), get_layer(layer)
    statuses: collections.Counter = collections.Counter()
    causes: collections.Counter = collections.Counter()
    best = float("inf")
    for knobs in get_template(template).enumerate(workload, target):
        result = measure(workload, target, template, knobs)
        statuses[result.status] += 1
        if result.error_kind:
            causes[result.error_kind] += 1
        if result.status == "valid":
            best = min(best, result.latency_us)
    return job, statuses, causes, best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", nargs="+", default=["zcu102", "pynq"])
    parser.add_argument("--layers", nargs="+", default=list(RESNET18))
    parser.add_argument("--templates", nargs="+", default=["nestc", "autotvm"])
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    jobs = [
        (t, layer, tpl) for t in args.targets for tpl in args.templates for layer in args.layers
    ]
    start = time.perf_counter()
    with ProcessPoolExecutor(args.jobs) as pool:
        results = {job: rest for job, *rest in pool.map(_breakdown, jobs)}
    for target in args.targets:
        print(f"\n### {target}\n")
        print(
            "| layer | template | configs | "
            + " | ".join(STATUSES)
            + " | best valid µs | failure causes |"
        )
        print("|---|---|---:|" + "---:|" * len(STATUSES) + "---:|---|")
        for tpl in args.templates:
            for layer in args.layers:
                statuses, causes, best = results[(target, layer, tpl)]
                total = sum(statuses.values())
                cells = " | ".join(
                    f"{statuses[s]} ({100 * statuses[s] / total:.0f}%)" for s in STATUSES
                )
                cause_text = ", ".join(f"{k} {v}" for k, v in causes.most_common())
                print(f"| {layer} | {tpl} | {total} | {cells} | {best:.0f} | {cause_text} |")
    print(
        f"\n{sum(sum(s.values()) for s, _, _ in results.values())} configurations in "
        f"{time.perf_counter() - start:.0f} s with {args.jobs} processes"
    )


if __name__ == "__main__":
    main()
