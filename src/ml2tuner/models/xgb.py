"""Cost models: the :class:`CostModel` role and its XGBoost implementation.

Models P and A learn normalised throughput with ``rank:pairwise`` or ``reg:squarederror``;
model V is a ``binary:logistic`` classifier (probability of ``valid``). Starting
hyper-parameters are the ML²Tuner prototype's (:data:`PAPER_PARAMS`); Optuna refines them
(:mod:`ml2tuner.models.hpo`).
"""

from __future__ import annotations

import abc
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np

# XGBoost (and scikit-learn, which it imports) takes about a second to load, so it is
# imported in the functions that train or load a booster: importing the tuners'
# registry, as every workflow job and `snakemake -n` do, stays light.
if TYPE_CHECKING:
    import xgboost as xgb

from ..workflow.config import ModelSection

__all__ = [
    "CostModel",
    "XGBModel",
    "ModelSettings",
    "PAPER_PARAMS",
    "OBJECTIVES",
    "MODEL_ROLES",
    "ModelRole",
    "default_settings",
]

# ML²Tuner's NEST-C prototype's booster parameters: the defaults of the config's model section.
PAPER_PARAMS: Mapping[str, Any] = MappingProxyType(ModelSection().booster_params())
OBJECTIVES = ("rank:pairwise", "reg:squarederror", "binary:logistic")
_RESERVED = frozenset({"objective", "seed", "nthread"})


@dataclass(frozen=True)
class ModelSettings:
    """How one XGBoost model is trained.

    Attributes:
        objective: one of :data:`OBJECTIVES`.
        params: XGBoost booster parameters (not ``objective``, ``seed``, ``nthread``).
        num_boost_round: boosting rounds.
        nthread: XGBoost threads; 1 keeps small fits fast and bit-reproducible.
    """

    objective: str = "reg:squarederror"
    params: Mapping[str, Any] = field(default_factory=lambda: dict(PAPER_PARAMS))
    num_boost_round: int = 100
    nthread: int = 1

    def __post_init__(self) -> None:
        if self.objective not in OBJECTIVES:
            raise ValueError(f"objective {self.objective!r}: allowed {', '.join(OBJECTIVES)}")
        bad = sorted(_RESERVED & set(self.params))
        if bad:
            raise ValueError(f"params may not set {', '.join(bad)} (set by the model)")
        if self.num_boost_round < 1 or self.nthread < 1:
            raise ValueError("num_boost_round and nthread must be ≥ 1")

    def replace(self, **changes: Any) -> ModelSettings:
        return ModelSettings(**{**self.__dict__, **changes})


@dataclass(frozen=True)
class ModelRole:
    """What one of the three models is: its feature set and its task."""

    name: str
    feature_set: str  # a key of ml2tuner.models.features.FEATURE_SETS
    task: str  # "performance" or "validity"


MODEL_ROLES: dict[str, ModelRole] = {
    "P": ModelRole("P", "config", "performance"),
    "V": ModelRole("V", "config", "validity"),
    "A": ModelRole("A", "config+hidden", "performance"),
}


def default_settings(role: str, objective: str | None = None) -> ModelSettings:
    """Paper settings for model ``role`` (``P``/``A``: ``objective`` or regression; ``V``)."""
    if MODEL_ROLES[role].task == "validity":
        return ModelSettings(objective="binary:logistic")
    return ModelSettings(objective=objective or "reg:squarederror")


class CostModel(abc.ABC):
    """A model of configurations: ``fit`` on a feature matrix, ``predict`` scores."""

    @abc.abstractmethod
    def fit(self, x: np.ndarray, y: np.ndarray) -> None:
        """Train on rows ``x`` (n, d) with labels ``y`` (n,)."""

    @abc.abstractmethod
    def predict(self, x: np.ndarray) -> np.ndarray:
        """Scores (higher is better / more likely valid) of rows ``x``."""

    @property
    @abc.abstractmethod
    def fitted(self) -> bool:
        """Whether :meth:`fit` has been called."""


class XGBModel(CostModel):
    """An XGBoost booster with its settings, seed and feature names.

    Args:
        settings: objective, parameters and rounds.
        seed: XGBoost's seed (row/column subsampling).
        feature_names: column names of ``x`` (recorded in the saved model).
    """

    def __init__(
        self, settings: ModelSettings, *, seed: int = 0, feature_names: Sequence[str] | None = None
    ) -> None:
        self.settings = settings
        self.seed = int(seed)
        self.feature_names = list(feature_names) if feature_names is not None else None
        self.booster: xgb.Booster | None = None

    @property
    def fitted(self) -> bool:
        return self.booster is not None

    def booster_params(self) -> dict[str, Any]:
        return {
            **self.settings.params,
            "objective": self.settings.objective,
            "seed": self.seed % (2**31),
            "nthread": self.settings.nthread,
            "verbosity": 0,
        }

    def fit(self, x: np.ndarray, y: np.ndarray) -> None:
        import xgboost as xgb  # on use (ml2tuner.models.xgb says why)

        dtrain = xgb.DMatrix(
            np.asarray(x, np.float32),
            label=np.asarray(y, np.float64),
            feature_names=self.feature_names,
            nthread=self.settings.nthread,
        )
        self.booster = xgb.train(
            self.booster_params(), dtrain, num_boost_round=self.settings.num_boost_round
        )

    def predict(self, x: np.ndarray) -> np.ndarray:
        if self.booster is None:
            raise RuntimeError("predict before fit")
        x = np.asarray(x, np.float32)
        if x.shape[0] == 0:
            return np.empty(0, np.float64)
        return self.booster.inplace_predict(x, validate_features=False).astype(np.float64)

    def save(self, path: str | Path) -> None:
        """Write the booster as XGBoost JSON, settings and features as attributes."""
        if self.booster is None:
            raise RuntimeError("save before fit")
        self.booster.set_attr(
            ml2tuner_settings=json.dumps(
                {
                    "objective": self.settings.objective,
                    "params": dict(self.settings.params),
                    "num_boost_round": self.settings.num_boost_round,
                    "nthread": self.settings.nthread,
                    "seed": self.seed,
                },
                sort_keys=True,
            ),
            ml2tuner_features=json.dumps(self.feature_names),
        )
        self.booster.save_model(str(path))

    @classmethod
    def load(cls, path: str | Path) -> XGBModel:
        import xgboost as xgb  # on use (ml2tuner.models.xgb says why)

        booster = xgb.Booster()
        booster.load_model(str(path))
        meta = json.loads(booster.attr("ml2tuner_settings") or "{}")
        seed = meta.pop("seed", 0)
        model = cls(
            ModelSettings(**meta) if meta else ModelSettings(),
            seed=seed,
            feature_names=json.loads(booster.attr("ml2tuner_features") or "null"),
        )
        model.booster = booster
        return model
