"""rules/simulate.smk (simulate_shard) → ml2tuner.workflow.run_simulate_shard."""

from ml2tuner.workflow import load_config, log_to, run_simulate_shard

log_to(snakemake.log[0])
wc = snakemake.wildcards
unit = load_config(snakemake.config).unit(wc.target, wc.layer, wc.template)
run_simulate_shard(
    unit,
    snakemake.input.space,
    snakemake.input.compiled,
    tuple(snakemake.params.bounds),
    snakemake.output.shard,
)
