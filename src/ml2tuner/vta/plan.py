"""Schedule planning: from a template configuration to every decision the compiler makes.

Two compilers are modelled, one per template:

* ``autotvm`` — TVM's VTA conv2d schedule as TVM lowers it: tiles are the knobs' inner factors,
  virtual threads split the outer co / h tile loops (``cthread``), the GEMM uop scope is the
  loop nest ``(k_i, x_j, d_j, d_i, x_co, x_i)`` whose two outermost non-unit loops fold into
  ``iter_out``/``iter_in``, loads and the store are single 2-D DMAs (``inject_dma_intrin``).
* ``nestc`` — NEST-C's conv library as far as its public sources show it (``docs/nestc.md``):
  the user sets the output tile (clipped to the output) and the virtual thread count; the
  threads are ping-pong INP/WGT slots over the input-channel chunks of one accumulator tile
  (``docs/nestc.md`` §1, reading (b)); the compiler derives channel tiling to fill the buffers,
  keeps the weights resident when they fit, folds the two *largest* loops of the uop nest
  (fewest uops), emits one padded 2-D DMA per input plane, handles remainder tiles and adds the
  bias in the epilogue (§7).

A plan is pure arithmetic; :mod:`.compiler` turns it into instructions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache, lru_cache

from .target import Target
from .workload import Conv2D

__all__ = ["CompileError", "Epilogue", "Loop", "ConvPlan", "plan_conv2d", "fold_loops"]


class CompileError(Exception):
    """A check the compiler performs refused the configuration."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class Loop:
    """One loop of a uop nest: its extent and the index strides it adds per iteration."""

    name: str
    extent: int
    dst: int
    src: int
    wgt: int = 0


def fold_loops(loops: list[Loop], rule: str) -> tuple[list[Loop], list[Loop]]:
    """Split a nest into (folded ≤ 2 loops, outer first; unrolled loops in nest order).

    ``rule="outermost"`` folds the two outermost non-unit loops (TVM's FoldUopLoop);
    ``rule="largest"`` folds the two largest (fewest uops; ties to the outer loop).
    """
    live = [loop for loop in loops if loop.extent > 1]
    if rule == "outermost":
        folded = live[:2]
    elif rule == "largest":
        ranked = sorted(range(len(live)), key=lambda i: (-live[i].extent, i))[:2]
        folded = [live[i] for i in sorted(ranked)]
    else:
        raise ValueError(f"unknown fold rule {rule!r}")
    return folded, [loop for loop in live if loop not in folded]


@dataclass(frozen=True)
class Epilogue:
    """What the compiler appends to the reduction, in ALU passes over the accumulator tile.

    ``bias``: a per-output-channel int32 bias is loaded into the accumulator SRAM (one row per
    output-channel block) and added by an ALU ``ADD``; ``shift_first``: the ``SHR`` comes
    before that ``ADD`` (else after it); ``clip_lo``: the immediate of the final ``MAX`` (0
    folds a ReLU into the clip, -128 is a plain int8 clip), after ``MIN 127``.
    """

    bias: bool
    shift_first: bool
    clip_lo: int


# TVM's ResNet-18 conv2d tuning task (apache/tvm v0.18.0 vta/scripts/tune_conv2d.py:76-104):
# right_shift, add bias, clip to [0, 127] as two stages, cast (docs/vta-model.md "Epilogue").
TVM_EPILOGUE = Epilogue(bias=True, shift_first=True, clip_lo=0)
# NEST-C's profiled convs: bias on, ReLU off (the bundles' argument row doRelu=0, doBias=1),
# Glow's VTA interpreter adds the bias before the shift and clips to [-128, 127]
# (docs/nestc.md §7).
NESTC_EPILOGUE = Epilogue(bias=True, shift_first=False, clip_lo=-128)


@dataclass(frozen=True)
class ConvPlan:
    """Every schedule decision for one conv2d configuration."""

    template: str
    workload: Conv2D
    target: Target
    tb: int  # batch blocks per tile
    th: int  # output rows per tile
    tw: int  # output columns per tile
    tci: int  # input-channel blocks per reduction chunk
    tco: int  # output-channel blocks per tile
    threads_h: int  # virtual threads over h tiles
    threads_co: int  # virtual threads over co tiles
    weight_resident: bool
    fold_rule: str  # "outermost" (TVM) or "largest" (NEST-C)
    gemm_order: tuple[str, ...]  # uop nest order of the GEMM, outer to inner
    tvm_dma: bool  # loads/stores must be single 2-D DMAs (TVM) or one per plane (NEST-C)
    verify_dep: bool  # the runtime checks uop kernels (TVM) or not (NEST-C)
    checks_uop_depth: bool  # the compiler refuses a kernel larger than the uop buffer (NEST-C)
    # A lockstep step with fewer tiles than threads still runs every thread's token handshakes
    # (TVM: the split's guard skips the data, CoProcSync keeps the tokens) or only the active
    # threads' (False; the nestc model has one thread, whose slots never idle).
    syncs_idle_threads: bool
    # INP (and non-resident WGT) slots per thread that successive input-channel chunks of one
    # accumulator tile alternate over: 1 in TVM (one buffer region per virtual thread), the
    # ping-pong depth in the nestc model, whose virtual threads are these slots.
    slots: int
    epilogue: Epilogue

    @property
    def threads(self) -> int:
        return self.threads_h * self.threads_co

    @property
    def n_b(self) -> int:
        return self.workload.n // self.target.batch // self.tb

    @property
    def n_h(self) -> int:
        return math.ceil(self.workload.oh / self.th)

    @property
    def n_w(self) -> int:
        return math.ceil(self.workload.ow / self.tw)

    @property
    def n_co(self) -> int:
        return self.workload.oc // self.target.block // self.tco

    @property
    def n_ci(self) -> int:
        return self.workload.ic // self.target.block // self.tci

    def in_extent(self, out_extent: int) -> int:
        return (out_extent - 1) * self.workload.stride + self.workload.kernel

    @property
    def inp_tile(self) -> int:
        return self.tci * self.in_extent(self.th) * self.in_extent(self.tw)

    @property
    def acc_tile(self) -> int:
        return self.tb * self.tco * self.th * self.tw

    @property
    def wgt_tile(self) -> int:
        k = self.workload.kernel
        if self.weight_resident:
            return (
                (self.workload.oc // self.target.block)
                * (self.workload.ic // self.target.block)
                * k
                * k
            )
        return self.tco * self.tci * k * k

    @property
    def bias_rows(self) -> int:
        """ACC rows a thread's bias tile takes: one per output-channel block of the tile (the
        bias is the same for every batch row; TVM's test scripts give it a batch axis, which
        only matters for batch tiles > 1)."""
        return self.tco if self.epilogue.bias else 0

    def buffer_use(self) -> dict[str, int]:
        """Elements each SRAM holds at once (per-slot tiles times slots times threads)."""
        slots = self.threads * self.slots
        return {
            "inp": self.inp_tile * slots,
            "acc": (self.acc_tile + self.bias_rows) * self.threads,
            "wgt": self.wgt_tile * (1 if self.weight_resident else slots),
        }


def _divisors_desc(n: int) -> list[int]:
    return [d for d in range(n, 0, -1) if n % d == 0]


def _check_capacity(plan: ConvPlan) -> None:
    if not _fits(plan):
        t = plan.target
        depth = {"inp": t.inp_depth, "acc": t.acc_depth, "wgt": t.wgt_depth}
        name, used = next((n, u) for n, u in plan.buffer_use().items() if u > depth[n])
        raise CompileError(
            "buffer_capacity",
            f"{name} buffer: {used} elements needed with {plan.threads} "
            f"thread(s) x {plan.slots} slot(s), {depth[name]} available",
        )


def _fits(plan: ConvPlan) -> bool:
    """Whether every SRAM holds what ``plan`` keeps in it (the planners' search asks this of
    several candidates per configuration: no exception, no message)."""
    use, t = plan.buffer_use(), plan.target
    return use["inp"] <= t.inp_depth and use["acc"] <= t.acc_depth and use["wgt"] <= t.wgt_depth


def _plan_nestc(wl: Conv2D, target: Target, knobs: dict) -> ConvPlan:
    # A tile larger than the output is clipped to it: NEST-C's sweep runs tiles up to 56 on
    # every layer and ships a 7x7 tile for a 6x6 output (docs/nestc.md §3).
    th, tw = min(knobs["tile_h"], wl.oh), min(knobs["tile_w"], wl.ow)
    # More threads than input-channel blocks would idle whatever the chunk (see the slots
    # below): such thread counts plan alike, and share the cached plan.
    return _plan_nestc_tile(wl, target, th, tw, min(knobs["n_vthread"], wl.ic // target.block))


@lru_cache(maxsize=1 << 12)
def _plan_nestc_tile(wl: Conv2D, target: Target, th: int, tw: int, n_vthread: int) -> ConvPlan:
    """:func:`_plan_nestc` of a clipped tile (plans are immutable: a cached one is shared)."""
    ic_b, oc_b, k = wl.ic // target.block, wl.oc // target.block, wl.kernel
    resident = oc_b * ic_b * k * k <= target.wgt_depth

    def candidate(tco: int, tci: int) -> ConvPlan:
        # The virtual threads are ping-pong slots of the reduction chunks; more slots than
        # chunks would idle, so the compiler uses at most one per chunk.
        return ConvPlan(
            "nestc",
            wl,
            target,
            1,
            th,
            tw,
            tci,
            tco,
            1,
            1,
            resident,
            "largest",
            ("ci", "kh", "kw", "co", "h", "w"),
            False,
            False,
            True,
            False,
            min(n_vthread, ic_b // tci),
            NESTC_EPILOGUE,
        )

    # The smallest tiling needs the least of every buffer (ACC grows with tco; INP with
    # tci x slots = min(tci x n_vthread, ic_b); WGT with both), so when it does not fit,
    # nothing does: refuse with its numbers.
    _check_capacity(candidate(1, 1))
    # Largest output-channel tile that fits the accumulator, then the largest input-channel
    # chunk whose slots fit the input (and weight) buffers: fewer reloads of inputs and partial
    # sums. NEST-C's library derives these inside (not public; docs/nestc.md §4).
    for tco in _divisors_desc(oc_b):
        for tci in _divisors_desc(ic_b):
            plan = candidate(tco, tci)
            if _fits(plan):
                return plan
            if plan.buffer_use()["acc"] > target.acc_depth:
                break  # the accumulator tile does not shrink with the chunk: a smaller tco
    raise AssertionError("unreachable: the smallest tiling fits")


def _plan_autotvm(wl: Conv2D, target: Target, knobs: dict) -> ConvPlan:
    tb, th, tw = knobs["tile_b"][1], knobs["tile_h"][1], knobs["tile_w"][1]
    tci, tco = knobs["tile_ci"][1], knobs["tile_co"][1]
    oc_threads, h_threads = knobs["oc_nthread"], knobs["h_nthread"]
    plan = ConvPlan(
        "autotvm",
        wl,
        target,
        tb,
        th,
        tw,
        tci,
        tco,
        h_threads,
        oc_threads,
        False,
        "outermost",
        ("ci", "w", "kw", "kh", "co", "h"),
        True,
        True,
        False,
        True,
        1,
        TVM_EPILOGUE,
    )
    # split(x_co0, factor=nthread) on an extent it does not divide leaves a guard (a `likely`
    # condition, MakeBoundCheck in apache/tvm src/te/schedule/message_passing.cc): in the last
    # round the missing threads' data statements are skipped. CoProcSync
    # (src/tir/transforms/coproc_sync.cc, lowering phase 1, before InjectVirtualThread)
    # synchronises a guarded statement as a whole: the pushes and pops it places between the
    # `if` and its neighbours are outside the guard, and the body is made self-balanced
    # (MatchFixEnterPop/MatchFixExitPush). So an idle thread still hands its tokens on, with
    # nothing in between (syncs_idle_threads; docs/vta-model.md).
    _check_capacity(plan)
    return plan


# template -> its compiler; NEST-C's profiling sweep is compiled by NEST-C's compiler, which
# clips its larger tiles (space/templates.py, NestCSweepTemplate)
_PLANNERS = {"nestc": _plan_nestc, "nestc_sweep": _plan_nestc, "autotvm": _plan_autotvm}


def plan_conv2d(workload: Conv2D, target: Target, template: str, knobs: dict) -> ConvPlan:
    """Derive the schedule (raises :class:`CompileError` if the compiler refuses it)."""
    _check_target(workload, target)
    return _PLANNERS[template](workload, target, knobs)


@cache
def _check_target(workload: Conv2D, target: Target) -> None:
    """``workload.check_target(target)``, once per pair (a refusal raises, so is not cached)."""
    workload.check_target(target)
