rule enumerate_space:
    output:
        space=f"{UNIT}/space.parquet",
    params:
        section=unit_section,
    log:
        f"logs/enumerate_space/{UNIT_WC}.log",
    benchmark:
        f"benchmarks/enumerate_space/{UNIT_WC}.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        "../envs/ml2tuner.yaml"
    script:
        "../scripts/enumerate.py"
