"""The workflow's eight stages, one entry point each (called by the thin ``scripts/``).

=========== ============================ ==================================================
stage       entry point                  writes
=========== ============================ ==================================================
enumerate   :func:`run_enumerate`        ``space.parquet``
compile     :func:`run_compile`          ``compiled.parquet``
simulate    :func:`run_simulate_shard`   ``measured/shard{i}.parquet``
merge       :func:`run_merge`            ``measured.parquet``
train       :func:`run_train`            ``models/``: P, V, A, metrics, split, search
tune        :func:`run_tune`             ``tuning/{strategy}/seed{seed}.parquet``
summary     :func:`run_summary`          ``results/summary/*.parquet``
report      :func:`run_report`           ``results/report/``: summary.md and the figures
=========== ============================ ==================================================

Every stage reads its inputs with :func:`ml2tuner.workflow.read_table`, which refuses a table
of another kind, unit or version. Stages are the top layer: nothing in the package imports them
but ``cli`` (``docs/design.md``).
"""

from .compile import run_compile
from .enumerate import run_enumerate
from .merge import run_merge
from .report import run_report
from .simulate import run_simulate_shard
from .space_tables import measure_space, space_table
from .summary import run_summary
from .train import run_train
from .tune import run_tune

__all__ = [
    "run_enumerate",
    "run_compile",
    "run_simulate_shard",
    "run_merge",
    "run_train",
    "run_tune",
    "run_summary",
    "run_report",
    "measure_space",
    "space_table",
]
