localrules:
    all,
    summary,
    report,


rule summary:
    input:
        measured=all_measured,
        tuning=all_tuning_runs,
        metrics=all_metrics,
    output:
        runs="results/summary/runs.parquet",
        strategies="results/summary/strategies.parquet",
        spaces="results/summary/spaces.parquet",
        models="results/summary/models.parquet",
    log:
        "logs/summary/summary.log",
    benchmark:
        "benchmarks/summary/summary.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../envs/ml2tuner.yaml"
    script:
        "../scripts/summary.py"


rule report:
    input:
        spaces="results/summary/spaces.parquet",
        strategies="results/summary/strategies.parquet",
        models="results/summary/models.parquet",
    output:
        summary="results/report/summary.md",
    log:
        "logs/report/report.log",
    benchmark:
        "benchmarks/report/report.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        "../envs/ml2tuner.yaml"
    script:
        "../scripts/report.py"
