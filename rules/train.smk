# P, then V, then A (ml2tuner.stages.train; a placeholder until ml2tuner.models lands).
rule train_models:
    input:
        space=f"{UNIT}/space.parquet",
        compiled=f"{UNIT}/compiled.parquet",
        measured=f"{UNIT}/measured.parquet",
    output:
        P=f"{UNIT}/models/P.json",
        V=f"{UNIT}/models/V.json",
        A=f"{UNIT}/models/A.json",
        metrics=f"{UNIT}/models/metrics.parquet",
    params:
        settings=model_settings,
        seed=model_seed,
    log:
        f"logs/train_models/{UNIT_WC}.log",
    benchmark:
        f"benchmarks/train_models/{UNIT_WC}.tsv"
    threads: 2
    resources:
        mem_mb=4000,
        runtime=60,
    conda:
        "../envs/ml2tuner.yaml"
    script:
        "../scripts/train.py"
