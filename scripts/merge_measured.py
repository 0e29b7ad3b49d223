"""rules/simulate.smk (merge_measured) → ml2tuner.workflow.run_merge."""

from ml2tuner.workflow import load_config, log_to, run_merge

log_to(snakemake.log[0])
wc = snakemake.wildcards
unit = load_config(snakemake.config).unit(wc.target, wc.layer, wc.template)
run_merge(unit, list(snakemake.input.shards), snakemake.output.measured)
