"""``ml2tuner_plus``: ML²Tuner with the compiler's hidden features at every level and a prior.

The loop is :class:`~._ml2tuner.ML2Tuner`'s (V filters, A ranks, the top ``batch_size`` are
measured, the models retrain); each idea below is an option that can be switched off, and with
all of them off (``v_hidden: false, a_scores_all: false, prior: none, batch_distance: 0,
stall_batches: 0`` and ml2tuner's ``v_threshold: 0.5, epsilon: 0.05``) the strategy is
``ml2tuner``:

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
* ``prior_calibration`` — a prior is a guess about another unit: at each refit it is weighed
  on the tuned unit's own measurements (:class:`CorrectedPrior`: V's margin by a logistic fit
  of the unit's labels, A's by its rank agreement with the unit's throughputs), so a prior the
  unit contradicts stops steering, and the trees fitted on the unit's data take over.
* ``batch_distance`` — the batch is spread: A's best first, then the next best that differ
  from those already chosen in at least that many knobs, so a wrong guess about one region
  costs one measurement, not a batch of its neighbours.
* ``stall_batches`` / ``v_threshold_stalled`` — when the best has not improved for that many
  batches, A's ranking is saturated where it has measured: the batch must then also differ
  from every measured configuration, and V must be surer (the gain left is small, so a
  wasted, invalid measurement costs more than a missed configuration).

Units are told apart by their features (:func:`unit_identity`: the ``l_*`` layer shape and the
``t_*`` target parameters), so "the same layer" means the same shape, whatever its name.
Defaults were chosen with ``benchmarks/ml2tuner_ablation.py`` (docs/models-and-tuners.md).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    import xgboost as xgb

from ..models.features import FEATURE_SETS, feature_table, is_valid, throughput
from ..models.xgb import XGBModel
from ..workflow.tables import atomic_write
from ._base import register
from ._ml2tuner import ML2Tuner, ML2TunerSettings

__all__ = [
    "CorrectedPrior",
    "ML2TunerPlus",
    "ML2TunerPlusSettings",
    "PRIOR_SCOPES",
    "PriorSource",
    "PriorModels",
    "unit_identity",
    "in_scope",
    "train_prior",
    "calibrate_logistic",
    "rank_agreement",
    "prior_margin",
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
        prior_calibration: at each refit, weigh the prior by how well it predicts the unit's
            own measurements (:class:`CorrectedPrior`); off: boost on from it unweighed.
        batch_distance: two configurations of a batch differ in at least this many knobs
            (0 or 1: no constraint beyond being distinct).
        stall_batches: after this many model batches without a better best, the batch must
            also differ from every measured configuration by ``batch_distance`` knobs (0: never).
        v_threshold_stalled: V's threshold once the search has stalled (``stall_batches``).
    """

    v_threshold: float = 0.9
    epsilon: float = 0.0
    v_hidden: bool = True
    a_scores_all: bool = True
    prior: str = "all"
    n_random_with_prior: int = 0
    prior_calibration: bool = True
    batch_distance: int = 2
    stall_batches: int = 4
    v_threshold_stalled: float = 0.99

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.prior not in PRIOR_SCOPES:
            raise ValueError(f"prior {self.prior!r}: allowed {', '.join(PRIOR_SCOPES)}")
        if self.n_random_with_prior < 0:
            raise ValueError("n_random_with_prior must be ≥ 0")
        if not 0 <= self.v_threshold_stalled <= 1:
            raise ValueError("v_threshold_stalled must be in [0, 1]")
        if self.batch_distance < 0 or self.stall_batches < 0:
            raise ValueError("batch_distance and stall_batches must be ≥ 0")

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
    sources: Iterable[PriorSource], settings: ML2TunerPlusSettings, *, seed: int = 0
) -> PriorModels:
    """Train the models of ``settings`` on other units' measured tables.

    Each unit's throughput is normalised by its own best, and the ranking models compare
    configurations only within a unit (one query group per unit), so layers of different
    speed do not dominate one another.

    Args:
        sources: the other units (never the tuned one: :meth:`ML2TunerPlus.warm_start` checks);
            an iterator is read one source at a time, and only each one's sampled rows are kept.
        settings: the tuner's settings (objective, booster parameters, feature sets).
        seed: seeds the row sampling and the boosters.
    Returns:
        the fitted models and their sources.
    """
    import xgboost as xgb  # on use (ml2tuner.models.xgb says why)

    rng = np.random.default_rng(seed)
    identities, parts = [], []
    for src in sources:
        identities.append(unit_identity(src.layer, src.target))
        parts.append(_source_rows(src, rng))
    if not parts:
        raise ValueError("a prior needs at least one source unit")
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
    return PriorModels(models, tuple(identities))


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


@dataclass(frozen=True)
class CorrectedPrior:
    """A prior model, weighed on the tuned unit's own measurements, plus trees fitted on them.

    Its margin is ``scale · prior margin + shift + own trees``: the own trees boost on from the
    weighed prior (XGBoost's ``base_margin``), so a prior the unit confirms keeps its say and
    one the unit contradicts (``scale`` → 0) no longer drowns the unit's own data. Boosting on
    from an unweighed prior V cannot correct it: where it is sure (p ≈ 1), the logistic loss's
    hessian p(1 − p) vanishes and no split reaches ``min_child_weight``.

    Attributes:
        prior: the model trained on other units.
        scale, shift: the weighing of the prior's margin.
        booster: trees fitted on the unit's own measurements on top of it.
        logistic: the margin is a log-odds (model V): :meth:`predict` returns probabilities.
    """

    prior: XGBModel
    scale: float
    shift: float
    booster: xgb.Booster
    logistic: bool

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Scores (A) or probabilities of being valid (V) of rows ``x``."""
        x = np.asarray(x, np.float32)
        if x.shape[0] == 0:
            return np.empty(0, np.float64)
        margin = self.booster.inplace_predict(
            x, predict_type="margin", base_margin=self.base_margin(x), validate_features=False
        ).astype(np.float64)
        return np.exp(-np.logaddexp(0.0, -margin)) if self.logistic else margin  # no overflow

    def base_margin(self, x: np.ndarray) -> np.ndarray:
        """The weighed prior's margin of rows ``x``."""
        return self.scale * prior_margin(self.prior, x) + self.shift


def prior_margin(model: XGBModel, x: np.ndarray) -> np.ndarray:
    """``model``'s raw margin (log-odds for V, the ranking score for A) of rows ``x``."""
    x = np.asarray(x, np.float32)
    return model.booster.inplace_predict(x, predict_type="margin", validate_features=False).astype(
        np.float64
    )


# The weighing of a prior V is a logistic fit of the unit's own labels on the prior's margin,
# pulled towards (scale 1, shift 0) as if by one extra measurement: with a handful of own rows
# the prior stands, and only a contradiction the unit's measurements keep showing removes it.
_CALIBRATION_PULL = 1.0


def calibrate_logistic(margin: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """``(scale ≥ 0, shift)`` maximising the likelihood of labels ``y`` under
    ``sigmoid(scale · margin + shift)``, with a pull of :data:`_CALIBRATION_PULL` to (1, 0)."""
    x = np.column_stack([np.asarray(margin, np.float64), np.ones(len(margin))])
    theta, pull = np.array([1.0, 0.0]), np.array([1.0, 0.0])
    for _ in range(50):  # Newton's method on a strictly convex 2-parameter problem
        p = 1.0 / (1.0 + np.exp(-np.clip(x @ theta, -30, 30)))
        grad = x.T @ (p - y) + _CALIBRATION_PULL * (theta - pull)
        hess = (x * (p * (1 - p))[:, None]).T @ x + _CALIBRATION_PULL * np.eye(2)
        step = np.linalg.solve(hess, grad)
        theta = theta - step
        theta[0] = max(theta[0], 0.0)  # a prior that predicts the opposite is dropped, not flipped
        if np.abs(step).max() < 1e-8:
            break
    return float(theta[0]), float(theta[1])


def rank_agreement(score: np.ndarray, target: np.ndarray) -> float:
    """Kendall's τ-a between ``score`` and ``target`` (0 with fewer than 2 rows)."""
    if len(score) < 2:
        return 0.0
    ds = np.sign(score[:, None] - score[None, :])
    dt = np.sign(target[:, None] - target[None, :])
    n = len(score)
    return float((ds * dt).sum() / (n * (n - 1)))


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
        self.stalled = 0  # model batches since the best so far last improved

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

    def _candidates(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        if not self.settings.a_scores_all:
            return super()._candidates(n)
        pool = self._pool()
        ok = self.space.compile_ok
        # Configurations the compiler rejected cannot run; keep them only if nothing else is left.
        if ok is not None and ok[pool].sum() >= n:
            pool = pool[ok[pool]]
        return pool, pool[:0]  # every candidate is already A's to rank

    def _roles(self) -> tuple[str, ...]:
        return tuple(r for r in self.settings.roles() if r != "V")

    def _v_needs_both_classes(self) -> bool:
        # Boosting on from a prior V is well defined with one class: it only shifts V's odds.
        return self.prior is None

    def _fit(self, role: str, rows: np.ndarray, y: np.ndarray, offset: int) -> Any:
        import xgboost as xgb  # on use (ml2tuner.models.xgb says why)

        if self.prior is None:
            return super()._fit(role, rows, y, offset)
        if self.settings.prior_calibration:
            return self._fit_corrected(role, rows, y, offset)
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

    def _fit_corrected(
        self, role: str, rows: np.ndarray, y: np.ndarray, offset: int
    ) -> CorrectedPrior:
        """Weigh the prior on the measurements so far, then fit trees on top of it."""
        import xgboost as xgb  # on use (ml2tuner.models.xgb says why)

        base = self.prior.models[role]
        x = self._features(role, rows)
        margin = prior_margin(base, x)
        y = np.asarray(y, np.float64)
        if role == "V":
            scale, shift = calibrate_logistic(margin, y)
        else:  # A ranks: its say is how well it orders the unit's own valid measurements
            scale, shift = max(rank_agreement(margin, y), 0.0), 0.0
        model = XGBModel(base.settings, seed=int(self.rng.integers(2**31)) + offset)
        dtrain = xgb.DMatrix(x, label=y, nthread=self.settings.nthread)
        dtrain.set_base_margin(scale * margin + shift)
        booster = xgb.train(
            model.booster_params(), dtrain, num_boost_round=model.settings.num_boost_round
        )
        return CorrectedPrior(base, scale, shift, booster, logistic=role == "V")

    def _observe(self, rows: np.ndarray, results: pd.DataFrame) -> None:
        if len(self.hist_rows) > self._n_random():
            before = self.hist_thr[: -len(rows)]
            improved = np.nanmax(self.hist_thr[-len(rows) :], initial=0.0) > np.nanmax(
                before, initial=0.0
            )
            self.stalled = 0 if improved else self.stalled + 1
        super()._observe(rows, results)

    def _stalled(self) -> bool:
        return 0 < self.settings.stall_batches <= self.stalled

    def _v_threshold(self) -> float:
        s = self.settings
        return s.v_threshold_stalled if self._stalled() else s.v_threshold

    def _pick(self, ranked: np.ndarray, n: int) -> np.ndarray:
        """A's top ``n``, spread: each differs from the others (and, once the search has
        stalled, from everything measured) in at least ``batch_distance`` knobs."""
        s = self.settings
        explore = self._stalled()
        distance = max(s.batch_distance, 2) if explore else s.batch_distance
        if distance <= 1:
            return ranked[:n].copy()
        knobs = self.space.knob_x
        pool = ranked
        if explore:  # stalled: leave the neighbourhood of everything measured
            seen = knobs[self.hist_rows]
            far = np.ones(len(ranked), bool)
            for start in range(0, len(seen), 64):
                diff = knobs[ranked][:, None, :] != seen[None, start : start + 64, :]
                far &= (diff.sum(axis=2) >= distance).all(axis=1)
            pool = ranked[far]
        chosen: list[int] = []
        for row in pool:
            if all((knobs[row] != knobs[c]).sum() >= distance for c in chosen):
                chosen.append(int(row))
                if len(chosen) == n:
                    break
        rest = ranked[~np.isin(ranked, chosen)]  # too few spread ones: A's next best
        return np.concatenate([np.asarray(chosen, np.int64), rest[: n - len(chosen)]])
