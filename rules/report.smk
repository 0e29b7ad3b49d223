# The summary tables (results/summary/*.parquet) and the report (results/report/): summary.md
# and every figure as PNG + SVG. The PNGs, with the captions in report/, are what
# `snakemake --report report.html` shows. The logic is in ml2tuner.stages / ml2tuner.report.

localrules:
    all,
    summary,
    report,


SUMMARY = "results/summary"
REPORT = "results/report"
SUMMARY_TABLES = ["runs", "strategies", "spaces", "models", "curves", "claims"]
# figure (file stem, caption report/<stem>.rst) -> (report category, label); plus one
# validity map per unit, validity_<target>_<layer>_<template>
REPORT_FIGURES = {
    "best_latency": ("1. Tuning", "best latency vs measurements"),
    "invalid_share": ("1. Tuning", "invalid measurements"),
    "samples": ("1. Tuning", "samples to optimum / to match autotvm"),
    "models": ("2. Models", "RMSE of P vs A, ROC of V"),
    "status": ("3. Search spaces", "status breakdown"),
}
UNIT_SLUGS = [f"{u.target.name}_{u.workload.name}_{u.template}" for u in WF.units()]


rule summary:
    input:
        measured=all_measured,
        tuning=all_tuning_runs,
        metrics=all_metrics,
    output:
        **{name: f"{SUMMARY}/{name}.parquet" for name in SUMMARY_TABLES},
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
        **{name: f"{SUMMARY}/{name}.parquet" for name in SUMMARY_TABLES},
        space=_unit_paths(f"{UNIT}/space.parquet"),
        compiled=_unit_paths(f"{UNIT}/compiled.parquet"),
        measured=all_measured,
        V=_unit_paths(f"{UNIT}/models/V.json"),
        model_metrics=all_metrics,
    output:
        summary=report(f"{REPORT}/summary.md", caption="../report/summary.rst",
                       category="0. Summary", labels={"figure": "summary.md"}),
        **{stem: report(f"{REPORT}/{stem}.png", caption=f"../report/{stem}.rst",
                        category=category, labels={"figure": label})
           for stem, (category, label) in REPORT_FIGURES.items()},
        validity=[report(f"{REPORT}/validity_{slug}.png", caption="../report/validity.rst",
                         category="3. Search spaces", subcategory="validity maps",
                         labels={"figure": "validity map", "unit": slug.replace("_", " / ")})
                  for slug in UNIT_SLUGS],
        svg=[f"{REPORT}/{stem}.svg"
             for stem in [*REPORT_FIGURES, *(f"validity_{slug}" for slug in UNIT_SLUGS)]],
    log:
        "logs/report/report.log",
    benchmark:
        "benchmarks/report/report.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../envs/ml2tuner.yaml"
    script:
        "../scripts/report.py"
