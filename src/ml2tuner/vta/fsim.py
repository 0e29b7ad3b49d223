"""Functional simulator: runs a decoded VTA instruction stream on real data.

Instructions execute one at a time, in program order or in any order given — normally an
interleaving of the three modules that the dependency tokens allow (``schedule.legal_order``,
or the order the timing simulator started them in), as VTA's own ``sim_driver.cc`` runs
whichever module the tokens let proceed. A correctly synchronised program computes the same
result in every legal interleaving; a racy one does not. The semantics are those of
``docs/machine-semantics.md``: wrapping SRAM indices, zero-reading / write-dropping DRAM
regions, int32 wrapping accumulators, and the accumulator read-modify-write window of the GEMM
and ALU pipelines.

Every GEMM/ALU instruction is evaluated at once with numpy. The pipeline window is modelled
exactly: for each op we find the *visible writer* — the latest earlier op writing the address it
reads whose write has committed when it reads (any op of an earlier pass, or an op at least
``window + 1`` positions earlier in the same pass). An op's value is then a function of its
visible writer's value, so GEMMs reduce to sums along writer chains and ALUs to a few levels
of vectorised evaluation. Only 8-bit inputs/weights with 32-bit accumulators are supported.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import isa
from ._sim_numba import COUNTER_NAMES as TIMING_COUNTERS
from .isa import Program
from .target import Target

__all__ = ["FunctionalResult", "run_functional", "run_program"]

# fsim's profiler counters (sim_driver.cc): the data-moving head of the timing simulator's list
COUNTER_NAMES = TIMING_COUNTERS[: TIMING_COUNTERS.index("alu_counter") + 1]
_LOAD_COUNTER = {
    isa.MEM_INP: "inp_load_nbytes",
    isa.MEM_WGT: "wgt_load_nbytes",
    isa.MEM_ACC: "acc_load_nbytes",
    isa.MEM_UOP: "uop_load_nbytes",
}
_GROUPED_MIN_OPS_PER_WEIGHT = 128  # below this, one batched matmul beats a loop over weights
_MATMUL_CHUNK = 16384  # ops per batched matmul (bounds the gathered weight copy)


@dataclass(frozen=True)
class FunctionalResult:
    """State and statistics after a functional run.

    Attributes:
        out: the OUT DRAM region, int8 ``(out_elems, BATCH, BLOCK)``.
        acc: the final ACC SRAM, int32 ``(acc_depth, BATCH, BLOCK)``.
        hazards: GEMM/ALU passes in which an op read an address (its dst, or an ALU's src)
            whose latest write was still in the pipeline (reset GEMMs are not counted: their
            ACC result is zero either way).
        sram_overruns: SRAM accesses whose un-wrapped index was ≥ the depth.
        dram_oob: DRAM element accesses outside their region (reads gave 0, writes dropped).
        counters: fsim-style byte and op counters (see ``COUNTER_NAMES``).
    """

    out: np.ndarray
    acc: np.ndarray
    hazards: int
    sram_overruns: int
    dram_oob: int
    counters: dict[str, int]


def run_functional(
    target: Target,
    fields: np.ndarray,
    uops: np.ndarray,
    *,
    inp: np.ndarray,
    wgt: np.ndarray,
    out_elems: int,
    acc: np.ndarray | None = None,
    order: np.ndarray | None = None,
) -> FunctionalResult:
    """Execute the decoded stream on real data, in program order or in ``order``.

    Args:
        target: the VTA configuration (must be i8w8a32).
        fields: decoded instructions, int64 ``(n, NUM_FIELDS)``.
        uops: the decoded uop DRAM image, ``(m, 3)``.
        inp: INP DRAM region, int8 ``(n_inp, BATCH, BLOCK)``.
        wgt: WGT DRAM region, int8 ``(n_wgt, BLOCK, BLOCK)``.
        out_elems: size of the OUT DRAM region in elements.
        acc: optional ACC DRAM region, int32 ``(n_acc, BATCH, BLOCK)``.
        order: instruction indices in execution order (default: the stream's order).

    Returns:
        The OUT region, the final ACC SRAM, hazard/overrun/out-of-bounds counts and counters.
    """
    machine = _Machine(target, uops, inp, wgt, acc, out_elems)
    fields = np.asarray(fields, dtype=np.int64)
    if order is not None:
        fields = fields[np.asarray(order, dtype=np.int64)]
    for row in fields.tolist():
        op = row[isa.F_OPCODE]
        if op == isa.OP_FINISH:
            break
        if op == isa.OP_LOAD:
            machine.load(row)
        elif op == isa.OP_STORE:
            machine.store(row)
        elif op == isa.OP_GEMM:
            machine.gemm(row)
        elif op == isa.OP_ALU:
            machine.alu(row)
    return machine.result()


def run_program(
    program: Program,
    *,
    inp: np.ndarray,
    wgt: np.ndarray,
    acc: np.ndarray | None = None,
    order: np.ndarray | None = None,
) -> FunctionalResult:
    """Run what the hardware sees of ``program`` (its decoded words) on the given DRAM regions,
    in ``order`` (instruction indices; default: the stream's order).

    The OUT and UOP region sizes come from ``program.dram_elems``; the data regions must match
    the sizes recorded there (a mismatch is a caller error and raises ``ValueError``).
    """
    fields, uops = program.decoded()
    sizes = program.dram_elems
    if acc is None and sizes.get(isa.MEM_ACC, 0):
        target = program.target
        acc = np.zeros((sizes[isa.MEM_ACC], target.batch, target.block), np.int32)
    regions = ((isa.MEM_INP, "inp", inp), (isa.MEM_WGT, "wgt", wgt), (isa.MEM_ACC, "acc", acc))
    for mem, name, region in regions:
        have = 0 if region is None else len(region)
        if mem in sizes and have != sizes[mem]:
            raise ValueError(f"{name}: {have} elements given, program expects {sizes[mem]}")
    n_uop = sizes.get(isa.MEM_UOP, len(uops))
    uops = np.concatenate([uops[:n_uop], np.zeros((max(0, n_uop - len(uops)), 3), np.int64)])
    return run_functional(
        program.target,
        fields,
        uops,
        inp=inp,
        wgt=wgt,
        acc=acc,
        out_elems=sizes.get(isa.MEM_OUT, 0),
        order=order,
    )


def _region(array: np.ndarray | None, shape: tuple[int, int], dtype: type, name: str) -> np.ndarray:
    if array is None:
        return np.zeros((0, *shape), dtype)
    array = np.asarray(array)
    if array.ndim != 3 or array.shape[1:] != shape:
        raise ValueError(f"{name}: shape {array.shape}, expected (n, {shape[0]}, {shape[1]})")
    return array.astype(dtype, copy=False)


def _wrap32(values: np.ndarray) -> np.ndarray:
    """Two's-complement int32 wrap of int64 values (kept as int64 for further arithmetic)."""
    return values.astype(np.int32).astype(np.int64)


def _groups(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Stable sort by key: ``(order, starts, ends)`` of each run of equal keys in ``order``."""
    order = np.argsort(keys, kind="stable")
    ordered = keys[order]
    boundary = np.empty(len(keys), dtype=bool)
    boundary[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=boundary[1:])
    starts = np.flatnonzero(boundary)
    return order, starts, np.append(starts[1:], len(keys))


def _visible_writers(
    dst: np.ndarray, order: np.ndarray, n_uop: int, window: int, query: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """For each op ``k`` reading address ``query[k]``: the op whose write it sees, and hazards.

    Returns ``(writer, missed)``: ``writer[k]`` is the latest op ``m < k`` with
    ``dst[m] == query[k]`` that is in an earlier pass or at least ``window + 1`` positions
    earlier in the same pass (-1: none, the read sees the state before the instruction);
    ``missed[k]`` says the latest earlier write to that address was still in flight.
    ``order`` is the stable argsort of ``dst``; op ``k`` is at position ``k % n_uop`` of
    pass ``k // n_uop``.
    """
    n, window = len(dst), max(window, 0)
    ops = np.arange(n, dtype=np.int64)
    passes, pos = np.divmod(ops, n_uop)
    keys = dst[order] * n + order  # sorted: by address, then by op index
    cursor = np.searchsorted(keys, query * n + ops) - 1  # latest earlier op at that address
    writer = np.full(n, -1, dtype=np.int64)
    missed = np.zeros(n, dtype=bool)  # set at step 0: the latest earlier write is in flight
    pending = np.ones(n, dtype=bool)
    # At most `window` writes can be in flight, so stepping back window + 1 ops suffices.
    for step in range(window + 1):
        cand = cursor - step
        same = cand >= 0
        m = order[np.where(same, cand, 0)]
        same &= dst[m] == query
        visible = same & ((passes[m] != passes) | (pos[m] < pos - window))
        if step == 0:
            missed = same & ~visible
        take = pending & visible
        writer[take] = m[take]
        pending &= same & ~visible
    return writer, missed


def _predecessors(order: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Each op's latest earlier op with the same address (-1 for the first one).

    This is every op's visible writer when no address repeats inside the pipeline window.
    """
    prev = np.full(len(order), -1, dtype=np.int64)
    prev[order[1:]] = order[:-1]
    prev[order[starts]] = -1
    return prev


def _repeats_in_window(kernel_dst: np.ndarray, window: int) -> bool:
    """Whether a uop kernel repeats a (wrapped) destination within ``window`` uops.

    A pass adds the same offset to every uop, so the kernel decides this for all passes.
    """
    return any(np.any(kernel_dst[k:] == kernel_dst[:-k]) for k in range(1, window + 1))


def _levels(*writers: np.ndarray) -> np.ndarray:
    """Evaluation level of each op: one more than the highest level among its writers (-1: none).

    Ops of one level depend only on lower levels, so each level is evaluated at once.
    """
    level = np.zeros(len(writers[0]), dtype=np.int64)
    while True:
        deps = np.maximum.reduce([np.where(w >= 0, level[w] + 1, 0) for w in writers])
        if np.array_equal(deps, level):
            return level
        level = deps


def _alu_apply(opcode: int, a: np.ndarray, b: np.ndarray, log_acc_width: int) -> np.ndarray:
    """One ALU operation on int32 values held in int64; returns wrapped int32 values."""
    if opcode == isa.ALU_MIN:
        return np.minimum(a, b)
    if opcode == isa.ALU_MAX:
        return np.maximum(a, b)
    if opcode == isa.ALU_ADD:
        return _wrap32(a + b)
    if opcode == isa.ALU_SHR:
        # The operand's sign picks the direction and its magnitude (mod the accumulator width)
        # the amount, as in sim_driver.cc and Chisel's TensorAlu; HLS vta.cc reads the low bits
        # as signed instead, so it shifts 16..31 left (docs/machine-semantics.md).
        amount = np.abs(b) & ((1 << log_acc_width) - 1)
        return _wrap32(np.where(b >= 0, a >> amount, a << amount))
    if opcode == isa.ALU_MUL:
        return _wrap32(a * (((b & 0xFF) ^ 0x80) - 0x80))
    return a  # an unknown opcode writes back what it read (vta.cc leaves the tensor as read)


class _Machine:
    """SRAMs, DRAM regions and statistics of one run."""

    def __init__(
        self,
        target: Target,
        uops: np.ndarray,
        inp: np.ndarray,
        wgt: np.ndarray,
        acc: np.ndarray | None,
        out_elems: int,
    ) -> None:
        if (target.log_inp_width, target.log_wgt_width, target.log_acc_width) != (3, 3, 5):
            raise ValueError(f"{target.name}: the functional simulator supports i8w8a32 only")
        self.t = target
        b, blk = target.batch, target.block
        self.dram = {
            isa.MEM_INP: _region(inp, (b, blk), np.int8, "inp"),
            isa.MEM_WGT: _region(wgt, (blk, blk), np.int8, "wgt"),
            isa.MEM_ACC: _region(acc, (b, blk), np.int32, "acc"),
            isa.MEM_UOP: np.asarray(uops, dtype=np.int64).reshape(-1, 3),
        }
        self.out_dram = np.zeros((out_elems, b, blk), np.int8)
        self.sram = {
            isa.MEM_INP: np.zeros((target.inp_depth, b, blk), np.int8),
            isa.MEM_WGT: np.zeros((target.wgt_depth, blk, blk), np.int8),
            isa.MEM_ACC: np.zeros((target.acc_depth, b, blk), np.int32),
            isa.MEM_UOP: np.zeros((target.uop_depth, 3), np.int64),
        }
        self.out_sram = np.zeros((target.acc_depth, b, blk), np.int8)
        self.elem_bytes = {
            isa.MEM_INP: target.inp_elem_bytes,
            isa.MEM_WGT: target.wgt_elem_bytes,
            isa.MEM_ACC: target.acc_elem_bytes,
            isa.MEM_UOP: target.uop_elem_bytes,
        }
        self.counters = dict.fromkeys(COUNTER_NAMES, 0)
        self.hazards = self.sram_overruns = self.dram_oob = 0

    def result(self) -> FunctionalResult:
        return FunctionalResult(
            self.out_dram,
            self.sram[isa.MEM_ACC].copy(),
            self.hazards,
            self.sram_overruns,
            self.dram_oob,
            dict(self.counters),
        )

    def _sram_index(self, raw: np.ndarray, depth: int) -> np.ndarray:
        self.sram_overruns += int(np.count_nonzero(raw >= depth))
        return raw % depth

    # ---- memory instructions -------------------------------------------------------------
    def load(self, f: list[int]) -> None:
        mem = f[isa.F_MEM_TYPE]
        if mem not in self.dram:
            return  # LOAD OUT (or an unknown memory) moves nothing
        x_size, y_size = f[isa.F_X_SIZE], f[isa.F_Y_SIZE]
        if mem == isa.MEM_UOP:
            y_size = 1  # uop loads copy x_size uops and ignore y_size
        if x_size == 0 or y_size == 0:
            return
        self.counters[_LOAD_COUNTER[mem]] += x_size * y_size * self.elem_bytes[mem]
        y_pad0, y_pad1, x_pad0, x_pad1 = (
            (f[isa.F_Y_PAD0], f[isa.F_Y_PAD1], f[isa.F_X_PAD0], f[isa.F_X_PAD1])
            if mem != isa.MEM_UOP
            else (0, 0, 0, 0)
        )  # INP, WGT and ACC loads honour padding; a uop load is a 1-D copy
        rows = np.arange(y_pad0 + y_size + y_pad1)[:, None] - y_pad0
        cols = np.arange(x_pad0 + x_size + x_pad1)[None, :] - x_pad0
        data = (rows >= 0) & (rows < y_size) & (cols >= 0) & (cols < x_size)
        src = np.where(data, f[isa.F_DRAM_BASE] + rows * f[isa.F_X_STRIDE] + cols, -1).ravel()
        region, sram = self.dram[mem], self.sram[mem]
        valid = src >= 0
        outside = valid & (src >= len(region))
        self.dram_oob += int(np.count_nonzero(outside))
        valid &= ~outside
        values = np.zeros((len(src), *sram.shape[1:]), sram.dtype)
        values[valid] = region[src[valid]]
        index = self._sram_index(f[isa.F_SRAM_BASE] + np.arange(len(src)), len(sram))
        if len(index) > len(sram):  # the index wrapped onto itself: later writes win
            index, values = index[-len(sram) :], values[-len(sram) :]
        sram[index] = values

    def store(self, f: list[int]) -> None:
        # vta.cc's store module always reads the OUT buffer, whatever memory_type says.
        x_size, y_size = f[isa.F_X_SIZE], f[isa.F_Y_SIZE]
        if x_size == 0 or y_size == 0:
            return
        self.counters["out_store_nbytes"] += x_size * y_size * self.t.out_elem_bytes
        dst = (
            f[isa.F_DRAM_BASE]
            + np.arange(y_size)[:, None] * f[isa.F_X_STRIDE]
            + np.arange(x_size)[None, :]
        ).ravel()
        index = self._sram_index(f[isa.F_SRAM_BASE] + np.arange(len(dst)), len(self.out_sram))
        inside = dst < len(self.out_dram)
        self.dram_oob += int(np.count_nonzero(~inside))
        dst, index = dst[inside], index[inside]
        if y_size > 1 and f[isa.F_X_STRIDE] < x_size:  # overlapping rows: the last write wins
            _, first_from_end = np.unique(dst[::-1], return_index=True)
            dst, index = dst[len(dst) - 1 - first_from_end], index[len(dst) - 1 - first_from_end]
        self.out_dram[dst] = self.out_sram[index]

    # ---- compute instructions ------------------------------------------------------------
    def _loop(self, f: list[int], with_wgt: bool):
        """The unrolled ``(i, j, u)`` loop: un-wrapped dst, src and wgt indices, the number of
        uops per pass and the kernel's wrapped destinations."""
        n_uop = f[isa.F_UOP_END] - f[isa.F_UOP_BGN]
        n_pass = f[isa.F_ITER_OUT] * f[isa.F_ITER_IN]
        if n_uop <= 0 or n_pass == 0:
            return None
        upc = np.arange(f[isa.F_UOP_BGN], f[isa.F_UOP_END])
        # Every pass re-reads the uops, so each overrunning uop index counts once per pass.
        uop_sram = self.sram[isa.MEM_UOP]
        self.sram_overruns += n_pass * int(np.count_nonzero(upc >= len(uop_sram)))
        kernel = uop_sram[upc % len(uop_sram)]
        i = np.arange(f[isa.F_ITER_OUT])[:, None]
        j = np.arange(f[isa.F_ITER_IN])[None, :]

        def unroll(col: int, out: int, inner: int) -> np.ndarray:
            return ((i * f[out] + j * f[inner]).reshape(-1, 1) + kernel[:, col]).ravel()

        d = unroll(isa.U_DST, isa.F_DST_OUT, isa.F_DST_IN)
        s = unroll(isa.U_SRC, isa.F_SRC_OUT, isa.F_SRC_IN)
        w = unroll(isa.U_WGT, isa.F_WGT_OUT, isa.F_WGT_IN) if with_wgt else None
        return d, s, w, n_uop, kernel[:, isa.U_DST] % len(self.sram[isa.MEM_ACC])

    def _dots(self, s: np.ndarray, w: np.ndarray) -> np.ndarray:
        """``INP[s] · WGT[w]ᵀ`` per op, int64 ``(n, BATCH, BLOCK)``.

        float32 is exact here: every partial sum is an integer below 64 · 2^14 < 2^24.
        """
        n, (_, b, blk) = len(s), self.sram[isa.MEM_INP].shape
        x = self.sram[isa.MEM_INP][s].astype(np.float32)
        wgt = self.sram[isa.MEM_WGT]
        out = np.empty((n, b, blk), np.float32)
        order, starts, ends = _groups(w)
        if len(starts) * _GROUPED_MIN_OPS_PER_WEIGHT <= n:  # few weights: one matmul each
            for lo, hi in zip(starts.tolist(), ends.tolist(), strict=True):
                ops = order[lo:hi]
                out[ops] = (x[ops].reshape(-1, blk) @ wgt[w[ops[0]]].T.astype(np.float32)).reshape(
                    -1, b, blk
                )
        else:
            for lo in range(0, n, _MATMUL_CHUNK):
                sl = slice(lo, lo + _MATMUL_CHUNK)
                out[sl] = np.matmul(x[sl], wgt[w[sl]].astype(np.float32).transpose(0, 2, 1))
        return out.astype(np.int64)

    def _dst_writers(
        self,
        d: np.ndarray,
        order: np.ndarray,
        starts: np.ndarray,
        n_uop: int,
        kernel_dst: np.ndarray,
        window: int,
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Visible writer of each op's dst read; ``missed`` is None when no read missed one."""
        if not _repeats_in_window(kernel_dst, window):
            return _predecessors(order, starts), None
        return _visible_writers(d, order, n_uop, window, d)

    def _count_hazards(self, missed: np.ndarray | None, n_uop: int) -> None:
        if missed is not None and missed.any():
            self.hazards += len(np.unique(np.flatnonzero(missed) // n_uop))

    def _commit(self, dst: np.ndarray, acc_values: np.ndarray, out_values: np.ndarray) -> None:
        """Write the final ACC and OUT values of each destination (arrays per destination)."""
        self.sram[isa.MEM_ACC][dst] = acc_values.astype(np.int32)
        self.out_sram[dst] = out_values.astype(np.int8)

    def gemm(self, f: list[int]) -> None:
        loop = self._loop(f, with_wgt=True)
        if loop is None:
            return
        d, s, w, n_uop, kernel_dst = loop
        acc = self.sram[isa.MEM_ACC]
        d = self._sram_index(d, len(acc))
        s = self._sram_index(s, len(self.sram[isa.MEM_INP]))
        w = self._sram_index(w, len(self.sram[isa.MEM_WGT]))
        order, starts, ends = _groups(d)
        last = order[ends - 1]
        writer, missed = self._dst_writers(
            d, order, starts, n_uop, kernel_dst, self.t.rmw_distance - 1
        )
        if f[isa.F_RESET]:
            # ACC ends at 0; OUT gets the last op's sum of what it read (0 once a reset of the
            # same address has committed, the old value before) and its product.
            self.counters["reset_counter"] += len(d)
            read = np.where((writer[last] >= 0)[:, None, None], 0, acc[d[last]].astype(np.int64))
            self._commit(d[last], np.zeros_like(read), read + self._dots(s[last], w[last]))
            return
        self.counters["gemm_counter"] += len(d)
        self._count_hazards(missed, n_uop)
        if missed is None:  # every op sees its predecessor's write: a plain sum per address
            total = np.add.reduceat(self._dots(s[order], w[order]), starts, axis=0)
        else:  # sum along each op's chain of visible writers (pointer jumping)
            total, link = self._dots(s, w), writer
            while (link >= 0).any():
                has = link >= 0
                total = total + np.where(has[:, None, None], total[np.maximum(link, 0)], 0)
                link = np.where(has, link[np.maximum(link, 0)], -1)
            total = total[last]
        final = _wrap32(acc[d[last]].astype(np.int64) + total)
        self._commit(d[last], final, final)

    def alu(self, f: list[int]) -> None:
        loop = self._loop(f, with_wgt=False)
        if loop is None:
            return
        d, s, _, n_uop, kernel_dst = loop
        t, acc = self.t, self.sram[isa.MEM_ACC]
        d = self._sram_index(d, len(acc))
        use_imm = bool(f[isa.F_USE_IMM])
        if not use_imm:
            s = self._sram_index(s, len(acc))
        self.counters["alu_counter"] += len(d)
        order, starts, ends = _groups(d)
        last = order[ends - 1]
        if len(starts) == len(d) and (use_imm or not np.isin(s, d).any()):
            # No op reads another op's write: everything reads the state before the insn.
            src = np.int64(f[isa.F_IMM]) if use_imm else acc[s].astype(np.int64)
            result = _alu_apply(f[isa.F_ALU_OP], acc[d].astype(np.int64), src, t.log_acc_width)
            self._commit(d, np.zeros_like(result) if f[isa.F_RESET] else result, result)
            return
        window = -(-(t.rmw_distance - 1) // 2)  # II = 2: half as many ops in flight
        dst_writer, missed = self._dst_writers(d, order, starts, n_uop, kernel_dst, window)
        src_writer = np.full(len(d), -1, dtype=np.int64)
        if not use_imm:
            src_writer, src_missed = _visible_writers(d, order, n_uop, window, s)
            missed = src_missed if missed is None else missed | src_missed
        self._count_hazards(missed, n_uop)
        level = _levels(dst_writer, src_writer)
        written = np.empty((len(d), *acc.shape[1:]), np.int64)  # what each op stores in ACC
        result = np.empty_like(written)  # what each op computed (its low 8 bits go to OUT)
        by_level = np.argsort(level, kind="stable")
        bounds = np.searchsorted(level[by_level], np.arange(level.max() + 2))
        for lo, hi in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
            ops = by_level[lo:hi]
            a = self._read(acc, written, d[ops], dst_writer[ops])
            b = (
                np.int64(f[isa.F_IMM])
                if use_imm
                else self._read(acc, written, s[ops], src_writer[ops])
            )
            result[ops] = _alu_apply(f[isa.F_ALU_OP], a, b, t.log_acc_width)
            written[ops] = 0 if f[isa.F_RESET] else result[ops]
        self._commit(d[last], written[last], result[last])

    @staticmethod
    def _read(
        acc: np.ndarray, written: np.ndarray, address: np.ndarray, writer: np.ndarray
    ) -> np.ndarray:
        """What ops read at ``address``: their visible writer's value, else the ACC SRAM."""
        return np.where(
            (writer >= 0)[:, None, None],
            written[np.maximum(writer, 0)],
            acc[address].astype(np.int64),
        )
