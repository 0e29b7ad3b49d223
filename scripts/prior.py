"""rules/prior.smk → ml2tuner.stages.run_prior."""

from ml2tuner.stages import run_prior
from ml2tuner.stages.prior_pool import POOL_KINDS, pool_table
from ml2tuner.workflow import job_log, load_config

with job_log(snakemake.log[0]):
    wc = snakemake.wildcards
    run_config = load_config(snakemake.config)
    unit = run_config.unit(wc.target, wc.layer, wc.template)
    pool = snakemake.input.pool
    sources = [
        (src, *(pool_table(pool, src, kind) for kind in POOL_KINDS))
        for src in (run_config.unit(*key) for key in snakemake.params.sources)
    ]
    run_prior(
        unit,
        sources,
        snakemake.output.models,
        strategy=run_config.strategy(wc.strategy).tuner,
        settings=dict(snakemake.params.settings),
        seed=int(snakemake.params.seed),
    )
