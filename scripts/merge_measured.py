"""rules/simulate.smk (merge_measured) → ml2tuner.stages.run_merge, run_merge_statistics."""

from ml2tuner.stages import run_merge, run_merge_statistics
from ml2tuner.workflow import job_log, load_config

with job_log(snakemake.log[0]):
    wc = snakemake.wildcards
    unit = load_config(snakemake.config).unit(wc.target, wc.layer, wc.template)
    run_merge(unit, list(snakemake.input.shards), snakemake.output.measured)
    run_merge_statistics(unit, list(snakemake.input.statistics), snakemake.output.statistics)
