"""rules/enumerate.smk → ml2tuner.workflow.run_enumerate."""

from ml2tuner.workflow import load_config, log_to, run_enumerate

log_to(snakemake.log[0])
wc = snakemake.wildcards
unit = load_config(snakemake.config).unit(wc.target, wc.layer, wc.template)
run_enumerate(unit, snakemake.output.space)
