# Helpers of the rules: configuration, wildcard constraints, paths and resources.
# Named functions only; the logic they call lives in the ml2tuner package.

import math
import os
import re
import sys
from pathlib import Path

from snakemake.utils import validate

# The workflow runs the ml2tuner of its own checkout: here, in every job, and inside a
# --sdm conda environment (which holds the dependencies, not the package).
PACKAGE_SRC = str(Path(workflow.basedir) / "src")
sys.path.insert(0, PACKAGE_SRC)
os.environ["PYTHONPATH"] = os.pathsep.join(
    filter(None, [PACKAGE_SRC, os.environ.get("PYTHONPATH")])
)


envvars:
    "PYTHONPATH",


from ml2tuner.report.build import FIGURES, unit_key, validity_name
from ml2tuner.report.simstats import SIMSTATS_FIGURES
from ml2tuner.workflow.columns import MODEL_FILES, SIMSTATS_FILES, SUMMARY_TABLES
from ml2tuner.workflow.config import SCHEMA_PATH, ConfigError, load_config, normalize_config
from ml2tuner.stages.prior import prior_scope, prior_units

try:  # a bad value stops here, in one line naming the key, the value and what is allowed
    config.update(normalize_config(config))  # defaults; typed numbers from --config
    WF = load_config(config)
except ConfigError as exc:
    sys.exit(f"ml2tuner: config error: {exc}")
validate(config, str(SCHEMA_PATH))  # the same schema, checked the Snakemake way too

UNIT_WC = "{target}/{layer}/{template}"
UNIT = f"results/{UNIT_WC}"  # one folder of tables per target x layer x template


def _alternatives(names):
    return "|".join(re.escape(str(name)) for name in names)


wildcard_constraints:
    target=_alternatives(WF.targets),
    layer=_alternatives(WF.layers),
    template=_alternatives(WF.templates),
    shard=r"\d+",


def unit_of(wildcards):
    """The configured target x layer x template of a job."""
    return WF.unit(wildcards.target, wildcards.layer, wildcards.template)


def unit_section(wildcards):
    """Config section of the unit's tables (a params entry, so a change re-runs them)."""
    return unit_of(wildcards).section()


def shard_bounds(wildcards):
    """[start, stop) config_id range of one simulation shard."""
    return list(WF.shard_bounds(unit_of(wildcards))[int(wildcards.shard)])


def measured_shards(wildcards):
    """Every shard table of a unit (one per shard_size configurations)."""
    n_shards = len(WF.shard_bounds(unit_of(wildcards)))
    return expand(f"{UNIT}/measured/shard{{shard}}.parquet", target=wildcards.target,
                  layer=wildcards.layer, template=wildcards.template, shard=range(n_shards))


def statistics_shards(wildcards):
    """Every counting-pass statistics shard of a unit (written beside the measured shards)."""
    n_shards = len(WF.shard_bounds(unit_of(wildcards)))
    return expand(f"{UNIT}/simstats/shard{{shard}}.parquet", target=wildcards.target,
                  layer=wildcards.layer, template=wildcards.template, shard=range(n_shards))


def model_settings(wildcards):
    return WF.model.as_dict()


def model_seed(wildcards):
    return WF.model.seed


def simstats_settings(wildcards):
    return WF.simstats.as_dict()


# Every tuning run of a unit as (strategy, seed), in the order of the tune rule's outputs.
TUNING_RUNS = [(strategy, seed) for strategy in WF.strategies for seed in WF.seeds]


# The tune job's output is its unit's tuning/ folder, one trial log per run of TUNING_RUNS
# (ml2tuner.stages.tune.trial_log): one file per unit for Snakemake to resolve instead of one
# per run, which keeps the whole network's DAG quick to plan.
TUNING = f"{UNIT}/tuning"


def _prior_units(unit, strategy):
    """The run's other units a strategy's prior for ``unit`` learns from (none: no prior)."""
    spec = WF.strategy(strategy)
    return prior_units(unit, WF.units(), prior_scope(spec.tuner, spec.settings))


def template_units(template):
    """The configured units of ``template``, in configuration order."""
    return [u for u in WF.units() if u.template == template]


def pool_tables(kind):
    """An input function: the ``kind`` table of every unit of a prior pool's template."""

    def paths(wildcards):
        return [f"results/{u.path}/{kind}.parquet" for u in template_units(wildcards.template)]

    return paths


def pool_unit_keys(wildcards):
    """(target, layer, template) of every unit of a prior pool, in input order."""
    return [list(u.key) for u in template_units(wildcards.template)]


def prior_source_keys(wildcards):
    """(target, layer, template) of every source unit of a prior job, in input order."""
    return [list(u.key) for u in _prior_units(unit_of(wildcards), wildcards.strategy)]


def prior_settings(wildcards):
    """The prior's strategy's ``tuner_settings`` (a params entry: a change re-trains it)."""
    return WF.strategy_settings(wildcards.strategy)


def tune_priors(wildcards):
    """The prior folder of every strategy of the run that asks for a prior and has a source
    unit in its scope; a strategy without one tunes with ``prior: none`` (its log says so)."""
    unit = unit_of(wildcards)
    return [f"results/{unit.path}/prior/{strategy}" for strategy in WF.strategies
            if _prior_units(unit, strategy)]


def tuner_settings(wildcards):
    """Every configured strategy's options (a params entry: a change re-runs tune)."""
    return {strategy: WF.strategy_settings(strategy) for strategy in WF.strategies}


def variant_params(wildcards):
    """Every variant's tuner and budget (a params entry: a change re-runs tune)."""
    specs = [WF.strategy(name) for name in WF.variants if name in WF.strategies]
    return {spec.name: [spec.tuner, spec.budget] for spec in specs}


def _unit_paths(pattern):
    return [pattern.format(target=u.target.name, layer=u.workload.name, template=u.template)
            for u in WF.units()]


def all_measured(wildcards):
    return _unit_paths(f"{UNIT}/measured.parquet")


def all_metrics(wildcards):
    return _unit_paths(f"{UNIT}/models/metrics.parquet")


def all_simstats(name):
    """An input function: every unit's ``models/{name}`` of the simstats stage."""

    def paths(wildcards):
        return _unit_paths(f"{UNIT}/models/{name}")

    return paths


def all_tuning(wildcards):
    return _unit_paths(TUNING)


def final_outputs():
    return ["results/report/summary.md", "results/report/simstats.md"]


# ---- resources (runtime in minutes; generous for cluster queues) -------------------------

def _minutes(n_configs, seconds_each):
    return max(10, math.ceil(n_configs * seconds_each / 60))


def compile_runtime(wildcards):
    return _minutes(unit_of(wildcards).space_size(), 0.02)


def simulate_runtime(wildcards):
    start, stop = shard_bounds(wildcards)
    return _minutes(stop - start, 0.04)


def tune_runtime(wildcards):
    """Every tuning run of a unit, each at most its budget's measurements (0.05 s each)."""
    size = unit_of(wildcards).space_size()
    measurements = sum(min(WF.strategy(strategy).budget, size) for strategy, _ in TUNING_RUNS)
    return _minutes(measurements, 0.05)
