"""Progress lines with counts and rates, for the long loops of the compile and simulate stages."""

from __future__ import annotations

import logging
import time

__all__ = ["Progress"]


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
