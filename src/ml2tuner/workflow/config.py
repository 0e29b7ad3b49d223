"""The workflow's configuration: name checks and frozen dataclasses (schema: validation.py).

``load_config`` is the one entry point: it validates a raw ``config.yaml`` mapping against
``config.schema.yaml`` (filling defaults), resolves every target and layer name against the
presets and the user's ``target_definitions`` / ``layer_definitions``, and returns a frozen
:class:`WorkflowConfig`. Anything wrong raises :class:`ConfigError` whose message is one line
naming the key, the bad value and what is allowed.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from ..space.templates import get_template
from ..vta.target import PRESETS, Target, TargetError, get_target
from ..vta.workload import RESNET18, Conv2D, WorkloadError, get_layer
from .validation import SCHEMA_PATH, ConfigError, config_schema, normalize_config

__all__ = [
    "ConfigError",
    "SCHEMA_PATH",
    "ModelSection",
    "SimstatsSection",
    "StrategySpec",
    "Unit",
    "WorkflowConfig",
    "config_schema",
    "load_config",
    "load_config_file",
    "normalize_config",
    "config_hash",
    "canonical_json",
    "unit_for_path",
]


def canonical_json(value: Any) -> str:
    """Deterministic JSON (sorted keys, no spaces) used for hashes and metadata."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=True)


def config_hash(section: Mapping[str, Any]) -> str:
    """sha256 of the canonical JSON of a config section."""
    return hashlib.sha256(canonical_json(section).encode()).hexdigest()


@dataclass(frozen=True)
class ModelSection:
    """The config's ``model`` section: the offline P, V and A models (``docs/design.md``).

    The defaults are the one home of the ML²Tuner NEST-C prototype's booster parameters
    (:meth:`booster_params`; ``ml2tuner.models.PAPER_PARAMS`` is built from them) and of the
    share of the space trained on; the objective is regression so that held-out RMSE is defined.
    """

    objective: str = "reg:squarederror"
    learning_rate: float = 0.1
    max_depth: int = 6
    alpha: float = 0.01
    subsample: float = 0.79
    colsample_bytree: float = 0.9
    n_estimators: int = 100
    train_fraction: float = 0.8
    optuna_trials: int = 0
    seed: int = 0

    def as_dict(self) -> dict[str, Any]:
        """Every field, as the config section holds it."""
        return dataclasses.asdict(self)

    def booster_params(self) -> dict[str, Any]:
        """The XGBoost booster parameters of these settings (XGBoost's names)."""
        return {
            "eta": self.learning_rate,
            "max_depth": self.max_depth,
            "alpha": self.alpha,
            "subsample": self.subsample,
            "colsample_bytree": self.colsample_bytree,
        }


@dataclass(frozen=True)
class SimstatsSection:
    """The config's ``simstats`` section: the simulation-statistics predictors (Pelke et al.).

    The one home of their defaults (``ml2tuner.models.simstats.evaluate_predictors`` takes it).

    Attributes:
        train_fraction: share of the valid configurations measured to train on (Pelke's small
            sample); the rest is held out.
        min_train: fewest training rows, whatever the fraction gives (cross-validation needs a
            few per fold).
        optuna_trials: Optuna trials per predictor; 0 trains each with its family's default.
        n_folds: cross-validation folds of the search.
        predictors: the predictor families (``ml2tuner.models.simstats.FAMILIES``).
        seed: seed of the sample, the models and the search.
    """

    train_fraction: float = 0.03
    min_train: int = 12
    optuna_trials: int = 20
    n_folds: int = 3
    predictors: tuple[str, ...] = ("mlr", "xgb", "forest")
    seed: int = 0

    def __post_init__(self) -> None:
        if not 0 < self.train_fraction < 1:
            raise ValueError("train_fraction must be in (0, 1)")
        if self.n_folds < 2 or self.min_train < self.n_folds:
            raise ValueError("need n_folds ≥ 2 and min_train ≥ n_folds")
        object.__setattr__(self, "predictors", tuple(self.predictors))

    def as_dict(self) -> dict[str, Any]:
        """Every field, as the config section holds it (``predictors`` as a list)."""
        return {**dataclasses.asdict(self), "predictors": list(self.predictors)}


@dataclass(frozen=True)
class Unit:
    """One target × layer × template: the granularity at which tables are cached."""

    target: Target
    workload: Conv2D
    template: str

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.target.name, self.workload.name, self.template)

    @property
    def path(self) -> str:
        """``{target}/{layer}/{template}``, the unit's folder under ``results/``."""
        return "/".join(self.key)

    def space_size(self) -> int:
        return get_template(self.template).size(self.workload, self.target)

    @classmethod
    def from_metadata(cls, metadata: Mapping[str, str]) -> Unit:
        """The unit a table was made for, from its metadata (``target_params``,
        ``layer_shape``, ``template``), so a table can be used without the configuration."""
        try:
            return cls(
                Target(**json.loads(metadata["target_params"])),
                Conv2D(**json.loads(metadata["layer_shape"])),
                metadata["template"],
            )
        except KeyError as exc:
            raise ValueError(
                f"table metadata lacks {exc.args[0]!r} (not a workflow table?)"
            ) from None

    def section(self) -> dict[str, Any]:
        """The configuration that determines the unit's space, compile and simulate tables."""
        return {
            "target": self.target.params(),
            "layer": dataclasses.asdict(self.workload),
            "template": self.template,
        }


@dataclass(frozen=True)
class StrategySpec:
    """A configured strategy: the name its trial logs go under, the tuner of the registry it
    runs, its budget and its options (``tuner_settings`` for a tuner named as itself, the
    ``variants`` entry's ``settings`` for a variant)."""

    name: str
    tuner: str
    budget: int
    settings: Mapping[str, Any]


@dataclass(frozen=True)
class WorkflowConfig:
    """The validated experiment. Built only by :func:`load_config`."""

    targets: tuple[str, ...]
    layers: tuple[str, ...]
    templates: tuple[str, ...]
    strategies: tuple[str, ...]
    seeds: tuple[int, ...]
    budget: int
    shard_size: int
    model: ModelSection
    simstats: SimstatsSection
    tuner_settings: Mapping[str, Mapping[str, Any]]
    variants: Mapping[str, Mapping[str, Any]]
    resolved_targets: Mapping[str, Target]
    resolved_layers: Mapping[str, Conv2D]

    def unit(self, target: str, layer: str, template: str) -> Unit:
        """The unit of configured names (``KeyError`` for a name not in the configuration)."""
        if template not in self.templates:
            raise KeyError(template)
        return Unit(self.resolved_targets[target], self.resolved_layers[layer], template)

    def units(self) -> list[Unit]:
        """Every configured target × layer × template, in configuration order."""
        return [
            self.unit(t, layer, tpl)
            for t in self.targets
            for layer in self.layers
            for tpl in self.templates
        ]

    def shard_bounds(self, unit: Unit) -> list[tuple[int, int]]:
        """``[start, stop)`` config_id ranges of the unit's simulation shards."""
        size = unit.space_size()
        n_shards = max(1, math.ceil(size / self.shard_size))
        return [
            (i * self.shard_size, min(size, (i + 1) * self.shard_size)) for i in range(n_shards)
        ]

    def strategy(self, name: str) -> StrategySpec:
        """The configured strategy ``name`` (a tuner of the registry, or a variant of one)."""
        variant = self.variants.get(name)
        if variant is None:
            return StrategySpec(name, name, self.budget, self.strategy_settings(name))
        return StrategySpec(
            name,
            variant["tuner"],
            variant.get("budget", self.budget),
            copy.deepcopy(dict(variant.get("settings", {}))),
        )

    def strategy_settings(self, strategy: str) -> dict[str, Any]:
        """The options of ``strategy`` (a variant's own ``settings``)."""
        if strategy in self.variants:
            return self.strategy(strategy).settings
        return copy.deepcopy(dict(self.tuner_settings.get(strategy, {})))


def unit_for_path(path: str | Path, units: list[Unit] | tuple[Unit, ...]) -> Unit:
    """The unit whose folder (``.../{target}/{layer}/{template}/...``) holds ``path``.

    Raises:
        ValueError: no unit's folder holds it.
    """
    parts = Path(path).parts
    for unit in units:
        key = unit.key
        if any(parts[i : i + 3] == key for i in range(len(parts) - 2)):
            return unit
    raise ValueError(f"{path}: not in the folder of any configured unit")


def load_config_file(path: str | Path) -> WorkflowConfig:
    """Read a YAML config file and :func:`load_config` it."""
    with Path(path).open(encoding="utf-8") as handle:
        raw = yaml.safe_load(handle) or {}
    return load_config(raw)


def load_config(raw: Mapping[str, Any]) -> WorkflowConfig:
    """Validate ``raw`` (schema, then names) and return the frozen configuration.

    Args:
        raw: the configuration as Snakemake holds it (``config``); not modified.
    Returns:
        The :class:`WorkflowConfig` with defaults filled in.
    Raises:
        ConfigError: one line naming the key, the bad value and what is allowed.
    """
    data = normalize_config(raw)
    _check_strategies(data["strategies"], data["variants"])
    target_defs = {
        name: _target_fields(name, spec) for name, spec in data["target_definitions"].items()
    }
    targets = {
        name: _resolve_target(i, name, target_defs) for i, name in enumerate(data["targets"])
    }
    layers = {
        name: _resolve_layer(i, name, data["layer_definitions"])
        for i, name in enumerate(data["layers"])
    }
    for layer in layers.values():
        for target in targets.values():
            try:
                layer.check_target(target)
            except WorkloadError as exc:
                raise ConfigError(
                    f"layers: {layer.name!r} does not fit target {target.name!r}: {exc}"
                ) from None
    return WorkflowConfig(
        targets=tuple(data["targets"]),
        layers=tuple(data["layers"]),
        templates=tuple(data["templates"]),
        strategies=tuple(data["strategies"]),
        seeds=tuple(data["seeds"]),
        budget=data["budget"],
        shard_size=data["shard_size"],
        model=ModelSection(**data["model"]),
        simstats=_simstats_section(data["simstats"]),
        tuner_settings=MappingProxyType(
            {k: MappingProxyType(dict(v)) for k, v in data["tuner_settings"].items()}
        ),
        variants=MappingProxyType(
            {k: MappingProxyType(dict(v)) for k, v in data["variants"].items()}
        ),
        resolved_targets=MappingProxyType(targets),
        resolved_layers=MappingProxyType(layers),
    )


def _check_strategies(strategies: list[str], variants: Mapping[str, Any]) -> None:
    """Every strategy is a tuner of the registry (the schema's ``tuner`` list) or a variant;
    a variant does not take a tuner's name, so a trial log's strategy names one thing."""
    tuners = config_schema()["$defs"]["tuner"]["enum"]
    for name in variants:
        if name in tuners:
            raise ConfigError(
                f"variants: {name!r} is a tuner's own name; name the variant differently"
            )
    for i, name in enumerate(strategies):
        if name not in tuners and name not in variants:
            raise ConfigError(
                f"strategies[{i}] = {name!r}: not a tuner or a variant; allowed "
                f"{', '.join([*tuners, *variants])}"
            )


def _simstats_section(section: Mapping[str, Any]) -> SimstatsSection:
    try:
        return SimstatsSection(**section)
    except ValueError as exc:
        raise ConfigError(f"simstats: {exc}") from None


# ---- targets and layers ------------------------------------------------------------------


def _target_fields(name: str, spec: Mapping[str, Any]) -> dict[str, Any]:
    fields = dict(spec)
    base = fields.pop("base", None)
    params = PRESETS[base].params() if base else {}
    params.update(fields)
    params["name"] = name
    try:
        Target(**params)
    except TargetError as exc:
        raise ConfigError(f"target_definitions.{name}: {exc}") from None
    return params


def _resolve_target(index: int, name: str, definitions: dict[str, dict]) -> Target:
    try:
        return get_target(name, extra=definitions)
    except TargetError as exc:
        if not str(exc).startswith("unknown target"):  # a model string with a bad part
            raise ConfigError(f"targets[{index}] = {name!r}: {exc}") from None
        allowed = ", ".join([*PRESETS, *definitions])
        raise ConfigError(
            f"targets[{index}] = {name!r}: unknown target; allowed {allowed} (presets and "
            "target_definitions) or a VTA model string like zcu102_1x16_i8w8a32_16_16_19_18"
        ) from None


def _resolve_layer(index: int, name: str, definitions: dict[str, dict]) -> Conv2D:
    if name not in definitions and name not in RESNET18:
        allowed = ", ".join([*RESNET18, *definitions])
        raise ConfigError(
            f"layers[{index}] = {name!r}: unknown layer; allowed {allowed} "
            "(ResNet-18 and layer_definitions)"
        )
    try:
        return get_layer(name, extra=definitions)
    except WorkloadError as exc:
        raise ConfigError(f"layer_definitions.{name}: {exc}") from None
