# Warm start (ml2tuner.stages.prior): the strategy's models trained on the run's other units in
# the scope of its `prior` option, never on the unit itself. Only strategies with a prior and
# units with another unit in scope have this job (prior_units_of, tune_prior in common.smk).
rule prior:
    input:
        spaces=prior_tables("space"),
        compileds=prior_tables("compiled"),
        measureds=prior_tables("measured"),
    output:
        models=directory(f"{UNIT}/prior/{{strategy,{_alternatives(WF.strategies)}}}"),
    params:
        sources=prior_source_keys,
        settings=prior_settings,
        seed=model_seed,
    log:
        f"logs/prior/{UNIT_WC}/{{strategy}}.log",
    benchmark:
        f"benchmarks/prior/{UNIT_WC}/{{strategy}}.tsv"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    conda:
        "../envs/ml2tuner.yaml"
    script:
        "../scripts/prior.py"
