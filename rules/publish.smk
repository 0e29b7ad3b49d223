# `snakemake publish`: the small files of a finished run copied to docs/results/: the summary
# tables, summary.md, simstats.md and the PNG figures, not the SVGs or per-unit detail. This is
# how the full run of config/results.yaml is published (docs/results.md). Not part of `all`.
localrules:
    publish,


PUBLISHED = "docs/results"
PUBLISHED_FILES = [
    *rules.summary.output,
    rules.report.output.summary,
    *(rules.report.output[stem] for stem in SHOWN_FIGURES),
    rules.simstats_report.output.markdown,
    *(rules.simstats_report.output[stem] for stem in SIMSTATS_FIGURES),
]


rule publish:
    input:
        PUBLISHED_FILES,
    output:
        [f"{PUBLISHED}/{Path(path).relative_to('results')}" for path in PUBLISHED_FILES],
    log:
        "logs/publish/publish.log",
    benchmark:
        "benchmarks/publish/publish.tsv"
    threads: 1
    resources:
        mem_mb=500,
        runtime=10,
    conda:
        "../envs/ml2tuner.yaml"
    script:
        "../scripts/publish.py"
