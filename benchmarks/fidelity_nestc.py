"""Fidelity of the ``nestc`` model against NEST-C's board-tuned schedules (issue 12).

For each ResNet-18 layer, measures every configuration of the layer's ``nestc`` space (compile +
timing simulation, as the workflow's simulate stage does), then places the schedule NEST-C's
authors found best on a real ZCU102 board among them: its status, its latency over the model's
optimum, and its rank among the valid configurations. It runs NEST-C's profiling sweep
(tiles 1..56 on every layer); entries whose clipped tiles agree compile to one program, a
configuration of our space, measured once (``Template.program_key``).

    python benchmarks/fidelity_nestc.py --jobs 2
    python benchmarks/fidelity_nestc.py --layers C9 C11

The issue's goal: all ten board schedules valid, each within 1.10x of the model's optimum, the
median within 1.03x.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from ml2tuner.space.templates import get_template
from ml2tuner.vta.harness import measure
from ml2tuner.vta.target import get_target
from ml2tuner.vta.workload import RESNET18, get_layer

# (n_vthread, tile_h, tile_w) per layer, and the line of its entry in etri/nest-compiler
# include/Backends/VTA/VTASchedules.h (HEAD 7326f0db); the entry's shape fields are
# (inputN, inputH, inputW, inputC, filterN, filterH, filterW, filterC, stride, pad), line 53-54.
# Line 69 (14x14x256 -> 512, 3x3, stride 2, pad 0) is not a ResNet-18 layer and is left out.
BOARD_SCHEDULES: dict[str, tuple[int, int, int, int]] = {
    "C2": (2, 8, 56, 55),
    "C3": (2, 8, 28, 59),
    "C4": (2, 7, 28, 57),
    "C5": (2, 14, 28, 61),
    "C6": (2, 14, 14, 65),
    "C7": (2, 7, 14, 63),
    "C8": (2, 14, 14, 67),
    "C9": (2, 7, 7, 73),
    "C10": (2, 7, 7, 71),
    "C11": (2, 7, 7, 75),
}
GOAL_EACH, GOAL_MEDIAN = 1.10, 1.03
TEMPLATE = "nestc"
# etri/nest-compiler utils/profiling_script/run.sh:3-12: vthread 1..8 x tile_h, tile_w 1..56.
SWEEP_VTHREADS, SWEEP_MAX_TILE = 8, 56


def sweep() -> list[dict]:
    """NEST-C's profiling sweep, the same on every layer (a tile may exceed the output)."""
    return [
        {"n_vthread": v, "tile_h": h, "tile_w": w}
        for w in range(1, SWEEP_MAX_TILE + 1)
        for h in range(1, SWEEP_MAX_TILE + 1)
        for v in range(1, SWEEP_VTHREADS + 1)
    ]


@dataclass
class LayerResult:
    """One layer's space, measured, and where the board's schedule falls in it.

    The configurations are NEST-C's sweep (tiles 1..56 whatever the output size,
    utils/profiling_script/run.sh); the compiler clips a tile to the output, so an entry runs as
    the configuration of our (clipped) space ``Template.program_key`` names, measured once.
    """

    layer: str
    configs: int
    programs: int  # distinct programs (clipped knobs) measured
    valid_latencies: list[float]  # one per valid configuration of the sweep
    distinct_valid: list[float]  # one per valid distinct program
    best_knobs: tuple[int, int, int] | None
    board_status: str
    board_kind: str
    board_latency: float
    board_slots: float
    seconds: float

    @property
    def best(self) -> float:
        return min(self.valid_latencies, default=float("nan"))

    @property
    def ratio(self) -> float:
        return self.board_latency / self.best

    @property
    def rank(self) -> int:
        """1 + the valid configurations of the sweep strictly faster than the board's."""
        return 1 + sum(lat < self.board_latency for lat in self.valid_latencies)

    @property
    def distinct_rank(self) -> int:
        """1 + the valid distinct programs strictly faster than the board's."""
        return 1 + sum(lat < self.board_latency for lat in self.distinct_valid)


def measure_layer(job: tuple[str, str]) -> LayerResult:
    """Measure a layer's whole ``nestc`` space and the board schedule (a worker's job)."""
    target_name, layer = job
    start = time.perf_counter()
    target, workload = get_target(target_name), get_layer(layer)
    template = get_template(TEMPLATE)
    vthread, tile_h, tile_w, _ = BOARD_SCHEDULES[layer]
    board = {"n_vthread": vthread, "tile_h": tile_h, "tile_w": tile_w}
    cache: dict[tuple, object] = {}
    valid: list[float] = []
    best_knobs, best = None, float("inf")
    space = sweep()
    for knobs in space:
        key = template.program_key(knobs, workload, target)
        result = cache.get(key)
        if result is None:
            result = cache[key] = measure(workload, target, TEMPLATE, knobs)
        if result.status == "valid":
            valid.append(result.latency_us)
            if result.latency_us < best:
                best, best_knobs = result.latency_us, key
    board_result = cache[template.program_key(board, workload, target)]
    return LayerResult(
        layer,
        len(space),
        len(cache),
        valid,
        [r.latency_us for r in cache.values() if r.status == "valid"],
        best_knobs,
        board_result.status,
        board_result.error_kind,
        board_result.latency_us,
        float(board_result.hidden.get("slots", float("nan"))),
        time.perf_counter() - start,
    )


def _model_commit() -> str:
    """The commit of the model measured, marked when src/ml2tuner/vta differs from it."""
    root = Path(__file__).resolve().parent.parent
    try:
        sha = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--", "src/ml2tuner/vta"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return sha + (" + uncommitted changes in src/ml2tuner/vta" if dirty else "")


def print_table(results: list[LayerResult], target: str) -> None:
    print(f"\n### {TEMPLATE} on {target}: board-tuned schedules vs the model\n")
    print(
        "| layer | board (vt, th, tw) | slots used | status | board µs "
        "| model optimum µs (vt, th, tw), clipped | board / optimum | rank among valid "
        "(sweep) | rank among valid distinct programs |"
    )
    print("|---|---|---:|---|---:|---:|---:|---:|---:|")
    for r in results:
        vt, th, tw, line = BOARD_SCHEDULES[r.layer]
        status = r.board_status + (f" ({r.board_kind})" if r.board_kind else "")
        valid = r.board_status == "valid"
        rank = f"{r.rank if valid else '—'} / {len(r.valid_latencies)}"
        distinct = f"{r.distinct_rank if valid else '—'} / {len(r.distinct_valid)}"
        print(
            f"| {r.layer} | ({vt}, {th}, {tw}) [h:{line}] | {r.board_slots:.0f} | {status} | "
            f"{r.board_latency:.0f} | {r.best:.0f} {r.best_knobs} | "
            f"{f'{r.ratio:.3f}' if valid else '—'} | {rank} | {distinct} |"
        )
    print(
        "\nrank among valid (sweep): among the valid configurations of run.sh's 8 x 56 x 56 "
        "sweep (a tile larger than the output is clipped to it, so one program counts as often "
        "as the sweep visits it); distinct programs: each clipped configuration once"
    )
    ratios = [r.ratio for r in results if r.board_status == "valid"]
    n_valid = len(ratios)
    median = statistics.median(ratios) if ratios else float("nan")
    within = sum(ratio <= GOAL_EACH for ratio in ratios)
    print(
        f"\nboard schedules valid: {n_valid} / {len(results)}; within {GOAL_EACH:.2f}x of the "
        f"optimum: {within} / {len(results)}; median ratio {median:.3f} (goal: all valid, "
        f"each <= {GOAL_EACH:.2f}, median <= {GOAL_MEDIAN:.2f}); worst "
        + (f"{max(ratios):.3f}" if ratios else "—")
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", nargs="+", default=list(RESNET18), choices=list(RESNET18))
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--target", default="zcu102")
    args = parser.parse_args()
    get_target(args.target)  # fail early on an unknown target
    start = time.perf_counter()
    # Largest outputs (most distinct programs) first so the pool's tail is short.
    order = sorted(args.layers, key=lambda layer: -get_layer(layer).oh)
    with ProcessPoolExecutor(args.jobs) as pool:
        measured = {r.layer: r for r in pool.map(measure_layer, [(args.target, x) for x in order])}
    results = [measured[layer] for layer in args.layers]
    print_table(results, args.target)
    total = sum(r.configs for r in results)
    programs = sum(r.programs for r in results)
    print(
        f"\n{total} configurations ({programs} distinct programs) in "
        f"{time.perf_counter() - start:.0f} s with {args.jobs} "
        f"processes on {platform.platform()} ({os.cpu_count()} CPUs, "
        f"{platform.processor() or platform.machine()}); model at commit {_model_commit()}"
    )


if __name__ == "__main__":
    main()
