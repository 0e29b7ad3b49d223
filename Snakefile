# ml2tuner: enumerate -> compile -> simulate -> train P, V, A -> tune -> summary/report.
# Every stage writes Parquet under results/{target}/{layer}/{template}/ (docs/artifacts.md);
# the experiment is chosen in config.yaml (docs/workflow.md). All logic is in src/ml2tuner.

from snakemake.utils import min_version

min_version("9.0")


configfile: "config.yaml"


report: "report/workflow.rst"


include: "rules/common.smk"
include: "rules/enumerate.smk"
include: "rules/compile.smk"
include: "rules/simulate.smk"
include: "rules/train.smk"
include: "rules/prior.smk"
include: "rules/tune.smk"
include: "rules/report.smk"
include: "rules/simstats.smk"
include: "rules/publish.smk"


rule all:
    input:
        final_outputs(),
    default_target: True
