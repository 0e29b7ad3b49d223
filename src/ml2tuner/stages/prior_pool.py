"""Stage ``prior_pool``: one folder per template holding the tables the ``prior`` jobs learn from.

A ``prior`` job trains on the space, compiled and measured tables of the run's other units.
Declared as each prior job's own inputs, those tables number three per source unit per prior
job, which grows with the square of the units: the whole network (config/resnet18.yaml) had
~30,000 input files, and Snakemake's work per file made most of ``snakemake -n``'s time. One
``prior_pool`` job per template gathers every unit's three tables instead (checked, then hard
linked, or copied where the file system cannot link), and each prior job has that one folder as
its input. What a prior job reads is unchanged: the same tables, with their metadata, chosen by
the same scope (:func:`ml2tuner.stages.prior.prior_units`); the tuned unit is in the pool but
never a source (``run_prior`` refuses it).
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from ..workflow.config import Unit
from ..workflow.tables import check_table

__all__ = ["POOL_KINDS", "pool_table", "run_prior_pool"]

logger = logging.getLogger(__name__)

POOL_KINDS = ("space", "compiled", "measured")  # what ml2tuner.stages.prior.run_prior reads


def pool_table(pool_dir: str | Path, unit: Unit, kind: str) -> Path:
    """Where the pool of ``unit``'s template holds its ``kind`` table."""
    return Path(pool_dir) / unit.target.name / unit.workload.name / f"{kind}.parquet"


def run_prior_pool(
    units: Sequence[Unit], tables: Mapping[str, Sequence[str | Path]], out_dir: str | Path
) -> None:
    """Check every unit's tables and gather them in ``out_dir`` (written whole, or not at all).

    Args:
        units: the template's units, in the order of each list of ``tables``.
        tables: kind (:data:`POOL_KINDS`) → each unit's table of that kind.
        out_dir: the pool folder, ``results/prior_pool/{template}``.
    Raises:
        TableError: a table is not its unit's (one line naming its path).
    """
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        for kind in POOL_KINDS:
            for unit, path in zip(units, tables[kind], strict=True):
                check_table(path, kind, unit)
                dest = pool_table(staging, unit, kind)
                dest.parent.mkdir(parents=True, exist_ok=True)
                try:
                    os.link(path, dest)
                except OSError:  # another file system, or links not allowed
                    shutil.copy2(path, dest)
        os.replace(staging, out_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    logger.info("prior pool %s: %d units x %s", out_dir, len(units), ", ".join(POOL_KINDS))
