"""Stage ``tune``: the tuning runs of one unit, replayed on ``measured.parquet``.

One ``tune`` job runs every strategy × seed of a unit (:func:`run_tune_unit`) in one process:
the unit's tables are read and its :class:`~ml2tuner.tuners.TuningSpace` built once, and each
run's trial log (``ml2tuner.tuners.run_tuning``) is written to
``tuning/{strategy}/seed{seed}.parquet`` atomically as soon as the run ends. A run whose table
is already done (:func:`is_done`) is not run again, so a job that was interrupted resumes with
the first run it had not finished. :func:`run_tune` is one run on its own.

The strategy comes from the tuners' registry (:data:`ml2tuner.tuners.TUNERS`), configured by
the run's ``tuner_settings`` entry (unknown options are refused); it measures through a
:class:`~ml2tuner.measure.ReplayMeasurer`, which is exact because the simulator is
deterministic.

The tuners do not load the ``train`` stage's models: those were fitted on most of this very
space (``model.train_fraction``) and would hand a tuner the answer. Every model-based strategy
trains its own models online, on what it has measured so far.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import __version__
from ..measure import RESULT_COLUMNS, Measurer, ReplayMeasurer
from ..tuners import TUNERS, TuningSpace, make_tuner, run_tuning
from ..workflow.columns import tuning_columns
from ..workflow.config import Unit, canonical_json
from ..workflow.tables import (
    TableError,
    check_table,
    derived_metadata,
    read_metadata,
    read_table,
    write_table,
)
from .prior import warm_start

__all__ = ["STRATEGIES", "TuningRun", "is_done", "run_tune", "run_tune_unit", "trial_log"]

logger = logging.getLogger(__name__)

STRATEGIES: tuple[str, ...] = tuple(TUNERS)  # the registry is the one list of strategies


def trial_log(tuning_dir: str | Path, strategy: str, seed: int) -> Path:
    """The trial log of one run in its unit's ``tuning/`` folder (the tune job's output):
    ``tuning/{strategy}/seed{seed}.parquet``."""
    return Path(tuning_dir) / strategy / f"seed{seed}.parquet"


@dataclass(frozen=True)
class TuningRun:
    """One tuning run of a unit: its strategy, its seed and the table it writes."""

    strategy: str
    seed: int
    path: Path
    tuner: str | None = None  # the registry's tuner a variant runs; None: ``strategy`` itself
    budget: int | None = None  # a variant's own budget; None: the job's

    @property
    def tuner_name(self) -> str:
        return self.tuner or self.strategy

    def budget_or(self, default: int) -> int:
        """The run's budget: a variant's own, else the job's ``default``."""
        return self.budget or default


@dataclass(frozen=True)
class _Replay:
    """What every run of a unit shares: the space, the replayed measurements, the inputs."""

    unit: Unit
    space: TuningSpace
    measurer: Measurer
    upstream: Mapping[str, str]  # measured.parquet's metadata, which the trial logs extend
    inputs: tuple[Path, ...]


def run_tune(
    unit: Unit,
    space_path: str | Path,
    compiled_path: str | Path,
    measured_path: str | Path,
    out_path: str | Path,
    strategy: str,
    seed: int,
    budget: int,
    settings: Mapping[str, Any],
    statistics_path: str | Path | None = None,
) -> None:
    """Run one tuning run of ``strategy`` and write its trials to ``out_path``.

    Args:
        unit: the job's unit; every input table is checked against it.
        space_path, compiled_path, measured_path: the unit's tables (``compiled`` gives the
            hidden features and compile status; ``measured`` is replayed).
        out_path: ``tuning/{strategy}/seed{seed}.parquet``.
        strategy: a name of :data:`STRATEGIES`.
        seed: the run's seed (the tuner's only source of randomness).
        budget: measurements allowed (capped at the space size).
        settings: the strategy's ``tuner_settings`` from the configuration.
        statistics_path: the unit's ``simstats.parquet`` (the counting pass's statistics,
            which cost no measurement; the ``simstats`` strategy ranks by them), or None.
    """
    _check_strategies([strategy])
    replay = _load(unit, space_path, compiled_path, measured_path, statistics_path)
    _tune_one(replay, TuningRun(strategy, seed, Path(out_path)), budget, settings)


def run_tune_unit(
    unit: Unit,
    space_path: str | Path,
    compiled_path: str | Path,
    measured_path: str | Path,
    runs: Sequence[TuningRun],
    budget: int,
    settings: Mapping[str, Mapping[str, Any]],
    statistics_path: str | Path | None = None,
    priors: Mapping[str, str | Path] | None = None,
) -> list[TuningRun]:
    """Run every run of ``runs`` that is not done yet (:func:`is_done`), in order.

    Each run's table is written atomically when the run ends, so an interrupted call leaves
    whole tables of the runs it finished, and the next call runs only the others.

    Args:
        unit: the job's unit; every input table is checked against it.
        space_path, compiled_path, measured_path, statistics_path: as for :func:`run_tune`.
        runs: the (strategy, seed, table) of each run, and a variant's tuner and budget.
        budget: measurements per run (capped at the space size), unless the run has its own.
        settings: strategy → its ``tuner_settings`` (a strategy left out runs with its
            defaults).
        priors: strategy → its ``prior/{strategy}`` folder (:mod:`.prior`), for the
            strategies that asked for a prior and have one.
    Returns:
        the runs that were run (the others were done already).
    """
    _check_strategies([run.tuner_name for run in runs])
    replay = _load(unit, space_path, compiled_path, measured_path, statistics_path)
    priors = priors or {}
    todo = [
        run
        for run in runs
        if not is_done(run, replay, run.budget_or(budget), settings.get(run.strategy, {}))
        or _prior_is_newer(run, priors.get(run.strategy))
    ]
    logger.info(
        "%s: %d tuning runs, %d done already, %d to run",
        unit.path,
        len(runs),
        len(runs) - len(todo),
        len(todo),
    )
    for i, run in enumerate(todo, 1):
        logger.info("run %d/%d: %s seed %d", i, len(todo), run.strategy, run.seed)
        _tune_one(
            replay,
            run,
            run.budget_or(budget),
            settings.get(run.strategy, {}),
            priors.get(run.strategy),
        )
    return todo


def is_done(run: TuningRun, replay: _Replay, budget: int, settings: Mapping[str, Any]) -> bool:
    """Whether ``run``'s table is there and is what running it again would write.

    That is: a whole tuning table of this unit (the checked reader's tests), written by this
    ml2tuner for the same strategy, seed, budget and settings (its config hash), and newer than
    every input table, as Snakemake would judge it (a recompiled space makes it stale).
    """
    if not run.path.exists():
        return False
    try:
        meta = check_table(run.path, "tuning", replay.unit)
    except TableError as exc:
        logger.info("%s: not reused (%s)", run.path, exc)
        return False
    expected = _run_metadata(replay, run, budget, settings)
    newest_input = max(path.stat().st_mtime_ns for path in replay.inputs)
    return (
        meta.get("config_hash") == expected["config_hash"]
        and meta.get("ml2tuner_version") == __version__
        and run.path.stat().st_mtime_ns > newest_input
    )


def _prior_is_newer(run: TuningRun, prior_dir: str | Path | None) -> bool:
    """Whether the run's prior was (re)built after its table: a retrained prior re-runs it."""
    if prior_dir is None:
        return False
    return Path(prior_dir).stat().st_mtime_ns > run.path.stat().st_mtime_ns


def _check_strategies(strategies: Sequence[str]) -> None:
    for strategy in strategies:
        if strategy not in STRATEGIES:
            raise ValueError(f"unknown strategy {strategy!r}: allowed {', '.join(STRATEGIES)}")


def _load(
    unit: Unit,
    space_path: str | Path,
    compiled_path: str | Path,
    measured_path: str | Path,
    statistics_path: str | Path | None,
) -> _Replay:
    upstream = read_metadata(measured_path, "measured", unit)
    space = TuningSpace(
        read_table(space_path, "space", unit),
        unit.workload,
        unit.target,
        read_table(compiled_path, "compiled", unit),
        template=unit.template,
        statistics=(
            read_table(statistics_path, "simstats", unit) if statistics_path is not None else None
        ),
    )
    measurer = ReplayMeasurer(read_table(measured_path, "measured", unit, list(RESULT_COLUMNS)))
    paths = [space_path, compiled_path, measured_path, statistics_path]
    inputs = tuple(Path(path) for path in paths if path is not None)
    return _Replay(unit, space, measurer, upstream, inputs)


def _run_metadata(
    replay: _Replay, run: TuningRun, budget: int, settings: Mapping[str, Any]
) -> dict[str, str]:
    """A run's table metadata: the unit's, its config section extended by the run's."""
    section = {"strategy": run.strategy, "seed": run.seed, "budget": budget}
    if run.tuner_name != run.strategy:  # a variant: the tuner it runs is part of its identity
        section["tuner"] = run.tuner_name
    meta = derived_metadata(replay.upstream, "tune", {**section, "settings": dict(settings)})
    meta["strategy"], meta["seed"] = run.strategy, str(run.seed)
    return meta


def _tune_one(
    replay: _Replay,
    run: TuningRun,
    budget: int,
    settings: Mapping[str, Any],
    prior_dir: str | Path | None = None,
) -> None:
    space, unit = replay.space, replay.unit
    tuner = make_tuner(run.tuner_name, space, seed=run.seed, options=settings)
    warm_start(tuner, prior_dir, unit)
    if budget > space.n:
        logger.info("budget %d exceeds the space (%d configurations): capped", budget, space.n)
    logger.info(
        "%s on %s, seed %d, budget %d, settings %s",
        run.strategy,
        unit.path,
        run.seed,
        budget,
        canonical_json(tuner.settings.as_dict()),
    )
    trials = run_tuning(tuner, replay.measurer, budget)
    n_valid = int((trials["status"] == "valid").sum())
    logger.info(
        "%s seed %d: %d trials, %d valid (%.1f %% invalid), best %.1f us, %.2f s in the tuner",
        run.strategy,
        run.seed,
        len(trials),
        n_valid,
        100 * (1 - n_valid / max(len(trials), 1)),
        trials["best_latency_us"].iloc[-1] if len(trials) else float("nan"),
        trials["tuner_wall_s"].sum(),
    )
    meta = _run_metadata(replay, run, budget, settings)
    meta["tuner_settings"] = canonical_json(tuner.settings.as_dict())
    write_table(trials, run.path, "tuning", meta, tuning_columns(space.knob_names))
