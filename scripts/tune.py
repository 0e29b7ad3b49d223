"""rules/tune.smk → ml2tuner.stages.tune.run_tune_unit."""

from pathlib import Path

from ml2tuner.stages.tune import TuningRun, run_tune_unit, trial_log
from ml2tuner.workflow import job_log, load_config

with job_log(snakemake.log[0]):
    wc = snakemake.wildcards
    run_config = load_config(snakemake.config)
    unit = run_config.unit(wc.target, wc.layer, wc.template)
    specs = {name: run_config.strategy(name) for name in run_config.strategies}
    runs = [
        TuningRun(
            strategy,
            int(seed),
            trial_log(snakemake.output.trials, strategy, seed),
            specs[strategy].tuner,
            specs[strategy].budget,
        )
        for strategy, seed in snakemake.params.runs
    ]
    run_tune_unit(
        unit,
        snakemake.input.space,
        snakemake.input.compiled,
        snakemake.input.measured,
        runs,
        budget=int(snakemake.params.budget),
        settings={s: dict(v) for s, v in snakemake.params.settings.items()},
        statistics_path=snakemake.input.statistics,
        priors={Path(folder).name: folder for folder in snakemake.input.priors},
    )
