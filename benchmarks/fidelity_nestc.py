"""Fidelity of the ``nestc`` model against NEST-C's board-tuned schedules (issue 12).

For each ResNet-18 layer, measures every configuration of the layer's ``nestc`` space (compile +
timing simulation, as the workflow's simulate stage does), then places the schedule NEST-C's
authors found best on a real ZCU102 board among them: its status, its latency over the model's
optimum, and its rank among the valid configurations.

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

from ml2tuner.space.templates import KnobError, get_template
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
# etri/nest-compiler utils/profiling_script/run.sh:3-7 sweeps vthread 1..8, tile_h, tile_w 1..56.
SWEEP_MAX_TILE = 56
TEMPLATE = "nestc"


@dataclass
class LayerResult:
    """One layer's space, measured, and where the board's schedule falls in it."""

    layer: str
    configs: int
    valid_latencies: list[float]
    valid_copies: list[int]  # how many configurations of NEST-C's unclipped sweep each one is
    best_knobs: tuple[int, int, int] | None
    board_in_space: bool
    board_status: str
    board_kind: str
    board_latency: float
    board_threads: float
    seconds: float

    @property
    def best(self) -> float:
        return min(self.valid_latencies, default=float("nan"))

    @property
    def ratio(self) -> float:
        return self.board_latency / self.best

    @property
    def rank(self) -> int:
        """1 + the valid configurations strictly faster than the board's schedule."""
        return 1 + sum(lat < self.board_latency for lat in self.valid_latencies)

    @property
    def sweep_rank(self) -> int:
        """The rank in NEST-C's 8 x 56 x 56 sweep if tiles larger than the output are clipped."""
        return 1 + sum(
            copies
            for lat, copies in zip(self.valid_latencies, self.valid_copies, strict=True)
            if lat < self.board_latency
        )


def _sweep_copies(knobs: dict, top_h: int, top_w: int) -> int:
    """Configurations of run.sh's sweep (tiles 1..56 each) that clip to ``knobs``.

    ``top_h``, ``top_w``: the largest tile values of our space (the output size when the space
    is clipped, 56 when it is not; then every configuration is one of the sweep's).
    """

    def copies(tile: int, top: int) -> int:
        return SWEEP_MAX_TILE - top + 1 if tile == top else 1

    return copies(knobs["tile_h"], top_h) * copies(knobs["tile_w"], top_w)


def _knob_tuple(knobs: dict) -> tuple[int, int, int]:
    return knobs["n_vthread"], knobs["tile_h"], knobs["tile_w"]


def measure_layer(job: tuple[str, str]) -> LayerResult:
    """Measure a layer's whole ``nestc`` space and the board schedule (a worker's job)."""
    target_name, layer = job
    start = time.perf_counter()
    target, workload = get_target(target_name), get_layer(layer)
    template = get_template(TEMPLATE)
    vthread, tile_h, tile_w, _ = BOARD_SCHEDULES[layer]
    board = {"n_vthread": vthread, "tile_h": tile_h, "tile_w": tile_w}
    try:
        template.validate(board, workload, target)
        in_space = True
    except KnobError:
        in_space = False
    valid: list[float] = []
    copies: list[int] = []
    best_knobs, best = None, float("inf")
    board_result = None
    space = template.enumerate(workload, target)
    values = template.knob_values(workload, target)
    top_h, top_w = max(values["tile_h"]), max(values["tile_w"])
    for knobs in space:
        result = measure(workload, target, TEMPLATE, knobs)
        if result.status == "valid":
            valid.append(result.latency_us)
            copies.append(_sweep_copies(knobs, top_h, top_w))
            if result.latency_us < best:
                best, best_knobs = result.latency_us, _knob_tuple(knobs)
        if knobs == board:
            board_result = result
    if board_result is None:
        # Outside our (clipped) space: the compiler still accepts it and clips the tile.
        board_result = measure(workload, target, TEMPLATE, board)
    return LayerResult(
        layer,
        len(space),
        valid,
        copies,
        best_knobs,
        in_space,
        board_result.status,
        board_result.error_kind,
        board_result.latency_us,
        float(board_result.hidden.get("threads", float("nan"))),
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
        "| layer | board (vt, th, tw) | in space | threads used | status | board µs "
        "| model optimum µs (vt, th, tw) | board / optimum | rank among valid "
        "| rank in the unclipped sweep |"
    )
    print("|---|---|---|---:|---|---:|---:|---:|---:|---:|")
    for r in results:
        vt, th, tw, line = BOARD_SCHEDULES[r.layer]
        status = r.board_status + (f" ({r.board_kind})" if r.board_kind else "")
        valid = r.board_status == "valid"
        rank = f"{r.rank if valid else '—'} / {len(r.valid_latencies)}"
        sweep_rank = f"{r.sweep_rank if valid else '—'} / {sum(r.valid_copies)}"
        print(
            f"| {r.layer} | ({vt}, {th}, {tw}) [h:{line}] | "
            f"{'yes' if r.board_in_space else 'NO (tile > output; clipped)'} | "
            f"{r.board_threads:.0f} | {status} | {r.board_latency:.0f} | "
            f"{r.best:.0f} {r.best_knobs} | "
            f"{f'{r.ratio:.3f}' if valid else '—'} | "
            f"{rank} | {sweep_rank} |"
        )
    print(
        "\nrank in the unclipped sweep: among the valid configurations of run.sh's 8 x 56 x 56 "
        "sweep, if NEST-C clips a tile larger than the output to the output (each clipped "
        "configuration counted as often as the sweep visits it)"
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
    # Largest spaces first so the pool's tail is short.
    order = sorted(
        args.layers,
        key=lambda layer: -get_template(TEMPLATE).size(get_layer(layer), get_target(args.target)),
    )
    with ProcessPoolExecutor(args.jobs) as pool:
        measured = {r.layer: r for r in pool.map(measure_layer, [(args.target, x) for x in order])}
    results = [measured[layer] for layer in args.layers]
    print_table(results, args.target)
    total = sum(r.configs for r in results)
    print(
        f"\n{total} configurations in {time.perf_counter() - start:.0f} s with {args.jobs} "
        f"processes on {platform.platform()} ({os.cpu_count()} CPUs, "
        f"{platform.processor() or platform.machine()}); model at commit {_model_commit()}"
    )


if __name__ == "__main__":
    main()
