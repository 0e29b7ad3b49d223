# Pelke et al.'s simulation-statistics predictors (ml2tuner.stages.simstats): a level of its own
# per unit, after simulate. Trained on a small sample of the measured space and scored on the
# rest, from the counting pass's statistics (simstats.parquet) only. models/simstats.journal
# (with simstats.optuna_trials > 0) is not an output on purpose, as optuna.journal in train.smk:
# Snakemake would delete it with the outputs of an interrupted job, and it is what resumes it.
rule simstats_models:
    input:
        measured=f"{UNIT}/measured.parquet",
        statistics=f"{UNIT}/simstats.parquet",
    output:
        **{kind.removeprefix("simstats_"): f"{UNIT}/models/{name}"
           for kind, name in SIMSTATS_FILES.items()},
    params:
        settings=simstats_settings,
    log:
        f"logs/simstats_models/{UNIT_WC}.log",
    benchmark:
        f"benchmarks/simstats_models/{UNIT_WC}.tsv"
    threads: 1  # single-threaded models: bit-reproducible
    resources:
        mem_mb=4000,
        runtime=60,
    conda:
        "../envs/ml2tuner.yaml"
    script:
        "../scripts/simstats.py"


# The report's simulation-statistics section: the predictors' metrics per unit, predicted vs
# measured, the top-k curve, and how many measurements each strategy needs to reach the space's
# top-1 % latency cut (ml2tuner.report.simstats).
localrules:
    simstats_report,


rule simstats_report:
    input:
        measured=all_measured,
        metrics=all_simstats(SIMSTATS_FILES["simstats_metrics"]),
        predictions=all_simstats(SIMSTATS_FILES["simstats_predictions"]),
        tuning=all_tuning,  # each unit's tuning/ folder: its runs are params.runs
    output:
        markdown=f"{REPORT}/simstats.md",
        **{stem: f"{REPORT}/{stem}.png" for stem in SIMSTATS_FIGURES},
        svg=[f"{REPORT}/{stem}.svg" for stem in SIMSTATS_FIGURES],
    params:
        runs=TUNING_RUNS,
    log:
        "logs/simstats_report/simstats_report.log",
    benchmark:
        "benchmarks/simstats_report/simstats_report.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../envs/ml2tuner.yaml"
    script:
        "../scripts/simstats_report.py"
