# One tuning run per strategy and seed, replayed on measured.parquet (ml2tuner.stages.tune).
# Its inputs are exactly what tuning reads: the tuners train their own models online (simstats
# on the counting pass's statistics, which cost no measurement), so the
# train stage's models are not an input and a retrain leaves every tuning run up to date.
rule tune:
    input:
        space=f"{UNIT}/space.parquet",
        compiled=f"{UNIT}/compiled.parquet",
        measured=f"{UNIT}/measured.parquet",
        statistics=f"{UNIT}/simstats.parquet",  # counting-pass statistics: no measurement
    output:
        trials=f"{UNIT}/tuning/{{strategy}}/seed{{seed}}.parquet",
    params:
        budget=WF.budget,
        settings=strategy_settings,
    log:
        f"logs/tune/{UNIT_WC}/{{strategy}}/seed{{seed}}.log",
    benchmark:
        f"benchmarks/tune/{UNIT_WC}/{{strategy}}/seed{{seed}}.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    conda:
        "../envs/ml2tuner.yaml"
    script:
        "../scripts/tune.py"
