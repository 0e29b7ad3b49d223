"""Stage ``publish``: a finished run's small report files copied to ``docs/results/``.

``snakemake publish`` (rules/publish.smk) copies the summary tables, ``summary.md``,
``simstats.md`` and the PNG figures, which is how the full run of ``config/results.yaml`` is
published (``docs/results.md``). Each copy is renamed into place whole.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Sequence
from pathlib import Path

from ..workflow.tables import atomic_write

__all__ = ["run_publish"]

logger = logging.getLogger(__name__)


def run_publish(sources: Sequence[str | Path], destinations: Sequence[str | Path]) -> None:
    """Copy each of ``sources`` to the destination at the same place in ``destinations``."""
    if len(sources) != len(destinations):
        raise ValueError(f"{len(sources)} files to publish but {len(destinations)} destinations")
    for source, destination in zip(sources, destinations, strict=True):
        atomic_write(destination, lambda tmp, source=source: shutil.copyfile(source, tmp))
        logger.info("published %s as %s", source, destination)
