"""rules/simstats.smk (simstats_models) → ml2tuner.stages.run_simstats."""

from pathlib import Path

from ml2tuner.stages import run_simstats
from ml2tuner.workflow import job_log, load_config

with job_log(snakemake.log[0]):
    wc = snakemake.wildcards
    unit = load_config(snakemake.config).unit(wc.target, wc.layer, wc.template)
    run_simstats(
        unit,
        snakemake.input.measured,
        snakemake.input.statistics,
        Path(snakemake.output.metrics).parent,
        settings=dict(snakemake.params.settings),
    )
