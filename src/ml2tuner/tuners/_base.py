"""The :class:`Tuner` role, its settings and the name → class registry."""

from __future__ import annotations

import abc
import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

import numpy as np
import pandas as pd

from ..models.features import is_valid, throughput
from ..workflow.columns import PREDICTION_COLUMNS
from ._space import TuningSpace

__all__ = ["Tuner", "TunerSettings", "TUNERS", "register", "make_tuner", "PREDICTION_COLUMNS"]

S = TypeVar("S", bound="TunerSettings")


@dataclass(frozen=True)
class TunerSettings:
    """Options common to every strategy (strategies extend this dataclass).

    Attributes:
        batch_size: configurations proposed (and measured) per step.
    """

    batch_size: int = 8

    def __post_init__(self) -> None:
        if self.batch_size < 1:
            raise ValueError("batch_size must be ≥ 1")

    @classmethod
    def from_options(cls: type[S], options: Mapping[str, Any] | None) -> S:
        """Settings from a mapping (e.g. ``config.yaml``); unknown options are rejected."""
        options = dict(options or {})
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(options) - known)
        if unknown:
            raise ValueError(
                f"{cls.__name__}: unknown option(s) {', '.join(unknown)}; "
                f"allowed {', '.join(sorted(known))}"
            )
        for f in dataclasses.fields(cls):  # YAML gives lists where tuples are declared
            if isinstance(options.get(f.name), list) and isinstance(f.default, tuple):
                options[f.name] = tuple(options[f.name])
        return cls(**options)

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


class Tuner(abc.ABC):
    """Proposes configurations to measure and learns from their results.

    Subclasses implement :meth:`_propose` (rows to measure next) and may override
    :meth:`_observe`. The base class keeps the history, guarantees that no configuration is
    proposed twice, and records what the models predicted for each proposed configuration.

    Args:
        space: the configurations and their features.
        seed: seeds the tuner's own ``np.random.default_rng``.
        settings: the strategy's settings (its defaults when None).
    """

    name: ClassVar[str]
    settings_class: ClassVar[type[TunerSettings]] = TunerSettings

    def __init__(
        self, space: TuningSpace, *, seed: int = 0, settings: TunerSettings | None = None
    ) -> None:
        settings = settings if settings is not None else self.settings_class()
        if not isinstance(settings, self.settings_class):
            raise TypeError(f"{self.name}: settings must be {self.settings_class.__name__}")
        self.space = space
        self.seed = int(seed)
        self.settings = settings
        self.rng = np.random.default_rng(seed)
        self.taken = np.zeros(space.n, bool)  # proposed (measured or pending)
        self.hist_rows = np.empty(0, np.int64)
        self.hist_valid = np.empty(0, bool)
        self.hist_thr = np.empty(0, np.float64)  # 1/latency_us, NaN for failures
        self._predictions: dict[int, tuple[float, float, float]] = {}

    # ---- the interface ------------------------------------------------------------------
    @property
    def batch_size(self) -> int:
        return self.settings.batch_size

    def propose(self, n: int) -> list[int]:
        """Up to ``n`` configuration ids never proposed before (fewer only when exhausted)."""
        n = min(int(n), int((~self.taken).sum()))
        if n <= 0:
            return []
        rows = np.asarray(self._propose(n), np.int64)
        if len(rows) != n or len(np.unique(rows)) != n or self.taken[rows].any():
            raise RuntimeError(
                f"{self.name}: proposed {rows.tolist()} for n={n} "
                "(must be n distinct, never proposed rows)"
            )
        self.taken[rows] = True
        return self.space.config_ids[rows].tolist()

    def observe(self, results: pd.DataFrame) -> None:
        """Learn from measured results (columns of :data:`ml2tuner.measure.RESULT_COLUMNS`)."""
        if results.empty:
            return
        rows = self.space.rows(results["config_id"].to_numpy())
        self.taken[rows] = True
        self.hist_rows = np.concatenate([self.hist_rows, rows])
        self.hist_valid = np.concatenate([self.hist_valid, is_valid(results)])
        self.hist_thr = np.concatenate([self.hist_thr, throughput(results)])
        self._observe(rows, results)

    def predictions(self, config_ids: list[int]) -> pd.DataFrame:
        """What the models predicted for each id when it was proposed (NaN where unused)."""
        rows = self.space.rows(config_ids)
        nan = (np.nan, np.nan, np.nan)
        values = [self._predictions.get(int(r), nan) for r in rows]
        return pd.DataFrame(values, columns=list(PREDICTION_COLUMNS), dtype=np.float64)

    # ---- for subclasses -----------------------------------------------------------------
    @abc.abstractmethod
    def _propose(self, n: int) -> np.ndarray:
        """``n`` distinct rows with ``taken[row] == False``."""

    def _observe(self, rows: np.ndarray, results: pd.DataFrame) -> None:  # noqa: B027
        """Hook: the history arrays are already updated (nothing by default)."""

    def record(
        self,
        rows: np.ndarray,
        p: np.ndarray | None = None,
        v: np.ndarray | None = None,
        a: np.ndarray | None = None,
    ) -> None:
        """Remember model predictions for ``rows`` (reported in the trial log)."""
        for i, r in enumerate(np.asarray(rows, np.int64).tolist()):
            self._predictions[r] = tuple(
                float(x[i]) if x is not None else np.nan for x in (p, v, a)
            )

    def free_rows(self) -> np.ndarray:
        return np.flatnonzero(~self.taken)

    def random_rows(self, n: int, exclude: np.ndarray | None = None) -> np.ndarray:
        """``n`` random rows never proposed (and not in ``exclude``)."""
        free = ~self.taken
        if exclude is not None and len(exclude):
            free = free.copy()
            free[exclude] = False
        candidates = np.flatnonzero(free)
        return self.rng.choice(candidates, size=min(n, len(candidates)), replace=False)

    def normalised_targets(self) -> tuple[np.ndarray, np.ndarray]:
        """``(rows, throughput / max)`` of the valid configurations measured so far."""
        rows = self.hist_rows[self.hist_valid]
        thr = self.hist_thr[self.hist_valid]
        return rows, thr / max(float(thr.max()), 1e-12) if thr.size else thr


TUNERS: dict[str, type[Tuner]] = {}
T = TypeVar("T", bound=type[Tuner])


def register(cls: T) -> T:
    """Class decorator: add a strategy to :data:`TUNERS` under its ``name``."""
    if cls.name in TUNERS:
        raise ValueError(f"tuner {cls.name!r} registered twice")
    TUNERS[cls.name] = cls
    return cls


def make_tuner(
    name: str, space: TuningSpace, *, seed: int = 0, options: Mapping[str, Any] | None = None
) -> Tuner:
    """Build the strategy ``name`` with ``options`` (validated) and ``seed``."""
    try:
        cls = TUNERS[name]
    except KeyError:
        raise ValueError(f"unknown tuner {name!r}: allowed {', '.join(sorted(TUNERS))}") from None
    return cls(space, seed=seed, settings=cls.settings_class.from_options(options))
