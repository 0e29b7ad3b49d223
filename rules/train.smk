# P, then V, then A (ml2tuner.stages.train): XGBoost models, held-out metrics, Optuna's trials.
# models/optuna.journal (only with model.optuna_trials > 0) is not an output on purpose:
# Snakemake would delete it with the outputs of an interrupted job, and it is what resumes it.
rule train_models:
    input:
        space=f"{UNIT}/space.parquet",
        compiled=f"{UNIT}/compiled.parquet",
        measured=f"{UNIT}/measured.parquet",
    output:
        **{role: f"{UNIT}/models/{name}" for role, name in MODEL_FILES.items()},
        metrics=f"{UNIT}/models/metrics.parquet",
        split=f"{UNIT}/models/split.parquet",
        search=f"{UNIT}/models/search.parquet",
    params:
        settings=model_settings,
        seed=model_seed,
    log:
        f"logs/train_models/{UNIT_WC}.log",
    benchmark:
        f"benchmarks/train_models/{UNIT_WC}.tsv"
    threads: 1  # single-threaded XGBoost: bit-reproducible models
    resources:
        mem_mb=4000,
        runtime=60,
    conda:
        "../envs/ml2tuner.yaml"
    script:
        "../scripts/train.py"
