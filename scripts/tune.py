"""rules/tune.smk → ml2tuner.stages.run_tune."""

from ml2tuner.stages import run_tune
from ml2tuner.workflow import job_log, load_config

with job_log(snakemake.log[0]):
    wc = snakemake.wildcards
    unit = load_config(snakemake.config).unit(wc.target, wc.layer, wc.template)
    run_tune(
        unit,
        snakemake.input.space,
        snakemake.input.compiled,
        snakemake.input.measured,
        snakemake.output.trials,
        strategy=wc.strategy,
        seed=int(wc.seed),
        budget=int(snakemake.params.budget),
        settings=dict(snakemake.params.settings),
        statistics_path=snakemake.input.statistics,
    )
