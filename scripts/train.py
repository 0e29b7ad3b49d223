"""rules/train.smk → ml2tuner.stages.run_train."""

from pathlib import Path

from ml2tuner.stages import run_train
from ml2tuner.workflow import job_log, load_config

with job_log(snakemake.log[0]):
    wc = snakemake.wildcards
    unit = load_config(snakemake.config).unit(wc.target, wc.layer, wc.template)
    run_train(
        unit,
        snakemake.input.space,
        snakemake.input.compiled,
        snakemake.input.measured,
        Path(snakemake.output.metrics).parent,
        settings=dict(snakemake.params.settings),
        seed=int(snakemake.params.seed),
    )
