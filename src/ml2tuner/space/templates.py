"""Search-space templates: the knobs a tuner sets, their values, and a stable ``config_id``.

* ``nestc`` — ML²Tuner's NEST-C space: ``n_vthread`` 1..8 × ``tile_h`` × ``tile_w`` (each 1..56,
  clipped to the layer's output size), one configuration per distinct program. The compiler
  derives everything else.
* ``nestc_sweep`` — NEST-C's own profiling sweep (``run.sh``): tiles 1..56 on every layer,
  unclipped. NEST-C's library clips a tile larger than the output, and so does the compiler
  here, so an entry runs as the ``nestc`` configuration :meth:`NestCTemplate.program_key`
  names; as a data set the sweep counts that program as often as it visits it, as the authors'
  profiling tables do (docs/nestc.md §3, docs/vta-model.md).
* ``autotvm`` — TVM's VTA conv2d template: ``tile_b, tile_h, tile_w, tile_ci, tile_co`` as
  ``[outer, inner]`` factor splits and ``oc_nthread, h_nthread`` ∈ {1, 2}.

``config_id`` is the mixed-radix index of a configuration with the first knob varying fastest,
as AutoTVM's ``ConfigSpace`` numbers its entities; it is stable for a given layer and target.
:meth:`Template.program_key` names the program a configuration compiles to, so configurations
that compile identically are measured once.
"""

from __future__ import annotations

import abc
import itertools
import json
from typing import Any

import numpy as np

from ..vta.target import Target
from ..vta.workload import Conv2D
from .grid import KnobGrid

__all__ = ["Template", "KnobError", "TEMPLATES", "get_template", "parse_knobs"]

Knobs = dict[str, Any]


class KnobError(ValueError):
    """A configuration does not belong to its template's space."""


def factor_splits(extent: int) -> list[list[int]]:
    """Every ``[outer, inner]`` with ``outer * inner == extent``, inner ascending."""
    return [[extent // inner, inner] for inner in range(1, extent + 1) if extent % inner == 0]


class Template(abc.ABC):
    """A family of schedules for conv2d on VTA."""

    name: str

    @abc.abstractmethod
    def knob_values(self, workload: Conv2D, target: Target) -> dict[str, list[Any]]:
        """Each knob's allowed values, in definition order (first varies fastest)."""

    def enumerate(self, workload: Conv2D, target: Target) -> list[Knobs]:
        """Every configuration, index = ``config_id``."""
        values = self.knob_values(workload, target)
        names = list(values)
        # itertools.product varies the last factor fastest, so reverse twice.
        return [
            dict(zip(names, reversed(combo), strict=True))
            for combo in itertools.product(*(values[n] for n in reversed(names)))
        ]

    def knob_grid(self, workload: Conv2D, target: Target, config_ids: np.ndarray) -> KnobGrid:
        """The knob grid of the configurations ``config_ids`` (rows of a space table)."""
        return KnobGrid.from_values(self.knob_values(workload, target), config_ids)

    def program_key(self, knobs: Knobs, workload: Conv2D, target: Target) -> tuple:
        """A key equal for configurations the compiler turns into the same program (by
        default the knobs themselves); a measurement may be shared between them."""
        return tuple(json.dumps(knobs[name]) for name in self.knob_values(workload, target))

    def size(self, workload: Conv2D, target: Target) -> int:
        size = 1
        for vals in self.knob_values(workload, target).values():
            size *= len(vals)
        return size

    def config_id(self, knobs: Knobs, workload: Conv2D, target: Target) -> int:
        """Index of ``knobs`` in :meth:`enumerate` (raises :class:`KnobError` if absent)."""
        values = self.knob_values(workload, target)
        self.validate(knobs, workload, target)
        index, radix = 0, 1
        for name, vals in values.items():
            index += vals.index(_normalise(knobs[name])) * radix
            radix *= len(vals)
        return index

    def validate(self, knobs: Knobs, workload: Conv2D, target: Target) -> None:
        values = self.knob_values(workload, target)
        unknown = sorted(set(knobs) - set(values))
        missing = [n for n in values if n not in knobs]
        if unknown or missing:
            raise KnobError(
                f"template {self.name}: knobs must be exactly {', '.join(values)}"
                + (f"; unknown {', '.join(unknown)}" if unknown else "")
                + (f"; missing {', '.join(missing)}" if missing else "")
            )
        for name, vals in values.items():
            if _normalise(knobs[name]) not in vals:
                raise KnobError(
                    f"template {self.name}: {name}={knobs[name]!r} not allowed for "
                    f"{workload.name}; allowed {_describe(vals)}"
                )


def _normalise(value: Any) -> Any:
    return list(value) if isinstance(value, (list, tuple)) else value


def _describe(vals: list[Any]) -> str:
    if all(isinstance(v, int) for v in vals) and vals == list(range(vals[0], vals[-1] + 1)):
        return f"{vals[0]}..{vals[-1]}"
    return ", ".join(json.dumps(v) for v in vals)


class NestCTemplate(Template):
    """ML²Tuner's NEST-C (EVTA) conv space: virtual threads × output tile height × width."""

    name = "nestc"
    max_vthread = 8
    max_tile = 56

    def knob_values(self, workload: Conv2D, target: Target) -> dict[str, list[Any]]:
        return {
            "n_vthread": list(range(1, self.max_vthread + 1)),
            "tile_h": list(range(1, min(self.max_tile, workload.oh) + 1)),
            "tile_w": list(range(1, min(self.max_tile, workload.ow) + 1)),
        }

    def program_key(self, knobs: Knobs, workload: Conv2D, target: Target) -> tuple:
        """The clipped tile, as the compiler clips ``tile_h``/``tile_w`` to the output
        (``plan.py``); also for an entry of NEST-C's sweep outside this space (tile > output)."""
        return (
            knobs["n_vthread"],
            min(knobs["tile_h"], workload.oh),
            min(knobs["tile_w"], workload.ow),
        )


class NestCSweepTemplate(NestCTemplate):
    """NEST-C's profiling sweep as its authors ran it: ``n_vthread`` 1..8 × ``tile_h``,
    ``tile_w`` 1..56 on every layer (etri/nest-compiler ``utils/profiling_script/run.sh:3-12``).

    Compiled by the ``nestc`` compiler, which clips a tile larger than the output as NEST-C's
    library must (``plan.py``), so an entry is the program of its :meth:`program_key`. The
    space differs from ``nestc`` as a data set only: on a layer whose output is smaller than
    56 × 56 a clipped program is visited many times (C11, 7 × 7: ``(v, 7, 7)`` 2,500 of 3,136
    times per thread count), which weighs the random start, the share of valid entries and the
    top-1 % latency cut the way the authors' profiling tables weigh them.
    """

    name = "nestc_sweep"

    def knob_values(self, workload: Conv2D, target: Target) -> dict[str, list[Any]]:
        return {
            "n_vthread": list(range(1, self.max_vthread + 1)),
            "tile_h": list(range(1, self.max_tile + 1)),
            "tile_w": list(range(1, self.max_tile + 1)),
        }


class AutoTVMTemplate(Template):
    """TVM's VTA conv2d template (``vta/top/vta_conv2d.py``)."""

    name = "autotvm"

    def knob_values(self, workload: Conv2D, target: Target) -> dict[str, list[Any]]:
        return {
            "tile_b": factor_splits(workload.n // target.batch),
            "tile_h": factor_splits(workload.oh),
            "tile_w": factor_splits(workload.ow),
            "tile_ci": factor_splits(workload.ic // target.block),
            "tile_co": factor_splits(workload.oc // target.block),
            "oc_nthread": [1, 2],
            "h_nthread": [1, 2],
        }


TEMPLATES: dict[str, Template] = {
    t.name: t for t in (NestCTemplate(), NestCSweepTemplate(), AutoTVMTemplate())
}


def get_template(name: str) -> Template:
    try:
        return TEMPLATES[name]
    except KeyError:
        raise KnobError(f"unknown template {name!r}: allowed {', '.join(TEMPLATES)}") from None


def parse_knobs(text: str) -> Knobs:
    """Parse a knobs JSON object (AutoTVM entity form for ``autotvm``)."""
    try:
        knobs = json.loads(text)
    except json.JSONDecodeError as exc:
        raise KnobError(f"knobs are not valid JSON ({exc.msg}): {text!r}") from None
    if not isinstance(knobs, dict):
        raise KnobError(f"knobs must be a JSON object, got {type(knobs).__name__}")
    return knobs
