# The summary tables (results/summary/*.parquet) and the report (results/report/): summary.md
# and every figure as PNG + SVG. The PNGs, with the captions in report/, are what
# `snakemake --report report.html` shows. The logic is in ml2tuner.stages / ml2tuner.report.

localrules:
    all,
    summary,
    report,


from ml2tuner.report.build import per_unit_figures, shown_figures

SUMMARY = "results/summary"
REPORT = "results/report"
# The summary tables (ml2tuner.workflow.columns.SUMMARY_TABLES) and the figures
# (ml2tuner.report.build.FIGURES; caption report/<stem>.rst), plus one validity map per unit.
# The per-unit figures only when asked: config `report: {per_unit_figures: true|false|auto}`
# (auto, the default: at most PER_UNIT_DEFAULT_MAX units; the schema fills the default in).
PER_UNIT = per_unit_figures(config["report"]["per_unit_figures"], len(WF.units()))
SHOWN_FIGURES = shown_figures(PER_UNIT)
VALIDITY_MAPS = (
    {validity_name(unit_key(u)): unit_key(u) for u in WF.units()} if PER_UNIT else {}
)


rule summary:
    input:
        measured=all_measured,
        tuning=all_tuning,
        metrics=all_metrics,
    output:
        **{name: f"{SUMMARY}/{name}.parquet" for name in SUMMARY_TABLES},
    params:
        runs=TUNING_RUNS,
    log:
        "logs/summary/summary.log",
    benchmark:
        "benchmarks/summary/summary.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,  # minutes: about 4 for 100 units x 9 strategies x 20 seeds (docs/report.md)
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
        V=_unit_paths(f"{UNIT}/models/{MODEL_FILES['V']}"),
        split=_unit_paths(f"{UNIT}/models/split.parquet"),
        model_metrics=all_metrics,
    output:
        summary=report(f"{REPORT}/summary.md", caption="../report/summary.rst",
                       category="0. Summary", labels={"figure": "summary.md"}),
        **{stem: report(f"{REPORT}/{stem}.png", caption=f"../report/{figure.caption or stem}.rst",
                        category=figure.category, labels={"figure": figure.label})
           for stem, figure in SHOWN_FIGURES.items()},
        validity=[report(f"{REPORT}/{stem}.png", caption="../report/validity.rst",
                         category="3. Search spaces", subcategory="validity maps",
                         labels={"figure": "validity map",
                                 "unit": f"{key.target} / {key.layer} / {key.template}"})
                  for stem, key in VALIDITY_MAPS.items()],
        svg=[f"{REPORT}/{stem}.svg" for stem in [*SHOWN_FIGURES, *VALIDITY_MAPS]],
    params:
        per_unit=PER_UNIT,
    log:
        "logs/report/report.log",
    benchmark:
        "benchmarks/report/report.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,  # minutes: about 4 for 100 units x 9 strategies x 20 seeds (docs/report.md)
    conda:
        "../envs/ml2tuner.yaml"
    script:
        "../scripts/report.py"
