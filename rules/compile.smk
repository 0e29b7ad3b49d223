rule compile_space:
    input:
        space=f"{UNIT}/space.parquet",
    output:
        compiled=f"{UNIT}/compiled.parquet",
    params:
        section=unit_section,
    log:
        f"logs/compile_space/{UNIT_WC}.log",
    benchmark:
        f"benchmarks/compile_space/{UNIT_WC}.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=compile_runtime,
    conda:
        "../envs/ml2tuner.yaml"
    script:
        "../scripts/compile.py"
