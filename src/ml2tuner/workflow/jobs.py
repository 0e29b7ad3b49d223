"""A rule job's log: one file per job, expected errors as one line, the rest with a traceback.

Every script under ``scripts/`` runs its stage inside :func:`job_log`, so the job's own log
file (``logs/<rule>/<unit>.log``) holds what happened, including why it failed.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .tables import TableError
from .validation import ConfigError

__all__ = ["EXPECTED_ERRORS", "log_to", "job_log"]

_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# Errors the user can fix by reading one line (a bad config, a table to delete): no traceback.
EXPECTED_ERRORS: tuple[type[Exception], ...] = (TableError, ConfigError)

logger = logging.getLogger("ml2tuner.job")


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


@contextmanager
def job_log(path: str | Path | None) -> Iterator[None]:
    """Run a job's body with its logging in ``path`` (``snakemake.log[0]``).

    An expected error (:data:`EXPECTED_ERRORS`) ends the job with one line,
    ``ml2tuner: <message>``, on stderr and in the log, and exit code 2. Any other exception is
    logged with its traceback and re-raised.
    """
    log_to(path)
    try:
        yield
    except EXPECTED_ERRORS as exc:
        line = f"ml2tuner: {exc}"
        logger.error(line)
        print(line, file=sys.stderr)
        raise SystemExit(2) from None
    except Exception:
        logger.exception("the job failed")
        raise
    finally:
        for handler in logging.getLogger("ml2tuner").handlers:
            handler.flush()
