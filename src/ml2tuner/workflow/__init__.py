"""Building the workflow's tables: config, Parquet I/O, enumerate → compile → simulate → merge.

The Snakemake rules (``rules/*.smk``) call these functions through the thin adapters in
``scripts/``; everything here also works without Snakemake.
"""

from .compilation import run_compile
from .config import ConfigError, Unit, WorkflowConfig, load_config, load_config_file
from .enumeration import run_enumerate
from .merge import run_merge
from .progress import log_to
from .simulation import run_simulate_shard
from .tables import describe_table, read_metadata, read_table, write_table

__all__ = [
    "ConfigError",
    "Unit",
    "WorkflowConfig",
    "load_config",
    "load_config_file",
    "run_enumerate",
    "run_compile",
    "run_simulate_shard",
    "run_merge",
    "log_to",
    "describe_table",
    "read_metadata",
    "read_table",
    "write_table",
]
