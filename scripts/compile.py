"""rules/compile.smk → ml2tuner.workflow.run_compile."""

from ml2tuner.workflow import load_config, log_to, run_compile

log_to(snakemake.log[0])
wc = snakemake.wildcards
unit = load_config(snakemake.config).unit(wc.target, wc.layer, wc.template)
run_compile(unit, snakemake.input.space, snakemake.output.compiled)
