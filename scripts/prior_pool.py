"""rules/prior.smk (prior_pool) → ml2tuner.stages.prior_pool.run_prior_pool."""

from ml2tuner.stages.prior_pool import POOL_KINDS, run_prior_pool
from ml2tuner.workflow import job_log, load_config

with job_log(snakemake.log[0]):
    run_config = load_config(snakemake.config)
    run_prior_pool(
        [run_config.unit(*key) for key in snakemake.params.units],
        {kind: list(snakemake.input[kind]) for kind in POOL_KINDS},
        snakemake.output.pool,
    )
