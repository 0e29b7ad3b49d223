"""rules/prior.smk → ml2tuner.stages.run_prior."""

from ml2tuner.stages import run_prior
from ml2tuner.workflow import job_log, load_config

with job_log(snakemake.log[0]):
    wc = snakemake.wildcards
    run_config = load_config(snakemake.config)
    unit = run_config.unit(wc.target, wc.layer, wc.template)
    sources = [
        (run_config.unit(*key), space, compiled, measured)
        for key, space, compiled, measured in zip(
            snakemake.params.sources,
            snakemake.input.spaces,
            snakemake.input.compileds,
            snakemake.input.measureds,
            strict=True,
        )
    ]
    run_prior(
        unit,
        sources,
        snakemake.output.models,
        strategy=run_config.strategy(wc.strategy).tuner,
        settings=dict(snakemake.params.settings),
        seed=int(snakemake.params.seed),
    )
