"""Lower a conv2d configuration to a VTA program and report the compiler's hidden features.

The emitted program follows TVM's VTA pipeline: per output tile, a reset GEMM zeroes the
accumulator tile, each input-channel chunk is loaded (load stage) and multiplied (compute
stage), the epilogue runs as ALU passes (the plan's :class:`~.plan.Epilogue`: an optional bias
loaded into ACC and added, then shift right, min 127, max) and the tile is stored (store stage).
Dependency tokens are placed as TVM's ``coproc_sync`` places them (RAW load→compute and
compute→store, WAR compute→load and store→compute, one credit per buffer region before the
loops, drained after them) and attached by the runtime builder. Virtual threads own separate
buffer regions and are interleaved chunk by chunk, so the loads of one thread overlap the GEMMs
of another; within a thread, successive chunks alternate over the plan's INP/WGT slots, and
since the load module holds one WAR credit per slot and the credits return in chunk order, the
load of chunk ``c`` waits exactly for the GEMM of chunk ``c - slots``, the last reader of its
slot.

Two emitters produce the same stream: :class:`_Emitter`, plain Python over
:class:`~.runtime.StreamBuilder` (the reference, readable call by call), and the numba kernel
of :mod:`._emit_numba`, which writes the instruction fields and uops straight into arrays (20 to
40 times faster; ``tests/vta/test_emit.py`` holds the two equal).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache, partial

import numpy as np
from numba import njit

from . import _emit_numba, isa
from .isa import Program
from .plan import CompileError, ConvPlan, Loop, fold_loops, plan_conv2d
from .runtime import COMPUTE_STAGE, LOAD_STAGE, STORE_STAGE, RuntimeCheckError, StreamBuilder
from .target import Target
from .workload import Conv2D

__all__ = [
    "CompiledConv",
    "EmitWorkspace",
    "compile_conv2d",
    "compile_plan",
    "CompileError",
    "RuntimeCheckError",
    "HIDDEN_FEATURES",
]


@dataclass
class CompiledConv:
    """Outcome of compiling one configuration.

    ``program`` is None when the compiler (``compile_error``) or the runtime's pre-run checks
    (``runtime_error``) refused it; ``hidden`` holds every decision made up to that point.
    """

    plan: ConvPlan | None
    program: Program | None
    hidden: dict[str, float | str]
    error_kind: str | None = None
    error_stage: str | None = None  # "compile" or "runtime"
    error_message: str | None = None
    sram_layout: dict[str, int] = field(default_factory=dict)


class EmitWorkspace:
    """Arrays the numba emitter writes streams into, reused from one compile to the next.

    Fresh arrays cost more than the emission itself on long streams: each multi-megabyte
    array is mapped anew by the allocator and every page written faults in (on C2 autotvm
    pynq, about three quarters of the process's page faults). Arrays kept here stay mapped.
    A program compiled with a workspace views its arrays, so it is valid only until the
    next compile with the same workspace: use one per loop that compiles and runs one
    configuration at a time.

    The instruction rows are ``dtype`` (``int32``: 116 bytes a row, half of ``int64``'s, for
    the emitter to write and the loss check and the simulator to stream); a stream with a
    value that ``dtype`` cannot hold is emitted again into ``int64`` rows.
    """

    def __init__(self, dtype: type[np.integer] = np.int32) -> None:
        self.dtype = np.dtype(dtype)
        self.fields = {}  # dtype -> rows
        self.uops = np.empty((0, 3), np.int64)

    def reserve(self, rows: int, uops: int, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
        """Arrays of at least ``rows`` instruction rows of ``dtype`` and ``uops`` uop rows
        (grown if need be; a larger array only changes when the emitter would run out of
        room)."""
        fields = self.fields.get(dtype)
        if fields is None or len(fields) < rows:
            fields = self.fields[dtype] = np.empty((rows, isa.NUM_FIELDS), dtype)
        if len(self.uops) < uops:
            self.uops = np.empty((uops, 3), np.int64)
        return fields, self.uops


# Hidden-feature names, in a stable order (documented in docs/vta-model.md).
HIDDEN_FEATURES: tuple[str, ...] = (
    "tile_b",
    "tile_h",
    "tile_w",
    "tile_ci",
    "tile_co",
    "threads",
    "threads_h",
    "threads_co",
    "weight_resident",
    "fold_rule",
    "gemm_fold_outer",
    "gemm_fold_inner",
    "gemm_iter_out",
    "gemm_iter_in",
    "gemm_uops",
    "reset_uops",
    "alu_uops",
    "n_tiles_h",
    "n_tiles_w",
    "n_tiles_co",
    "n_chunks_ci",
    "n_steps",
    "inp_util",
    "wgt_util",
    "acc_util",
    "uop_kernels",
    "uop_dram_uops",
    "uop_cache_resets",
    "uop_util",
    "n_insn",
    "n_load_inp",
    "n_load_wgt",
    "n_load_uop",
    "n_gemm",
    "n_alu",
    "n_store",
    "n_noop",
    "dram_inp_bytes",
    "dram_wgt_bytes",
    "dram_uop_bytes",
    "dram_out_bytes",
    "dram_insn_bytes",
    "inp_reload_factor",
    "wgt_reload_factor",
    "slots",
)
STRING_FEATURES = frozenset({"fold_rule", "gemm_fold_outer", "gemm_fold_inner"})


_UNKNOWN_HIDDEN = {
    name: ("" if name in STRING_FEATURES else float("nan")) for name in HIDDEN_FEATURES
}


def _empty_hidden() -> dict[str, float | str]:
    """Every hidden feature unknown (a fresh dict: the compiler fills it in)."""
    return dict(_UNKNOWN_HIDDEN)


def _kernel(loops: list[Loop], base: tuple[int, int, int]) -> np.ndarray:
    """Unroll ``loops`` (outer first) into a ``(k, 3)`` uop array of (dst, src, wgt)."""
    uops = np.array([base], dtype=np.int64)
    for loop in loops:
        step = np.arange(loop.extent, dtype=np.int64)[:, None] * np.array(
            [loop.dst, loop.src, loop.wgt], dtype=np.int64
        )
        uops = (uops[:, None, :] + step[None, :, :]).reshape(-1, 3)
    return uops


def _iters(folded: list[Loop]) -> tuple[tuple[int, int], tuple[int, ...]]:
    """``(iter_out, iter_in)`` and the six factors (dst/src/wgt × out/in) of folded loops."""
    outer, inner = (folded + [Loop("none", 1, 0, 0, 0)] * 2)[:2]
    return (
        (outer.extent, inner.extent),
        (outer.dst, inner.dst, outer.src, inner.src, outer.wgt, inner.wgt),
    )


class _Emitter:
    """Walks the tile loops of a plan and drives the runtime builder."""

    def __init__(self, plan: ConvPlan) -> None:
        self.plan = plan
        self.wl = plan.workload
        self.target = plan.target
        self.rt = StreamBuilder(plan.target, verify_dep=plan.verify_dep)
        self.ic_b = self.wl.ic // self.target.block
        self.oc_b = self.wl.oc // self.target.block
        self.reset_uops = self.alu_uops = 0
        self._gemm_memo: dict = {}
        self._acc_memo: dict = {}
        self.chunk = 0  # chunks each thread has loaded so far: chunk % slots is the next slot

    # ---- SRAM bases per thread ---------------------------------------------------------
    def inp_base(self, t: int, slot: int = 0) -> int:
        return (t * self.plan.slots + slot) * self.plan.inp_tile

    def acc_base(self, t: int) -> int:
        return t * self.plan.acc_tile

    def bias_base(self, t: int) -> int:
        """ACC rows of thread ``t``'s bias tile, after every thread's accumulator tile."""
        return self.plan.threads * self.plan.acc_tile + t * self.plan.bias_rows

    def wgt_base(self, t: int, slot: int = 0) -> int:
        if self.plan.weight_resident:
            return 0
        return (t * self.plan.slots + slot) * self.plan.wgt_tile

    # ---- DMA ---------------------------------------------------------------------------
    def _dma(
        self,
        opcode: int,
        mem: int,
        dims: list[tuple[int, int, int]],
        sram: int,
        dram: int,
        what: str,
    ) -> None:
        """Emit a region as 2-D DMAs. ``dims``: (extent, dram stride, sram stride), outer first.

        Unit dimensions are dropped and contiguous neighbours folded (as TVM's
        ``_get_2d_pattern`` does). What is left must be ``y`` rows of ``x`` contiguous elements,
        dense in SRAM: TVM then emits one DMA or refuses, NEST-C loops over the extra dimensions.
        """
        folded: list[tuple[int, int, int]] = []
        for dim in (d for d in dims if d[0] > 1):
            if folded and folded[-1][1] == dim[0] * dim[1] and folded[-1][2] == dim[0] * dim[2]:
                folded[-1] = (folded[-1][0] * dim[0], dim[1], dim[2])
            else:
                folded.append(dim)
        if not folded or folded[-1][1:] != (1, 1):
            folded.append((1, 1, 1))  # rows of one element
        x = folded.pop()
        y = folded.pop() if folded and folded[-1][2] == x[0] else (1, x[0], x[0])
        if folded and self.plan.tvm_dma:
            raise _dma_dims_error(what, len(folded) + 2)
        for index in np.ndindex(*[d[0] for d in folded]):
            d_off = sum(i * d[1] for i, d in zip(index, folded, strict=True))
            s_off = sum(i * d[2] for i, d in zip(index, folded, strict=True))
            self.rt.mem(
                opcode,
                mem,
                sram_base=sram + s_off,
                dram_base=dram + d_off,
                y_size=y[0],
                x_size=x[0],
                x_stride=y[1],
            )

    def load_input(
        self, t: int, slot: int, b: int, ci0: int, nci: int, h0: int, nh: int, w0: int, nw: int
    ) -> None:
        wl = self.wl
        rows = self._window(h0, nh, wl.h)
        cols = self._window(w0, nw, wl.w)
        (r0, nr, ypad0, ypad1), (c0, nc, xpad0, xpad1) = rows, cols
        h_in, w_in = ypad0 + nr + ypad1, xpad0 + nc + xpad1
        plane = wl.h * wl.w
        dram = ((b * self.ic_b + ci0) * wl.h + r0) * wl.w + c0
        sram = self.inp_base(t, slot)
        if wl.pad == 0:
            self._dma(
                isa.OP_LOAD,
                isa.MEM_INP,
                [(nci, plane, h_in * w_in), (nr, wl.w, w_in), (nc, 1, 1)],
                sram,
                dram,
                "input",
            )
            return
        if self.plan.tvm_dma and nci > 1:
            raise _padded_channels_error()
        for ci in range(nci):
            self.rt.mem(
                isa.OP_LOAD,
                isa.MEM_INP,
                sram_base=sram + ci * h_in * w_in,
                dram_base=dram + ci * plane,
                y_size=nr,
                x_size=nc,
                x_stride=wl.w,
                pads=(ypad0, ypad1, xpad0, xpad1),
            )

    def _window(self, o0: int, n: int, size: int) -> tuple[int, int, int, int]:
        """Input rows (or columns) read by outputs [o0, o0+n): (start, count, pad lo, pad hi)."""
        lo = o0 * self.wl.stride - self.wl.pad
        hi = (o0 + n - 1) * self.wl.stride - self.wl.pad + self.wl.kernel
        start, stop = max(lo, 0), min(hi, size)
        return start, stop - start, start - lo, hi - stop

    def load_weights(self, t: int, slot: int, co0: int, nco: int, ci0: int, nci: int) -> None:
        kk = self.wl.kernel**2
        dram = (co0 * self.ic_b + ci0) * kk
        self._dma(
            isa.OP_LOAD,
            isa.MEM_WGT,
            [(nco, self.ic_b * kk, nci * kk), (nci * kk, 1, 1)],
            self.wgt_base(t, slot),
            dram,
            "weight",
        )

    def load_bias(self, t: int, co0: int, nco: int) -> None:
        """The bias of output-channel blocks [co0, co0+nco) into the thread's ACC bias rows
        (a LOAD of memory type ACC, which VTA's compute module executes)."""
        self.rt.mem(
            isa.OP_LOAD,
            isa.MEM_ACC,
            sram_base=self.bias_base(t),
            dram_base=co0,
            y_size=1,
            x_size=nco,
            x_stride=nco,
        )

    def store(
        self, t: int, b: int, co0: int, nb: int, nco: int, h0: int, nh: int, w0: int, nw: int
    ) -> None:
        wl = self.wl
        plane = wl.oh * wl.ow
        dram = ((b * self.oc_b + co0) * wl.oh + h0) * wl.ow + w0
        self._dma(
            isa.OP_STORE,
            isa.MEM_OUT,
            [
                (nb, self.oc_b * plane, nco * nh * nw),
                (nco, plane, nh * nw),
                (nh, wl.ow, nw),
                (nw, 1, 1),
            ],
            self.acc_base(t),
            dram,
            "output",
        )

    # ---- compute -----------------------------------------------------------------------
    def gemm(
        self,
        t: int,
        slot: int,
        bi: int,
        nco: int,
        nh: int,
        nw: int,
        nci: int,
        co0: int,
        ci0: int,
    ) -> None:
        # The nest depends on the tile shape only; with resident weights the kernel's weight
        # base moves with the channel offsets, which makes it a different kernel.
        shape = (t, slot, bi, nco, nh, nw, nci)
        entry = self._gemm_memo.get(shape)
        if entry is None:
            loops = _gemm_nest(self.plan, nco, nh, nw, nci)
            base = (
                self.acc_base(t) + bi * nco * nh * nw,
                self.inp_base(t, slot),
                self.wgt_base(t, slot),
            )
            folded, unrolled = fold_loops(loops, self.plan.fold_rule)
            entry = (len(self._gemm_memo), _kernel(unrolled, (0, 0, 0)), base, *_iters(folded))
            self._gemm_memo[shape] = entry
        shape_id, offsets, base, iters, factors = entry
        if self.plan.weight_resident:
            base = (base[0], base[1], base[2] + (co0 * self.ic_b + ci0) * self.wl.kernel**2)
        self.rt.gemm(("gemm", shape_id, base), partial(np.add, offsets, base), iters, factors)

    def _acc_kernel(self, kind: str, t: int, nb: int, nco: int, nh: int, nw: int):
        """Uop kernel over the accumulator tile: the reset GEMM (``"reset"``), an ALU pass with
        an immediate (``"alu"``) or the bias ``ADD`` (``"bias"``)."""
        memo = (kind, t, nb, nco, nh, nw)
        entry = self._acc_memo.get(memo)
        if entry is None:
            # The bias ADD reads bias row co for every pixel of output-channel block co.
            bias = kind == "bias"
            loops = [
                Loop("b", nb, nco * nh * nw, 0 if bias else nco * nh * nw),
                Loop("co", nco, nh * nw, 1 if bias else nh * nw),
                Loop("h", nh, nw, 0 if bias else nw),
                Loop("w", nw, 1, 0 if bias else 1),
            ]
            folded, unrolled = fold_loops(loops, self.plan.fold_rule)
            # ALU uops read src = dst (the bias ADD: the bias rows); a reset GEMM's uops read
            # INP[0] and WGT[0].
            src = {"alu": self.acc_base(t), "bias": self.bias_base(t), "reset": 0}[kind]
            base = (self.acc_base(t), src, 0)
            iters, factors = _iters(folded)
            if kind == "reset":
                factors = (factors[0], factors[1], 0, 0, 0, 0)
                unrolled = [Loop(lp.name, lp.extent, lp.dst, 0, 0) for lp in unrolled]
            size = 1
            for loop in unrolled:
                size *= loop.extent
            entry = (
                (kind, len(self._acc_memo)),
                partial(_kernel, unrolled, base),
                iters,
                factors,
                size,
            )
            self._acc_memo[memo] = entry
        return entry

    def reset(self, t: int, nb: int, nco: int, nh: int, nw: int) -> None:
        key, make, iters, factors, size = self._acc_kernel("reset", t, nb, nco, nh, nw)
        self.reset_uops = max(self.reset_uops, size)
        self.rt.gemm(key, make, iters, factors, reset=True)

    def epilogue(self, t: int, nb: int, nco: int, nh: int, nw: int) -> None:
        epilogue = self.plan.epilogue
        key, make, iters, factors, size = self._acc_kernel("alu", t, nb, nco, nh, nw)
        self.alu_uops = max(self.alu_uops, size)
        shift = self.wl.epilogue_shift
        if epilogue.shift_first:
            self.rt.alu(key, make, iters, factors[:4], isa.ALU_SHR, shift)
        if epilogue.bias:
            bias = self._acc_kernel("bias", t, nb, nco, nh, nw)
            self.alu_uops = max(self.alu_uops, bias[4])
            self.rt.alu(bias[0], bias[1], bias[2], bias[3][:4], isa.ALU_ADD, None)
        if not epilogue.shift_first:
            self.rt.alu(key, make, iters, factors[:4], isa.ALU_SHR, shift)
        for alu_op, imm in ((isa.ALU_MIN, 127), (isa.ALU_MAX, epilogue.clip_lo)):
            self.rt.alu(key, make, iters, factors[:4], alu_op, imm)

    # ---- the tile loops ----------------------------------------------------------------
    def steps(self):
        """Yield lists of (thread, b, co_tile, h_tile, w_tile) executed in lockstep; a thread
        without a tile in the step (``co_tile`` None) is listed when the plan keeps idle
        threads' token handshakes."""
        p = self.plan
        for b in range(p.n_b):
            for hs in range(-(-p.n_h // p.threads_h)):
                for cs in range(-(-p.n_co // p.threads_co)):
                    for wt in range(p.n_w):
                        group = []
                        for tc in range(p.threads_co):
                            for th_ in range(p.threads_h):
                                ht, ct = hs * p.threads_h + th_, cs * p.threads_co + tc
                                t = tc * p.threads_h + th_
                                if ht < p.n_h and ct < p.n_co:
                                    group.append((t, b, ct, ht, wt))
                                elif p.syncs_idle_threads:
                                    group.append((t, b, None, None, wt))
                        yield group

    def _emit_step(self, tiles: list[tuple[int, ...]]) -> None:
        """One lockstep group of tiles: reset, chunks of load + GEMM, epilogue, store.

        An idle thread's entry (``nh == 0``) makes the token calls and nothing else.
        """
        p, rt = self.plan, self.rt
        for t, _b, co0, _h0, _w0, nh, nw in tiles:
            rt.dep_pop(STORE_STAGE, COMPUTE_STAGE)
            if nh:
                self.reset(t, p.tb, p.tco, nh, nw)
            if nh and p.epilogue.bias:
                self.load_bias(t, co0, p.tco)
        for bi in range(p.tb):
            for chunk in range(p.n_ci):
                ci0, slot = chunk * p.tci, self.chunk % p.slots
                self.chunk += 1
                for t, b, co0, h0, w0, nh, nw in tiles:
                    rt.dep_pop(COMPUTE_STAGE, LOAD_STAGE)
                    if nh:
                        self.load_input(t, slot, b + bi, ci0, p.tci, h0, nh, w0, nw)
                    if nh and not p.weight_resident:
                        self.load_weights(t, slot, co0, p.tco, ci0, p.tci)
                    rt.dep_push(LOAD_STAGE, COMPUTE_STAGE)
                for t, _b, co0, _h0, _w0, nh, nw in tiles:
                    rt.dep_pop(LOAD_STAGE, COMPUTE_STAGE)
                    if nh:
                        self.gemm(t, slot, bi, p.tco, nh, nw, p.tci, co0, ci0)
                    rt.dep_push(COMPUTE_STAGE, LOAD_STAGE)
        for t, _b, _co0, _h0, _w0, nh, nw in tiles:
            if nh:
                self.epilogue(t, p.tb, p.tco, nh, nw)
            rt.dep_push(COMPUTE_STAGE, STORE_STAGE)
        for t, b, co0, h0, w0, nh, nw in tiles:
            rt.dep_pop(COMPUTE_STAGE, STORE_STAGE)
            if nh:
                self.store(t, b, co0, p.tb, p.tco, h0, nh, w0, nw)
            rt.dep_push(STORE_STAGE, COMPUTE_STAGE)

    def run(self) -> tuple[np.ndarray, np.ndarray, int]:
        p, rt, wl = self.plan, self.rt, self.wl
        for _ in range(p.threads * p.slots):
            rt.dep_push(COMPUTE_STAGE, LOAD_STAGE)  # WAR credit: buffers start free
        for _ in range(p.threads):
            rt.dep_push(STORE_STAGE, COMPUTE_STAGE)
        if p.weight_resident:
            self.load_weights(0, 0, 0, self.oc_b, 0, self.ic_b)
        n_steps = 0
        for group in self.steps():
            n_steps += 1
            tiles = []
            for t, b, ct, ht, wt in group:
                if ct is None:  # an idle thread: tokens only
                    tiles.append((t, b * p.tb, 0, 0, 0, 0, 0))
                    continue
                h0, w0, co0 = ht * p.th, wt * p.tw, ct * p.tco
                tiles.append(
                    (t, b * p.tb, co0, h0, w0, min(p.th, wl.oh - h0), min(p.tw, wl.ow - w0))
                )
            self._emit_step(tiles)
        for _ in range(p.threads * p.slots):
            rt.dep_pop(COMPUTE_STAGE, LOAD_STAGE)  # drain the WAR credits
        rt.commit_pending_pop(LOAD_STAGE)
        for _ in range(p.threads):
            rt.dep_pop(STORE_STAGE, COMPUTE_STAGE)
        rt.commit_pending_pop(COMPUTE_STAGE)
        fields, uops = rt.finish()
        return fields, uops, n_steps


def _hidden_from_plan(plan: ConvPlan, hidden: dict) -> None:
    t = plan.target
    use = plan.buffer_use()
    hidden.update(
        tile_b=plan.tb,
        tile_h=plan.th,
        tile_w=plan.tw,
        tile_ci=plan.tci,
        tile_co=plan.tco,
        threads=plan.threads,
        threads_h=plan.threads_h,
        threads_co=plan.threads_co,
        slots=plan.slots,
        weight_resident=int(plan.weight_resident),
        fold_rule=plan.fold_rule,
        n_tiles_h=plan.n_h,
        n_tiles_w=plan.n_w,
        n_tiles_co=plan.n_co,
        n_chunks_ci=plan.n_ci,
        inp_util=use["inp"] / t.inp_depth,
        wgt_util=use["wgt"] / t.wgt_depth,
        acc_util=use["acc"] / t.acc_depth,
    )


@njit(cache=True)
def _tally(fields: np.ndarray) -> np.ndarray:
    """The :data:`~ml2tuner.vta._emit_numba.TALLIES` of a stream, counted from its fields (the
    numba emitter keeps them as it emits)."""
    out = np.zeros(len(_emit_numba.TALLIES), np.int64)
    for i in range(fields.shape[0]):
        moved = fields[i, isa.F_Y_SIZE] * fields[i, isa.F_X_SIZE]
        _emit_numba.tally_row(out, 0, fields[i, isa.F_OPCODE], fields[i, isa.F_MEM_TYPE], moved)
    return out


@dataclass(frozen=True)
class _Emitted:
    """What an emitter reports beside the stream, for the hidden features."""

    n_steps: int
    reset_uops: int
    alu_uops: int
    kernels: int
    uop_dram_uops: int
    uop_cache_resets: int
    tally: list[int]  # the stream's _emit_numba.TALLIES


def _hidden_from_program(plan: ConvPlan, program: Program, emitted: _Emitted, hidden: dict) -> None:
    t, wl = plan.target, plan.workload
    # The kernel of the first GEMM (thread 0's first tile, whole unless the output is smaller).
    folded, gemm_uops = _gemm_kernel(plan, min(plan.th, wl.oh), min(plan.tw, wl.ow))
    (iter_out, iter_in), _ = _iters(list(folded))
    tally = dict(zip(_emit_numba.TALLIES, emitted.tally, strict=True))
    inp_bytes = tally["inp_moved"] * t.inp_elem_bytes
    wgt_bytes = tally["wgt_moved"] * t.wgt_elem_bytes
    compulsory_inp = wl.n // t.batch * (wl.ic // t.block) * wl.h * wl.w * t.inp_elem_bytes
    compulsory_wgt = (wl.oc // t.block) * (wl.ic // t.block) * wl.kernel**2 * t.wgt_elem_bytes
    n_insn = len(program.fields)
    hidden.update(
        gemm_fold_outer=folded[0].name if folded else "none",
        gemm_fold_inner=folded[1].name if len(folded) > 1 else "none",
        gemm_iter_out=iter_out,
        gemm_iter_in=iter_in,
        gemm_uops=gemm_uops,
        reset_uops=emitted.reset_uops,
        alu_uops=emitted.alu_uops,
        n_steps=emitted.n_steps,
        uop_kernels=emitted.kernels,
        uop_dram_uops=emitted.uop_dram_uops,
        uop_cache_resets=emitted.uop_cache_resets,
        uop_util=min(emitted.uop_dram_uops, t.uop_depth) / t.uop_depth,
        n_insn=n_insn,
        n_load_inp=tally["n_load_inp"],
        n_load_wgt=tally["n_load_wgt"],
        n_load_uop=tally["n_load_uop"],
        n_gemm=tally["n_gemm"],
        n_alu=tally["n_alu"],
        n_store=tally["n_store"],
        n_noop=tally["n_noop"],
        dram_inp_bytes=inp_bytes,
        dram_wgt_bytes=wgt_bytes,
        dram_uop_bytes=tally["uop_moved"] * t.uop_elem_bytes,
        dram_out_bytes=tally["out_moved"] * t.out_elem_bytes,
        dram_insn_bytes=n_insn * isa.layout_for(t).insn_bits // 8,
        inp_reload_factor=inp_bytes / compulsory_inp,
        wgt_reload_factor=wgt_bytes / compulsory_wgt,
    )


def compile_conv2d(
    workload: Conv2D,
    target: Target,
    template: str,
    knobs: dict,
    *,
    reference: bool = False,
    workspace: EmitWorkspace | None = None,
) -> CompiledConv:
    """Compile one configuration; never raises for a configuration the space contains.

    Args:
        workload: the conv2d layer.
        target: the VTA hardware configuration.
        template: a name of ``ml2tuner.space.TEMPLATES``.
        knobs: the configuration (validated by the template beforehand).
        reference: emit with the plain Python emitter instead of the numba kernel (the same
            program, 20 to 40 times slower).
        workspace: arrays for the numba emitter to reuse (see :class:`EmitWorkspace`: the
            program is then valid until the next compile with it); None: fresh arrays.
    Returns:
        A :class:`CompiledConv` with the program, or the compile/runtime error and the hidden
        features known when it happened.
    """
    try:
        plan = plan_conv2d(workload, target, template, knobs)
    except CompileError as exc:
        return CompiledConv(None, None, _empty_hidden(), exc.kind, "compile", str(exc))
    return compile_plan(plan, reference=reference, workspace=workspace)


def compile_plan(
    plan: ConvPlan, *, reference: bool = False, workspace: EmitWorkspace | None = None
) -> CompiledConv:
    """Lower an already derived schedule (see :func:`compile_conv2d`)."""
    hidden = _empty_hidden()
    workload, target = plan.workload, plan.target
    _hidden_from_plan(plan, hidden)
    try:
        if plan.checks_uop_depth:
            _check_uop_depth(plan)
        if reference:
            fields, uops, emitted = _emit_reference(plan)
        else:
            fields, uops, emitted = _emit_fast(plan, workspace or EmitWorkspace())
    except CompileError as exc:
        return CompiledConv(plan, None, hidden, exc.kind, "compile", str(exc))
    except RuntimeCheckError as exc:
        return CompiledConv(plan, None, hidden, exc.kind, "runtime", str(exc))
    wl = workload
    dram = {
        isa.MEM_INP: wl.n // target.batch * (wl.ic // target.block) * wl.h * wl.w,
        isa.MEM_WGT: (wl.oc // target.block) * (wl.ic // target.block) * wl.kernel**2,
        isa.MEM_OUT: wl.n // target.batch * (wl.oc // target.block) * wl.oh * wl.ow,
        isa.MEM_UOP: len(uops),
        isa.MEM_ACC: wl.oc // target.block if plan.epilogue.bias else 0,
    }
    program = Program(target, fields, uops, dram)
    _hidden_from_program(plan, program, emitted, hidden)
    return CompiledConv(plan, program, hidden)


def _emit_reference(plan: ConvPlan) -> tuple[np.ndarray, np.ndarray, _Emitted]:
    """The program from the plain emitter."""
    emitter = _Emitter(plan)
    fields, uops, n_steps = emitter.run()
    rt = emitter.rt
    emitted = _Emitted(
        n_steps,
        emitter.reset_uops,
        emitter.alu_uops,
        rt.kernel_count,
        rt.uop_dram_size,
        rt.uop_cache_resets,
        _tally(fields).tolist(),
    )
    return fields, uops, emitted


def _emit_params(plan: ConvPlan) -> np.ndarray:
    """The numba emitter's parameter vector (``_emit_numba.P_*``) of ``plan``."""
    k, wl, t = _emit_numba, plan.workload, plan.target
    params = np.zeros(k.NUM_PARAMS, dtype=np.int64)
    params[: k.P_GEMM_ORDER] = (
        wl.h,
        wl.w,
        wl.oh,
        wl.ow,
        wl.ic // t.block,
        wl.oc // t.block,
        wl.kernel,
        wl.stride,
        wl.pad,
        wl.epilogue_shift,
        plan.tb,
        plan.th,
        plan.tw,
        plan.tci,
        plan.tco,
        plan.threads_h,
        plan.threads_co,
        plan.weight_resident,
        plan.slots,
        plan.n_b,
        plan.n_h,
        plan.n_w,
        plan.n_co,
        plan.n_ci,
        plan.syncs_idle_threads,
        plan.tvm_dma,
        plan.verify_dep,
        plan.inp_tile,
        plan.acc_tile,
        plan.wgt_tile,
        plan.bias_rows,
        plan.epilogue.bias,
        plan.epilogue.shift_first,
        plan.epilogue.clip_lo,
        {"outermost": 0, "largest": 1}[plan.fold_rule],
        t.uop_depth,
        t.rmw_distance,
    )
    params[k.P_GEMM_ORDER :] = [k.GEMM_LOOPS.index(name) for name in plan.gemm_order]
    return params


def _emit_fast(plan: ConvPlan, workspace: EmitWorkspace) -> tuple[np.ndarray, np.ndarray, _Emitted]:
    """The program from the numba emitter, written into ``workspace``; raises the plain
    emitter's refusals."""
    k = _emit_numba
    params = _emit_params(plan)
    # Room for more rows than a tile's loads, GEMMs, epilogue and store take (only the pages
    # written are ever touched); grown when a stream needs more.
    tiles = plan.n_b * plan.n_h * plan.n_w * plan.n_co
    rows = tiles * (32 + 8 * plan.tb * plan.n_ci * plan.tci) + 1024
    uops, kernels, dtype = 1 << 16, 256, workspace.dtype
    while True:
        fields, uop_image, st = k.emit(params, *workspace.reserve(rows, uops, dtype), kernels)
        if st[k.S_ERR] == k.E_CAPACITY:
            rows, uops, kernels = 4 * rows, 4 * uops, 4 * kernels
        elif st[k.S_TRUNCATED] and dtype != np.int64:
            dtype = np.dtype(np.int64)
        else:
            break
    error, detail = int(st[k.S_ERR]), int(st[k.S_ERR_DETAIL])
    if error == k.E_DMA_DIMS:
        raise _dma_dims_error(k.DMA_WHAT[detail // 16], detail % 16)
    if error == k.E_PADDED_CHANNELS:
        raise _padded_channels_error()
    if error == k.E_KERNEL:  # the runtime's own check words the refusal of the kernel
        StreamBuilder(plan.target, verify_dep=plan.verify_dep)._check_kernel(uop_image[detail:])
        raise AssertionError("the emitter rejected a uop kernel the runtime accepts")
    emitted = _Emitted(
        int(st[k.S_STEPS]),
        int(st[k.S_RESET_UOPS]),
        int(st[k.S_ALU_UOPS]),
        int(st[k.S_KERNELS]),
        len(uop_image),
        int(st[k.S_RESETS]),
        st[k.S_TALLY : k.S_TALLY + len(k.TALLIES)].tolist(),
    )
    return fields, uop_image, emitted


def _dma_dims_error(what: str, dims: int) -> CompileError:
    return CompileError(
        "dma_pattern",
        f"{what} region needs {dims} DMA dimensions; inject_dma_intrin supports 2",
    )


def _padded_channels_error() -> CompileError:
    return CompileError(
        "dma_pattern",
        "padded input load over several channel blocks; padding is only supported in (h, w) layout",
    )


def _gemm_nest(plan: ConvPlan, nco: int, nh: int, nw: int, nci: int) -> list[Loop]:
    """The GEMM uop nest of a tile (``plan.gemm_order``, outer first); strides only, the
    kernel's base is the emitter's."""
    return _nest(*_nest_parts(plan), nco, nh, nw, nci)


def _nest_parts(plan: ConvPlan) -> tuple[Conv2D, int, bool, tuple[str, ...]]:
    """What of ``plan`` a GEMM nest depends on (hashable: the key of the cached kernels)."""
    return plan.workload, plan.target.block, plan.weight_resident, plan.gemm_order


def _nest(
    wl: Conv2D,
    block: int,
    weight_resident: bool,
    gemm_order: tuple[str, ...],
    nco: int,
    nh: int,
    nw: int,
    nci: int,
) -> list[Loop]:
    """:func:`_gemm_nest` from the plan's parts it depends on."""
    s, k, ic_b = wl.stride, wl.kernel, wl.ic // block
    h_in, w_in = (nh - 1) * s + k, (nw - 1) * s + k
    wgt_co = ic_b * k * k if weight_resident else nci * k * k
    loops = {
        "ci": Loop("ci", nci, 0, h_in * w_in, k * k),
        "kh": Loop("kh", k, 0, w_in, k),
        "kw": Loop("kw", k, 0, 1, 1),
        "co": Loop("co", nco, nh * nw, 0, wgt_co),
        "h": Loop("h", nh, nw, s * w_in, 0),
        "w": Loop("w", nw, 1, s, 0),
    }
    return [loops[name] for name in gemm_order]


def _gemm_kernel(plan: ConvPlan, nh: int, nw: int) -> tuple[tuple[Loop, ...], int]:
    """The folded loops (outer first) and the uop count of the GEMM kernel of an ``nh`` x
    ``nw`` tile of ``plan`` (whole output-channel and input-channel tiles)."""
    return _folded_kernel(*_nest_parts(plan), plan.fold_rule, plan.tco, nh, nw, plan.tci)


# The configurations of a space share few tile shapes (a nestc space: 8 thread counts per
# shape); folding the nest twice per configuration in Python took ~20 us of ~400.
@lru_cache(maxsize=1 << 14)
def _folded_kernel(
    wl: Conv2D,
    block: int,
    weight_resident: bool,
    gemm_order: tuple[str, ...],
    fold_rule: str,
    nco: int,
    nh: int,
    nw: int,
    nci: int,
) -> tuple[tuple[Loop, ...], int]:
    """:func:`_gemm_kernel` from the plan's parts it depends on."""
    nest = _nest(wl, block, weight_resident, gemm_order, nco, nh, nw, nci)
    folded, unrolled = fold_loops(nest, fold_rule)
    size = 1
    for loop in unrolled:
        size *= loop.extent
    return tuple(folded), size


def _check_uop_depth(plan: ConvPlan) -> None:
    """NEST-C refuses a schedule whose largest uop kernel cannot fit the uop buffer."""
    _, size = _gemm_kernel(plan, plan.th, plan.tw)
    if size > plan.target.uop_depth:
        raise CompileError(
            "uop_depth",
            f"GEMM uop kernel of {size} uops exceeds the uop buffer ({plan.target.uop_depth})",
        )
