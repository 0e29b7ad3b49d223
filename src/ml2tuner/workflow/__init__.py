"""The ground every stage stands on: configuration, table specs, checked table I/O, job logs.

This layer sits below ``models``, ``measure``, ``tuners``, ``report`` and ``stages`` and imports
none of them (``docs/design.md``); it builds only on ``vta`` and ``space``.
"""

from .config import ConfigError, ModelSection, Unit, WorkflowConfig, load_config, load_config_file
from .jobs import job_log, log_to
from .tables import (
    TableError,
    check_table,
    describe_table,
    read_metadata,
    read_table,
    write_table,
)

__all__ = [
    "ConfigError",
    "ModelSection",
    "Unit",
    "WorkflowConfig",
    "load_config",
    "load_config_file",
    "job_log",
    "log_to",
    "TableError",
    "check_table",
    "describe_table",
    "read_metadata",
    "read_table",
    "write_table",
]
