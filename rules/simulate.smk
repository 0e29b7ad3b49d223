rule simulate_shard:
    input:
        space=f"{UNIT}/space.parquet",
        compiled=f"{UNIT}/compiled.parquet",
    output:
        shard=temp(f"{UNIT}/measured/shard{{shard}}.parquet"),
        statistics=temp(f"{UNIT}/simstats/shard{{shard}}.parquet"),
    params:
        section=unit_section,
        bounds=shard_bounds,
    log:
        f"logs/simulate_shard/{UNIT_WC}/shard{{shard}}.log",
    benchmark:
        f"benchmarks/simulate_shard/{UNIT_WC}/shard{{shard}}.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=simulate_runtime,
    conda:
        "../envs/ml2tuner.yaml"
    script:
        "../scripts/simulate_shard.py"


rule merge_measured:
    input:
        shards=measured_shards,
        statistics=statistics_shards,
    output:
        measured=f"{UNIT}/measured.parquet",
        statistics=f"{UNIT}/simstats.parquet",
    params:
        section=unit_section,
    log:
        f"logs/merge_measured/{UNIT_WC}.log",
    benchmark:
        f"benchmarks/merge_measured/{UNIT_WC}.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../envs/ml2tuner.yaml"
    script:
        "../scripts/merge_measured.py"
