"""rules/enumerate.smk → ml2tuner.stages.run_enumerate."""

from ml2tuner.stages import run_enumerate
from ml2tuner.workflow import job_log, load_config

with job_log(snakemake.log[0]):
    wc = snakemake.wildcards
    unit = load_config(snakemake.config).unit(wc.target, wc.layer, wc.template)
    run_enumerate(unit, snakemake.output.space)
