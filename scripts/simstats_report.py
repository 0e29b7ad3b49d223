"""rules/simstats.smk (simstats_report) → ml2tuner.stages.run_simstats_report."""

from ml2tuner.stages import run_simstats_report
from ml2tuner.stages.tune import trial_log
from ml2tuner.workflow import job_log, load_config

with job_log(snakemake.log[0]):
    run_simstats_report(
        load_config(snakemake.config).units(),
        list(snakemake.input.measured),
        list(snakemake.input.metrics),
        list(snakemake.input.predictions),
        [trial_log(d, s, k) for d in snakemake.input.tuning for s, k in snakemake.params.runs],
        snakemake.output.markdown,
    )
