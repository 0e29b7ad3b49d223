"""rules/simulate.smk (simulate_shard) → ml2tuner.stages.run_simulate_shard."""

from ml2tuner.stages import run_simulate_shard
from ml2tuner.workflow import job_log, load_config

with job_log(snakemake.log[0]):
    wc = snakemake.wildcards
    unit = load_config(snakemake.config).unit(wc.target, wc.layer, wc.template)
    run_simulate_shard(
        unit,
        snakemake.input.space,
        snakemake.input.compiled,
        tuple(snakemake.params.bounds),
        snakemake.output.shard,
        statistics_out=snakemake.output.statistics,
    )
