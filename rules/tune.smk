# Every tuning run of a unit (strategies x seeds) in one job, replayed on measured.parquet
# (ml2tuner.stages.run_tune_unit): one Python process per unit instead of one per run keeps the
# whole network's DAG small (docs/workflow.md, "Tuning").
# Its inputs are exactly what tuning reads: the tuners train their own models online (simstats
# on the counting pass's statistics, which cost no measurement), so the
# train stage's models are not an input and a retrain leaves every tuning run up to date.
# The trial logs, one per run of TUNING_RUNS, are in the unit's tuning/ folder, an `update`
# output: Snakemake leaves it in place when the job (re)starts, and the job skips every run
# whose table is done (ml2tuner.stages.tune.is_done), so a job that was interrupted resumes
# with the runs it had not finished.
rule tune:
    input:
        space=f"{UNIT}/space.parquet",
        compiled=f"{UNIT}/compiled.parquet",
        measured=f"{UNIT}/measured.parquet",
        statistics=f"{UNIT}/simstats.parquet",  # counting-pass statistics: no measurement
        priors=tune_priors,  # warm-start models of the other units (rules/prior.smk)
    output:
        trials=update(directory(TUNING)),
    params:
        runs=TUNING_RUNS,
        budget=WF.budget,
        settings=tuner_settings,
        variants=variant_params,
    log:
        f"logs/tune/{UNIT_WC}.log",
    benchmark:
        f"benchmarks/tune/{UNIT_WC}.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=tune_runtime,
    conda:
        "../envs/ml2tuner.yaml"
    script:
        "../scripts/tune.py"
