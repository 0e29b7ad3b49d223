"""rules/train.smk → ml2tuner.stages.run_train."""

from pathlib import Path

from ml2tuner.stages import run_train
from ml2tuner.workflow import log_to

log_to(snakemake.log[0])
run_train(
    snakemake.input.space,
    snakemake.input.compiled,
    snakemake.input.measured,
    Path(snakemake.output.metrics).parent,
    settings=dict(snakemake.params.settings),
    seed=int(snakemake.params.seed),
)
