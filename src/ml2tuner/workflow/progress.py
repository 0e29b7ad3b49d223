"""Logging for rule jobs: one log file per job, progress lines with counts and rates."""

from __future__ import annotations

import logging
import time
from pathlib import Path

__all__ = ["log_to", "Progress"]

_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def log_to(path: str | Path | None, level: int = logging.INFO) -> None:
    """Send the ``ml2tuner`` loggers (and warnings) to ``path`` (stderr when None)."""
    handler: logging.Handler
    if path is None:
        handler = logging.StreamHandler()
    else:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(path, mode="w", encoding="utf-8")
    handler.setFormatter(logging.Formatter(_FORMAT, datefmt="%Y-%m-%d %H:%M:%S"))
    root = logging.getLogger("ml2tuner")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False
    logging.captureWarnings(True)
    logging.getLogger("py.warnings").handlers[:] = [handler]


class Progress:
    """Counts work items and logs ``label: done/total (pct), elapsed, left`` every ~5 %."""

    def __init__(
        self, label: str, total: int, logger: logging.Logger, min_interval_s: float = 2.0
    ) -> None:
        self.label, self.total, self.logger = label, total, logger
        self.done = 0
        self.start = time.perf_counter()
        self.step = max(1, total // 20)
        self.min_interval_s = min_interval_s
        self._last_log = self.start
        logger.info("%s: %d to do", label, total)

    def advance(self, n: int = 1) -> None:
        before, self.done = self.done, self.done + n
        now = time.perf_counter()
        crossed = self.done // self.step != before // self.step
        if self.done >= self.total or (crossed and now - self._last_log >= self.min_interval_s):
            self._last_log = now
            self._log(now)

    def _log(self, now: float) -> None:
        elapsed = now - self.start
        rate = self.done / elapsed if elapsed > 0 else float("inf")
        left = (self.total - self.done) / rate if rate > 0 else float("nan")
        self.logger.info(
            "%s: %d/%d (%.0f%%), %.1f s elapsed, ~%.0f s left, %.0f/s",
            self.label,
            self.done,
            self.total,
            100.0 * self.done / max(1, self.total),
            elapsed,
            left,
            rate,
        )
