"""Model optimizers: find the configurations a cost model scores highest.

:class:`SimulatedAnnealingOptimizer` re-implements AutoTVM's ``SimulatedAnnealingOptimizer``
(``autotvm/tuner/sa_model_optimizer.py``): ``parallel_size`` annealing chains walk the knob grid
(one knob changed per step), accept a move with probability ``exp(min((new − old) / T, 1))``,
temperature cooling linearly from ``temp[0]`` to ``temp[1]`` over ``n_iter`` steps, stop early
when the top-``num`` heap has not changed for ``early_stop`` steps, and keep the chains between
calls (``persistent``). As in AutoTVM, maxima with a negative score are dropped.
"""

from __future__ import annotations

import abc
import heapq
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..space.grid import KnobGrid

__all__ = ["ModelOptimizer", "SimulatedAnnealingOptimizer", "SASettings"]

ScoreFn = Callable[[np.ndarray], np.ndarray]


class ModelOptimizer(abc.ABC):
    """Searches the space for the maxima of a cost model."""

    @abc.abstractmethod
    def find_maximums(self, score: ScoreFn, num: int, exclusive: set[int]) -> list[int]:
        """Up to ``num`` rows not in ``exclusive``, best first."""


@dataclass(frozen=True)
class SASettings:
    """AutoTVM's defaults (``SimulatedAnnealingOptimizer.__init__``)."""

    n_iter: int = 500
    temp: tuple[float, float] = (1.0, 0.0)
    persistent: bool = True
    parallel_size: int = 128
    early_stop: int = 50


class SimulatedAnnealingOptimizer(ModelOptimizer):
    """Parallel simulated annealing over the knob grid (see the module docstring).

    Args:
        grid: the space's knob grid.
        settings: AutoTVM's parameters.
        rng: the owning tuner's generator.
    """

    def __init__(self, grid: KnobGrid, settings: SASettings, rng: np.random.Generator) -> None:
        self.grid = grid
        self.settings = settings
        self.rng = rng
        self.n = len(grid.index)
        self.parallel_size = min(settings.parallel_size, self.n)
        self.points: np.ndarray | None = None

    def find_maximums(self, score: ScoreFn, num: int, exclusive: set[int]) -> list[int]:
        s = self.settings
        if s.persistent and self.points is not None:
            points = self.points
        else:
            points = self.rng.choice(self.n, size=self.parallel_size, replace=False)
        scores = score(points)
        heap: list[tuple[float, int]] = [(float("-inf"), -1 - i) for i in range(num)]
        heapq.heapify(heap)
        in_heap = set(exclusive)
        in_heap.update(p for _, p in heap)
        _push(heap, in_heap, scores, points)

        t = s.temp[0]
        cool = (s.temp[0] - s.temp[1]) / (s.n_iter + 1)
        k = k_last_modify = 0
        early_stop = s.early_stop or 10**9
        while k < s.n_iter and k < k_last_modify + early_stop:
            new_points = self.grid.random_walk(points, self.rng)
            new_scores = score(new_points)
            ac_prob = np.exp(np.minimum((new_scores - scores) / (t + 1e-5), 1))
            accept = self.rng.random(len(ac_prob)) < ac_prob
            points = np.where(accept, new_points, points)
            scores = np.where(accept, new_scores, scores)
            if _push(heap, in_heap, new_scores, new_points):
                k_last_modify = k
            k += 1
            t -= cool
        if s.persistent:
            self.points = points
        heap.sort(key=lambda item: -item[0])
        return [p for value, p in heap if value >= 0]


def _push(
    heap: list[tuple[float, int]], in_heap: set[int], scores: np.ndarray, points: np.ndarray
) -> bool:
    """Offer (score, point) pairs to the bounded min-heap; True if any entered."""
    modified = False
    # Only scores above the current minimum can enter (the minimum never decreases).
    for i in np.flatnonzero(scores > heap[0][0]).tolist():
        value, p = float(scores[i]), int(points[i])
        if value > heap[0][0] and p not in in_heap:
            popped = heapq.heapreplace(heap, (value, p))
            in_heap.discard(popped[1])
            in_heap.add(p)
            modified = True
    return modified
