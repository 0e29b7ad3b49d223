"""rules/report.smk (summary) → ml2tuner.stages.run_summary."""

from pathlib import Path

from ml2tuner.stages import run_summary
from ml2tuner.workflow import log_to

log_to(snakemake.log[0])
run_summary(
    list(snakemake.input.measured),
    list(snakemake.input.tuning),
    list(snakemake.input.metrics),
    Path(snakemake.output.runs).parent,
)
