"""rules/compile.smk → ml2tuner.stages.run_compile."""

from ml2tuner.stages import run_compile
from ml2tuner.workflow import job_log, load_config

with job_log(snakemake.log[0]):
    wc = snakemake.wildcards
    unit = load_config(snakemake.config).unit(wc.target, wc.layer, wc.template)
    run_compile(unit, snakemake.input.space, snakemake.output.compiled)
