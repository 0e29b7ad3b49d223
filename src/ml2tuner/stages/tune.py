"""Stage ``tune``: one tuning run of one strategy and seed, replayed on ``measured.parquet``.

The strategy comes from the tuners' registry (:data:`ml2tuner.tuners.TUNERS`), configured by
the run's ``tuner_settings`` entry (unknown options are refused); it measures through a
:class:`~ml2tuner.measure.ReplayMeasurer`, which is exact because the simulator is
deterministic. The trial log (``ml2tuner.tuners.run_tuning``) is written as it comes.

The tuners do not load the ``train`` stage's models: those were fitted on most of this very
space (``model.train_fraction``) and would hand a tuner the answer. Every model-based strategy
trains its own models online, on what it has measured so far.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..measure import RESULT_COLUMNS, ReplayMeasurer
from ..tuners import TUNERS, TuningSpace, make_tuner, run_tuning
from ..workflow.columns import tuning_columns
from ..workflow.config import Unit, canonical_json
from ..workflow.tables import derived_metadata, read_metadata, read_table, write_table

__all__ = ["STRATEGIES", "run_tune"]

logger = logging.getLogger(__name__)

STRATEGIES: tuple[str, ...] = tuple(TUNERS)  # the registry is the one list of strategies


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
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}: allowed {', '.join(STRATEGIES)}")
    upstream = read_metadata(measured_path, "measured", unit)
    tuning_space = TuningSpace(
        read_table(space_path, "space", unit),
        unit.workload,
        unit.target,
        read_table(compiled_path, "compiled", unit),
        template=unit.template,
        statistics=(
            read_table(statistics_path, "simstats", unit) if statistics_path is not None else None
        ),
    )
    tuner = make_tuner(strategy, tuning_space, seed=seed, options=settings)
    if budget > tuning_space.n:
        logger.info(
            "budget %d exceeds the space (%d configurations): capped", budget, tuning_space.n
        )
    logger.info(
        "%s on %s, seed %d, budget %d, settings %s",
        strategy,
        unit.path,
        seed,
        budget,
        canonical_json(tuner.settings.as_dict()),
    )
    measurer = ReplayMeasurer(read_table(measured_path, "measured", unit, list(RESULT_COLUMNS)))
    trials = run_tuning(tuner, measurer, budget)
    n_valid = int((trials["status"] == "valid").sum())
    logger.info(
        "%s seed %d: %d trials, %d valid (%.1f %% invalid), best %.1f us, %.2f s in the tuner",
        strategy,
        seed,
        len(trials),
        n_valid,
        100 * (1 - n_valid / max(len(trials), 1)),
        trials["best_latency_us"].iloc[-1] if len(trials) else float("nan"),
        trials["tuner_wall_s"].sum(),
    )
    meta = derived_metadata(
        upstream,
        "tune",
        {"strategy": strategy, "seed": seed, "budget": budget, "settings": dict(settings)},
    )
    meta["strategy"], meta["seed"] = strategy, str(seed)
    meta["tuner_settings"] = canonical_json(tuner.settings.as_dict())
    write_table(trials, out_path, "tuning", meta, tuning_columns(tuning_space.knob_names))
