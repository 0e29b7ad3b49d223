"""rules/tune.smk → ml2tuner.stages.run_tune."""

from pathlib import Path

from ml2tuner.stages import run_tune
from ml2tuner.workflow import log_to

log_to(snakemake.log[0])
run_tune(
    snakemake.input.space,
    snakemake.input.compiled,
    snakemake.input.measured,
    Path(snakemake.input.models).parent,
    snakemake.output.trials,
    strategy=snakemake.wildcards.strategy,
    seed=int(snakemake.wildcards.seed),
    budget=int(snakemake.params.budget),
    settings=dict(snakemake.params.settings),
)
