"""Stage ``prior``: models trained on the run's other units, to warm-start a strategy.

For a unit and a strategy whose settings have a ``prior`` other than ``none``
(``ml2tuner_plus``), :func:`prior_units` picks the run's other units in that scope and
:func:`run_prior` trains the strategy's models on their measured tables
(:func:`ml2tuner.tuners.train_prior`), written as ``prior/{strategy}/{role}.json``. The tune
stage hands them to the tuner (``warm_start``). The tuned unit is never a source: it is in no
scope, and :func:`run_prior` refuses it. A run with no other unit in scope has no prior job;
the tune job then runs without a prior and says so in its log.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..tuners import TUNERS, Tuner, train_prior
from ..tuners._ml2tuner_plus import (
    ML2TunerPlusSettings,
    PriorModels,
    PriorSource,
    in_scope,
    unit_identity,
)
from ..workflow.config import Unit
from ..workflow.tables import read_table

__all__ = ["prior_scope", "prior_units", "run_prior", "warm_start"]

logger = logging.getLogger(__name__)


def prior_scope(strategy: str, options: Mapping[str, Any] | None) -> str:
    """The ``prior`` option of ``strategy`` with ``options`` (``none`` if it has no such
    option)."""
    settings = TUNERS[strategy].settings_class.from_options(options)
    return settings.prior if isinstance(settings, ML2TunerPlusSettings) else "none"


def prior_units(unit: Unit, units: Sequence[Unit], scope: str) -> list[Unit]:
    """The units of ``units`` in ``scope`` of ``unit`` (same template; never ``unit``)."""
    if scope == "none":
        return []
    tuned = unit_identity(unit.workload, unit.target)
    same_template = [u for u in units if u.template == unit.template]
    return [u for u in same_template if in_scope(scope, tuned, unit_identity(u.workload, u.target))]


def run_prior(
    unit: Unit,
    sources: Sequence[tuple[Unit, str | Path, str | Path, str | Path]],
    out_dir: str | Path,
    strategy: str,
    settings: Mapping[str, Any],
    seed: int = 0,
) -> None:
    """Train ``strategy``'s models on ``sources`` and write them to ``out_dir``.

    Args:
        unit: the unit the prior is for (never one of the sources).
        sources: per source unit, ``(unit, space, compiled, measured)`` paths.
        out_dir: ``prior/{strategy}``: one ``{role}.json`` per model.
        strategy: a strategy with a ``prior`` option.
        settings: its ``tuner_settings`` (objective, booster parameters, feature sets).
        seed: seeds the row sampling and the boosters.
    """
    tuner_settings = TUNERS[strategy].settings_class.from_options(settings)
    if not isinstance(tuner_settings, ML2TunerPlusSettings):
        raise ValueError(f"{strategy} takes no prior")
    if any(src.key == unit.key for src, *_ in sources):
        raise ValueError(f"{unit.path}: the prior may not include the unit being tuned")
    # One source's tables at a time: train_prior keeps only its sampled rows of each, so the
    # job holds one whole source, not all of them (19 sweep spaces took it over 1 GB).
    tables = (
        PriorSource(
            read_table(space, "space", src),
            read_table(compiled, "compiled", src),
            read_table(measured, "measured", src),
            src.workload,
            src.target,
        )
        for src, space, compiled, measured in sources
    )
    prior = train_prior(tables, tuner_settings, seed=seed)
    paths = prior.save(out_dir)
    logger.info(
        "prior %s for %s from %s: %s",
        tuner_settings.prior,
        unit.path,
        ", ".join(src.path for src, *_ in sources),
        ", ".join(p.name for p in paths),
    )


def warm_start(tuner: Tuner, prior_dir: str | Path | None, unit: Unit) -> None:
    """Give ``tuner`` the prior in ``prior_dir`` if its settings ask for one.

    Without a prior (the run has no other unit in scope, so there is no prior job), a tuner
    that asks for one runs with ``prior: none`` and the log says so.
    """
    if not isinstance(tuner.settings, ML2TunerPlusSettings) or tuner.settings.prior == "none":
        return
    scope = tuner.settings.prior
    if prior_dir is None:
        logger.info(
            "%s on %s: prior %s asked, but the run has no other unit in that scope: "
            "falling back to prior none",
            tuner.name,
            unit.path,
            scope,
        )
        return
    tuner.warm_start(PriorModels.load(sorted(Path(prior_dir).glob("*.json"))))
    logger.info("%s on %s: warm start from %s (prior %s)", tuner.name, unit.path, prior_dir, scope)
