"""rules/report.smk (report) → ml2tuner.stages.run_report."""

from pathlib import Path

from ml2tuner.stages import run_report
from ml2tuner.workflow import log_to

log_to(snakemake.log[0])
run_report(
    Path(snakemake.input.spaces).parent,
    snakemake.output.summary,
    unit_dirs=[Path(path).parent for path in snakemake.input.measured],
    figures_dir=Path(snakemake.output.summary).parent,
)
