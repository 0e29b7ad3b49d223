"""``ml2tuner_plus``: ML²Tuner with the compiler's hidden features at every level and a prior.

The loop is :class:`~._ml2tuner.ML2Tuner`'s (V filters, A ranks, the top ``batch_size`` are
measured, the models retrain); each idea below is an option that can be switched off, and with
all of them off (``v_hidden: false, a_scores_all: false, prior: none`` and ml2tuner's
``v_threshold: 0.5, epsilon: 0.05``) the strategy is ``ml2tuner``:

* ``v_hidden`` — V sees the hidden features too. Validity in these spaces is decided by
  compiler decisions (fold rule, buffer use, thread split) that the knobs only imply.
* ``a_scores_all`` — every configuration is compiled before anything is measured, so A can
  score every compiled, unmeasured configuration instead of P's shortlist; P is then not
  needed and not trained.
* ``prior`` — warm start: P, V and A start from models trained on other units' measured tables
  (:func:`train_prior`; ``other-layers`` = the same target's other layers, ``other-targets`` =
  the same layer on other targets, ``all`` = every other unit). The prior is given with
  :meth:`ML2TunerPlus.warm_start` before the first proposal, so the very first batch is
  filtered by V and ranked by A; each refit then boosts on from the prior model with the
  tuner's own measurements (XGBoost's ``xgb_model``), so the prior is corrected, not forgotten.
  A prior never holds the unit being tuned: :meth:`~ML2TunerPlus.warm_start` refuses one whose
  sources include the tuned layer on the tuned target.
* ``n_random_with_prior`` — the random start when a prior was given (``n_random`` without).

Units are told apart by their features (:func:`unit_identity`: the ``l_*`` layer shape and the
``t_*`` target parameters), so "the same layer" means the same shape, whatever its name.
Defaults were chosen with ``benchmarks/ml2tuner_ablation.py`` (docs/models-and-tuners.md).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xgboost as xgb

from ..models.features import FEATURE_SETS, feature_table, is_valid, throughput
from ..models.xgb import XGBModel
from ..workflow.tables import atomic_write
from ._base import register
from ._ml2tuner import ML2Tuner, ML2TunerSettings

__all__ = [
    "ML2TunerPlus",
    "ML2TunerPlusSettings",
    "PRIOR_SCOPES",
    "PriorSource",
    "PriorModels",
    "unit_identity",
    "in_scope",
    "train_prior",
]

PRIOR_SCOPES = ("none", "other-layers", "other-targets", "all")
# Rows of one source unit the prior trains on, at most: the prior is fitted once per unit and
# strategy, and 10 000 rows keep that under a few seconds per model on one core.
PRIOR_ROWS_PER_SOURCE = 10_000
_SOURCES_ATTR = "ml2tuner_prior_sources"


@cache  # the workflow asks for every unit pair while it plans: build each identity once
def unit_identity(layer: Any, target: Any) -> tuple[tuple, tuple]:
    """``(layer key, target key)``: the ``l_*`` and ``t_*`` feature values of a unit."""
    frame = feature_table(
        pd.DataFrame({"config_id": [0], "knobs_json": ["{}"]}), layer, target
    ).iloc[0]
    return _identity_of(frame)


def _identity_of(row: pd.Series) -> tuple[tuple, tuple]:
    # float32, as in the tuners' feature matrices, so both sides compare equal
    return (
        tuple(float(np.float32(row[c])) for c in row.index if c.startswith("l_")),
        tuple(float(np.float32(row[c])) for c in row.index if c.startswith("t_")),
    )


def in_scope(scope: str, tuned: tuple[tuple, tuple], source: tuple[tuple, tuple]) -> bool:
    """Whether a unit of identity ``source`` belongs to the prior ``scope`` of unit ``tuned``.

    The tuned unit itself is in no scope.
    """
    if scope not in PRIOR_SCOPES:
        raise ValueError(f"prior {scope!r}: allowed {', '.join(PRIOR_SCOPES)}")
    same_layer, same_target = tuned[0] == source[0], tuned[1] == source[1]
    return {
        "none": False,
        "other-layers": same_target and not same_layer,
        "other-targets": same_layer and not same_target,
        "all": not (same_layer and same_target),
    }[scope]


@dataclass(frozen=True)
class ML2TunerPlusSettings(ML2TunerSettings):
    """Options of ``ml2tuner_plus``: ``ml2tuner``'s and the ideas of the module docstring.

    ``v_threshold`` (0.9) and ``epsilon`` (0) differ from ``ml2tuner``'s: with V informed from
    the first batch, a measurement V doubts or a random one is mostly a wasted, invalid one
    (docs/models-and-tuners.md, the ablation).

    Attributes:
        v_hidden: V sees the hidden features too.
        a_scores_all: A ranks every compiled, unmeasured configuration (no P shortlist).
        prior: which other units the warm start learns from: one of :data:`PRIOR_SCOPES`.
        n_random_with_prior: random measurements before the models choose, with a prior.
    """

    v_threshold: float = 0.9
    epsilon: float = 0.0
    v_hidden: bool = True
    a_scores_all: bool = True
    prior: str = "all"
    n_random_with_prior: int = 0

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.prior not in PRIOR_SCOPES:
            raise ValueError(f"prior {self.prior!r}: allowed {', '.join(PRIOR_SCOPES)}")
        if self.n_random_with_prior < 0:
            raise ValueError("n_random_with_prior must be ≥ 0")

    def feature_set(self, role: str) -> str:
        """Model ``role``'s feature set (a key of ``FEATURE_SETS``)."""
        return "config" if role == "P" or (role == "V" and not self.v_hidden) else "config+hidden"

    def roles(self) -> tuple[str, ...]:
        """The models this strategy trains: P only when it shortlists for A."""
        return ("V", "A") if self.a_scores_all else ("P", "V", "A")


@dataclass(frozen=True)
class PriorSource:
    """One other unit's tables, to train a prior on."""

    space: pd.DataFrame
    compiled: pd.DataFrame
    measured: pd.DataFrame
    layer: Any
    target: Any


@dataclass(frozen=True)
class PriorModels:
    """Models trained on other units, and which units (:func:`unit_identity`) they saw.

    Attributes:
        models: role → fitted model (the roles of the settings it was trained for).
        sources: the identities of the units in the training data.
    """

    models: dict[str, XGBModel]
    sources: tuple[tuple[tuple, tuple], ...]

    def save(self, folder: str | Path) -> list[Path]:
        """Write ``{role}.json`` per model (XGBoost JSON, sources as an attribute)."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        paths = []
        for role, model in self.models.items():
            model.booster.set_attr(**{_SOURCES_ATTR: json.dumps(self.sources)})
            path = folder / f"{role}.json"
            atomic_write(path, model.save)
            paths.append(path)
        return paths

    @classmethod
    def load(cls, paths: Sequence[str | Path]) -> PriorModels:
        """Read models written by :meth:`save` (the role is the file's stem)."""
        models = {Path(p).stem: XGBModel.load(p) for p in paths}
        sources = {m.booster.attr(_SOURCES_ATTR) for m in models.values()}
        if len(sources) != 1 or None in sources:
            raise ValueError(f"prior models disagree on their sources: {sorted(map(str, paths))}")
        as_tuples = tuple(
            (tuple(layer), tuple(target)) for layer, target in json.loads(sources.pop())
        )
        return cls(models, as_tuples)


def train_prior(
    sources: Sequence[PriorSource], settings: ML2TunerPlusSettings, *, seed: int = 0
) -> PriorModels:
    """Train the models of ``settings`` on other units' measured tables.

    Each unit's throughput is normalised by its own best, and the ranking models compare
    configurations only within a unit (one query group per unit), so layers of different
    speed do not dominate one another.

    Args:
        sources: the other units (never the tuned one: :meth:`ML2TunerPlus.warm_start` checks).
        settings: the tuner's settings (objective, booster parameters, feature sets).
        seed: seeds the row sampling and the boosters.
    Returns:
        the fitted models and their sources.
    """
    if not sources:
        raise ValueError("a prior needs at least one source unit")
    rng = np.random.default_rng(seed)
    parts = [_source_rows(src, rng) for src in sources]
    models = {}
    for offset, role in enumerate(settings.roles()):
        feature_set = settings.feature_set(role)
        names = parts[0][feature_set]
        x, y, group = [], [], []
        for part in parts:
            if part[feature_set] != names:
                raise ValueError("prior sources have different feature columns")
            rows = part["valid"] if role != "V" else np.ones(len(part["valid"]), bool)
            x.append(part["frame"].loc[rows, names].to_numpy(np.float32))
            y.append(part["valid"][rows].astype(float) if role == "V" else part["perf"][rows])
            group.append(int(rows.sum()))
        model = XGBModel(settings.model_settings(role), seed=seed + offset, feature_names=names)
        dtrain = xgb.DMatrix(np.vstack(x), label=np.concatenate(y), nthread=settings.nthread)
        if model.settings.objective == "rank:pairwise":
            dtrain.set_group(group)
        model.booster = xgb.train(
            model.booster_params(), dtrain, num_boost_round=model.settings.num_boost_round
        )
        models[role] = model
    return PriorModels(models, tuple(unit_identity(s.layer, s.target) for s in sources))


def _source_rows(source: PriorSource, rng: np.random.Generator) -> dict[str, Any]:
    table = feature_table(source.space, source.layer, source.target, source.compiled)
    if len(table) > PRIOR_ROWS_PER_SOURCE:
        keep = np.sort(rng.choice(len(table), PRIOR_ROWS_PER_SOURCE, replace=False))
        table = table.iloc[keep].reset_index(drop=True)
    measured = source.measured.set_index("config_id").reindex(table["config_id"])
    if measured["status"].isna().any():
        raise ValueError("a prior source's measured table lacks configurations of its space")
    measured = measured.reset_index()
    thr = throughput(measured)
    valid = is_valid(measured) & np.isfinite(thr)
    return {
        "frame": table,
        "config": FEATURE_SETS["config"].columns(table),
        "config+hidden": FEATURE_SETS["config+hidden"].columns(table),
        "valid": valid,
        "perf": np.where(valid, thr / max(np.nanmax(thr, initial=0.0), 1e-12), 0.0),
    }


@register
class ML2TunerPlus(ML2Tuner):
    """ML²Tuner with hidden features at every level and a warm start (module docstring)."""

    name = "ml2tuner_plus"
    settings_class = ML2TunerPlusSettings

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.prior: PriorModels | None = None
        first = pd.Series(self.space.config_x[0], index=self.space.config_names)
        self.identity = _identity_of(first)

    def warm_start(self, prior: PriorModels) -> None:
        """Start P, V and A from ``prior`` (before the first proposal).

        Raises:
            ValueError: the option ``prior`` is ``none``; the prior saw the unit being tuned
                (leakage); its models are not this strategy's or have other features; or
                something was already measured.
        """
        if self.settings.prior == "none":
            raise ValueError(f"{self.name}: a prior was given but the option prior is none")
        if self.identity in prior.sources:
            raise ValueError(f"{self.name}: the prior was trained on the unit being tuned")
        if len(self.hist_rows):
            raise ValueError(f"{self.name}: warm_start after measurements")
        if set(prior.models) != set(self.settings.roles()):
            raise ValueError(f"{self.name}: prior has models {sorted(prior.models)}")
        for role, model in prior.models.items():
            names = self._feature_names(role)
            if model.feature_names != names:
                raise ValueError(f"{self.name}: prior model {role} has other features")
            if model.settings.objective != self.settings.model_settings(role).objective:
                raise ValueError(f"{self.name}: prior model {role} has another objective")
            self.models[role] = model
        self.prior = prior

    def _feature_names(self, role: str) -> list[str]:
        if self.settings.feature_set(role) == "config":
            return self.space.config_names
        return self.space.full_names

    def _features(self, role: str, rows: np.ndarray) -> np.ndarray:
        if self.settings.feature_set(role) == "config":
            return self.space.config_x[rows]
        return self.space.full_x(rows)

    def _n_random(self) -> int:
        s = self.settings
        return s.n_random_with_prior if self.prior is not None else s.n_random

    def _candidates(self, n: int) -> np.ndarray:
        if not self.settings.a_scores_all:
            return super()._candidates(n)
        pool = self._pool()
        ok = self.space.compile_ok
        # Configurations the compiler rejected cannot run; keep them only if nothing else is left.
        if ok is not None and ok[pool].sum() >= n:
            pool = pool[ok[pool]]
        return pool

    def _roles(self) -> tuple[str, ...]:
        return tuple(r for r in self.settings.roles() if r != "V")

    def _v_needs_both_classes(self) -> bool:
        # Boosting on from a prior V is well defined with one class: it only shifts V's odds.
        return self.prior is None

    def _fit(self, role: str, rows: np.ndarray, y: np.ndarray, offset: int) -> XGBModel:
        if self.prior is None:
            return super()._fit(role, rows, y, offset)
        base = self.prior.models[role]
        model = XGBModel(base.settings, seed=int(self.rng.integers(2**31)) + offset)
        dtrain = xgb.DMatrix(
            self._features(role, rows),
            label=np.asarray(y, np.float64),
            nthread=self.settings.nthread,
        )
        model.booster = xgb.train(
            model.booster_params(),
            dtrain,
            num_boost_round=model.settings.num_boost_round,
            xgb_model=base.booster,
        )
        return model
