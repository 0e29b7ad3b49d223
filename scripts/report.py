"""rules/report.smk (report) → ml2tuner.stages.run_report."""

from pathlib import Path

from ml2tuner.stages import run_report
from ml2tuner.workflow import job_log, load_config
from ml2tuner.workflow.config import unit_for_path

with job_log(snakemake.log[0]):
    units = load_config(snakemake.config).units()
    unit_dirs = {}
    for path in snakemake.input.measured:
        unit_dirs[unit_for_path(path, units)] = Path(path).parent
    run_report(
        Path(snakemake.input.spaces).parent,
        snakemake.output.summary,
        unit_dirs=unit_dirs,
        figures_dir=Path(snakemake.output.summary).parent,
        per_unit=snakemake.params.per_unit,
    )
