# Warm start (ml2tuner.stages.prior): the strategy's models trained on the run's other units in
# the scope of its `prior` option, never on the unit itself. Only strategies with a prior and
# units with another unit in scope have this job (prior_units_of, tune_prior in common.smk).
rule prior:
    input:
        pool="results/prior_pool/{template}",
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


# Every unit's space, compiled and measured tables of one template, gathered (hard links) for
# the prior jobs: one input folder each instead of three tables per source unit, which grew
# with the square of the units (ml2tuner.stages.prior_pool).
rule prior_pool:
    input:
        space=pool_tables("space"),
        compiled=pool_tables("compiled"),
        measured=pool_tables("measured"),
    output:
        pool=directory("results/prior_pool/{template}"),
    params:
        units=pool_unit_keys,
    log:
        "logs/prior_pool/{template}.log",
    benchmark:
        "benchmarks/prior_pool/{template}.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        "../envs/ml2tuner.yaml"
    script:
        "../scripts/prior_pool.py"
