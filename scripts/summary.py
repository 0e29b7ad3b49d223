"""rules/report.smk (summary) → ml2tuner.stages.run_summary."""

from pathlib import Path

from ml2tuner.stages import run_summary
from ml2tuner.stages.tune import trial_log
from ml2tuner.workflow import job_log, load_config

with job_log(snakemake.log[0]):
    run_summary(
        list(snakemake.input.measured),
        [trial_log(d, s, k) for d in snakemake.input.tuning for s, k in snakemake.params.runs],
        list(snakemake.input.metrics),
        Path(snakemake.output.runs).parent,
        units=load_config(snakemake.config).units(),
    )
