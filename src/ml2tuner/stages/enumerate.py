"""Stage ``enumerate``: every configuration of a unit's search space, one row each."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pandas as pd

from ..space.templates import get_template
from ..workflow.columns import flatten_knobs, space_columns
from ..workflow.config import Unit
from ..workflow.tables import unit_metadata, write_table

__all__ = ["space_frame", "run_enumerate", "knobs_of"]

logger = logging.getLogger(__name__)


def space_frame(unit: Unit) -> pd.DataFrame:
    """The space table of ``unit``: ``config_id``, ``knobs_json`` and one column per knob."""
    configs = get_template(unit.template).enumerate(unit.workload, unit.target)
    rows = [
        {
            "config_id": config_id,
            "knobs_json": json.dumps(knobs, separators=(",", ":")),
            **flatten_knobs(knobs),
        }
        for config_id, knobs in enumerate(configs)
    ]
    columns = [name for name, _ in space_columns(unit.template, unit.workload, unit.target)]
    return pd.DataFrame(rows, columns=columns)


def knobs_of(knobs_json: str) -> dict:
    """The knobs of one space row (its ``knobs_json``)."""
    return json.loads(knobs_json)


def run_enumerate(unit: Unit, out: str | Path) -> None:
    """Write ``space.parquet`` for ``unit``."""
    frame = space_frame(unit)
    logger.info("%s: %d configurations in template %s", unit.path, len(frame), unit.template)
    write_table(
        frame,
        out,
        "space",
        unit_metadata(unit, "enumerate", unit.section()),
        space_columns(unit.template, unit.workload, unit.target),
    )
