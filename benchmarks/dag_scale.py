"""What the whole network (config/resnet18.yaml) costs: its DAG, its tuning, its simulation.

Four measurements, each printed with the machine it ran on and the arithmetic of every
extrapolation (issue 11, point 3):

    python benchmarks/dag_scale.py dag        # jobs of `snakemake -n` and how long it takes
    python benchmarks/dag_scale.py tune results/pynq/C*/nestc results/pynq/C*/autotvm
                                              # a sample of units' tune jobs, extrapolated
    python benchmarks/dag_scale.py simulate --target zcu102 --sample 200
                                              # every space of one target, from a sample of each
    python benchmarks/dag_scale.py run /path/to/workflow --boards 5
                                              # a finished run's cost per rule, to 5 boards

``dag`` plans the configuration in a copy of the workflow (nothing is run). ``tune`` runs
every strategy of the configuration on existing unit folders (space, compiled, measured and
simstats tables) for the first ``--seeds`` seeds, in this process as the tune job would, and
scales the mean tune job of the sample to every unit (a strategy's cost varies with the space,
in both directions, so one unit bounds nothing). ``simulate``
compiles (the compile stage) and compiles + simulates + counts (a simulate shard) an evenly
spread sample of each of the target's 20 spaces and scales the CPU time per configuration to
the whole space. CPU time is what is extrapolated: wall time depends on what else the machine
runs (the load average is printed).
"""

from __future__ import annotations

import argparse
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from machine import describe

REPO = Path(__file__).resolve().parents[1]
CONFIG = REPO / "config/resnet18.yaml"
WORKFLOW_FILES = ("Snakefile", "config", "rules", "scripts", "envs", "profiles", "report")


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


# ---- dag ---------------------------------------------------------------------------------------


def bench_dag(config: Path) -> None:
    """Plan ``config`` with ``snakemake -n`` in a copy of the workflow; print jobs and times."""
    with tempfile.TemporaryDirectory() as tmp:
        for name in WORKFLOW_FILES:
            source = REPO / name
            (shutil.copytree if source.is_dir() else shutil.copy2)(source, Path(tmp) / name)
        shutil.copy2(config, Path(tmp) / "plan.yaml")
        snakemake = Path(sys.executable).with_name("snakemake")
        cpu, start = _children_cpu(), time.perf_counter()
        proc = subprocess.run(
            [str(snakemake), "-n", "--configfile", "plan.yaml"],
            cwd=tmp,
            capture_output=True,
            text=True,
            check=True,
        )
        wall, cpu = time.perf_counter() - start, _children_cpu() - cpu
    stats = proc.stdout[proc.stdout.index("Job stats:") :]
    counts = dict(re.findall(r"^(\w+)\s+(\d+)$", stats[: stats.index("Reasons")], re.M))
    print(describe())
    print(f"`snakemake -n --configfile {config.relative_to(REPO)}`:")
    for rule, n in counts.items():
        print(f"  {rule:<16} {n:>5}")
    print(f"  wall time {wall:.1f} s, CPU time (user + system) {cpu:.1f} s")


# ---- tune --------------------------------------------------------------------------------------


def _tune_unit_cost(unit_dir: Path, seeds: list[int], cfg) -> dict[str, float]:
    """CPU-s per run of each of ``cfg``'s strategies on one unit folder, as its tune job runs
    them (one process, the unit's tables read once per strategy)."""
    from ml2tuner.stages.tune import TuningRun, run_tune_unit
    from ml2tuner.workflow.config import Unit
    from ml2tuner.workflow.tables import read_metadata

    unit = Unit.from_metadata(read_metadata(unit_dir / "measured.parquet"))
    per_strategy: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as out:
        for strategy in cfg.strategies:
            runs = [
                TuningRun(strategy, seed, Path(out) / f"{strategy}/seed{seed}.parquet")
                for seed in seeds
            ]
            start = time.process_time()
            run_tune_unit(
                unit,
                unit_dir / "space.parquet",
                unit_dir / "compiled.parquet",
                unit_dir / "measured.parquet",
                runs,
                budget=cfg.budget,
                settings={strategy: cfg.strategy_settings(strategy)},
                statistics_path=unit_dir / "simstats.parquet",
            )
            per_strategy[strategy] = (time.process_time() - start) / len(seeds)
    return per_strategy


def bench_tune(unit_dirs: list[Path], n_seeds: int, config: Path) -> None:
    """Run the tune job of each unit folder for ``n_seeds`` seeds; extrapolate the mean cost of
    a unit to the whole network. A strategy's cost depends on the space (Optuna re-asks more on
    small spaces, the model-based tuners score every configuration), so give a sample of
    layers and templates, not one unit."""
    import pandas as pd

    from ml2tuner.workflow.config import load_config_file

    cfg = load_config_file(config)
    seeds = cfg.seeds[:n_seeds]
    costs = pd.DataFrame(
        {str(unit_dir): _tune_unit_cost(unit_dir, seeds, cfg) for unit_dir in unit_dirs}
    ).T  # unit x strategy, CPU-s per run
    max_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    per_unit = costs.sum(axis=1) * len(cfg.seeds)  # one tune job: every strategy x seed
    n_units = len(cfg.units())
    total = per_unit.mean() * n_units
    print(describe())
    print(
        f"CPU-s per run (budget {cfg.budget}, mean of {len(seeds)} seed(s)), and one tune job "
        f"({len(cfg.strategies)} strategies x {len(cfg.seeds)} seeds):"
    )
    with pd.option_context("display.width", 200):
        print(costs.assign(tune_job=per_unit).round(2).to_string())
    print(f"mean per run: {costs.mean().round(2).to_dict()}")
    print(f"max RSS of this process (every run above, one after another): {max_rss_mb:.0f} MB")
    print(
        f"one tune job: mean {per_unit.mean():.0f} CPU-s (min {per_unit.min():.0f}, "
        f"max {per_unit.max():.0f}) over {len(per_unit)} units"
    )
    print(
        f"whole network ({config.relative_to(REPO)}): {n_units} tune jobs x "
        f"{per_unit.mean():.0f} CPU-s = {total:.0f} CPU-s = {total / 3600:.1f} core-hours; "
        f"on 2 cores {total / 2 / 3600:.1f} h, on 16 cores {total / 16 / 3600:.2f} h (if the "
        "units measured are typical of the 100)"
    )


# ---- simulate ----------------------------------------------------------------------------------


def _sample_cost(job: tuple[str, str, str, int]) -> tuple[str, str, int, int, float]:
    """CPU seconds to compile, then compile + simulate + count, a sample of one space."""
    from ml2tuner.stages.compile import compiled_frame
    from ml2tuner.stages.simulate import simulate_frames
    from ml2tuner.stages.space_tables import space_table
    from ml2tuner.vta.target import get_target
    from ml2tuner.vta.workload import get_layer
    from ml2tuner.workflow.config import Unit

    target_name, layer, template, n_sample = job
    target, workload = get_target(target_name), get_layer(layer)
    space = space_table(workload, target, template)
    sample = space.iloc[:: max(1, len(space) // n_sample)].reset_index(drop=True)
    unit = Unit(target, workload, template)
    simulate_frames(unit, sample.iloc[:1], compiled_frame(unit, sample.iloc[:1]))  # JIT warm-up
    start = time.process_time()
    simulate_frames(unit, sample, compiled_frame(unit, sample))
    return layer, template, len(space), len(sample), time.process_time() - start


def bench_simulate(target: str, n_sample: int, jobs: int, config: Path) -> None:
    """Extrapolate the compile + simulate stages of one target's spaces from samples."""
    from ml2tuner.workflow.config import load_config_file

    cfg = load_config_file(config)
    work = [(target, layer, tpl, n_sample) for layer in cfg.layers for tpl in cfg.templates]
    start = time.perf_counter()
    with ProcessPoolExecutor(jobs) as pool:
        results = list(pool.map(_sample_cost, work))
    wall = time.perf_counter() - start
    print(describe())
    print(f"compile + simulate + count on {target}: a sample of each space, {jobs} processes")
    print("| layer | template | configurations | sampled | CPU-s | ms each | whole space CPU-s |")
    print("|---|---|---:|---:|---:|---:|---:|")
    total = 0.0
    for layer, template, size, sampled, cpu in results:
        whole = cpu / sampled * size
        total += whole
        print(
            f"| {layer} | {template} | {size} | {sampled} | {cpu:.1f} | "
            f"{1000 * cpu / sampled:.1f} | {whole:.0f} |"
        )
    n_configs = sum(r[2] for r in results)
    print(
        f"every space of {target}: {n_configs} configurations, {total:.0f} CPU-s "
        f"(sum of size x ms each) = {total / 3600:.2f} core-hours; on 2 cores "
        f"{total / 2:.0f} s = {total / 2 / 60:.1f} min (the spaces' shards run in parallel)"
    )
    print(f"(this sample took {wall:.0f} s wall)")


# ---- run ---------------------------------------------------------------------------------------


def bench_run(run_dir: Path, boards: int) -> None:
    """What a finished run cost, from Snakemake's ``benchmark:`` files (one TSV per job: wall
    ``s``, ``cpu_time``, ``max_rss`` in MB), per rule; scaled to ``boards`` boards by the run's
    cost per board (every per-unit rule scales with the units; the run's boards are given by its
    ``results/`` folders)."""
    import pandas as pd

    rows = []
    for tsv in sorted((run_dir / "benchmarks").glob("**/*.tsv")):
        rule = tsv.relative_to(run_dir / "benchmarks").parts[0]
        last = pd.read_csv(tsv, sep="\t").iloc[-1]  # a re-run job appends a line: its last
        rows.append((rule, float(last["s"]), float(last["cpu_time"]), float(last["max_rss"])))
    if not rows:
        sys.exit(f"{run_dir}: no benchmarks/**/*.tsv (not a finished workflow run?)")
    jobs = pd.DataFrame(rows, columns=["rule", "wall_s", "cpu_s", "max_rss_mb"])
    per_rule = jobs.groupby("rule").agg(
        jobs=("rule", "size"),
        cpu_s=("cpu_s", "sum"),
        wall_s=("wall_s", "sum"),
        max_cpu_s=("cpu_s", "max"),
        max_rss_mb=("max_rss_mb", "max"),
    )
    n_boards = sum(1 for d in (run_dir / "results").iterdir() if (d / "C2").is_dir()) or 1
    disk = sum(f.stat().st_size for f in (run_dir / "results").rglob("*") if f.is_file())
    print(describe())
    print(f"run {run_dir}: {len(jobs)} jobs with a benchmark file, {n_boards} boards")
    print(per_rule.round(1).to_string())
    total = per_rule["cpu_s"].sum()
    print(
        f"total {total:,.0f} CPU-s = {total / 3600:.2f} core-hours; "
        f"{total / n_boards:,.0f} CPU-s per board; results/ {disk / 1e9:.2f} GB"
    )
    print(
        f"{boards} boards: {total:,.0f} / {n_boards} x {boards} = {total / n_boards * boards:,.0f}"
        f" CPU-s = {total / n_boards * boards / 3600:.1f} core-hours "
        f"({total / n_boards * boards / 3600 / 16:.1f} h on 16 cores, if the work spreads); "
        f"disk {disk / n_boards * boards / 1e9:.2f} GB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=CONFIG)
    sub = parser.add_subparsers(dest="what", required=True)
    sub.add_parser("dag", help="jobs and time of snakemake -n")
    tune = sub.add_parser("tune", help="a sample of units' tune jobs, extrapolated")
    tune.add_argument(
        "unit_dirs", type=Path, nargs="+", help="results/{target}/{layer}/{template} folders"
    )
    tune.add_argument("--seeds", type=int, default=1, help="seeds per strategy measured")
    simulate = sub.add_parser("simulate", help="one target's spaces, extrapolated")
    simulate.add_argument("--target", default="zcu102")
    simulate.add_argument("--sample", type=int, default=200, help="configurations per space")
    simulate.add_argument("--jobs", type=int, default=2)
    run = sub.add_parser("run", help="a finished run's cost per rule, from its benchmark files")
    run.add_argument("run_dir", type=Path, help="the workflow folder the run was made in")
    run.add_argument("--boards", type=int, default=5, help="boards to extrapolate to")
    args = parser.parse_args()
    config = args.config.resolve()
    if args.what == "tune":
        for unit_dir in args.unit_dirs:
            if not (unit_dir / "measured.parquet").exists():
                parser.error(f"{unit_dir}: no measured.parquet; give unit folders of results/")
    if args.what == "dag":
        bench_dag(config)
    elif args.what == "tune":
        bench_tune(args.unit_dirs, args.seeds, config)
    elif args.what == "run":
        bench_run(args.run_dir, args.boards)
    else:
        bench_simulate(args.target, args.sample, args.jobs, config)


if __name__ == "__main__":
    main()
