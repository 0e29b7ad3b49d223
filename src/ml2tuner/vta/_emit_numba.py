"""The numba kernel of the compiler's emitter (the fast twin of ``compiler._Emitter``).

It walks the same tile loops and drives the same runtime rules as ``compiler._Emitter`` and
``runtime.StreamBuilder`` (token placement, no-ops, the uop cache), writing the instruction
fields and the uop DRAM image straight into arrays: no Python object per instruction.
``tests/vta/test_emit.py`` holds its streams equal to the plain emitter's, instruction by
instruction and uop by uop.

Each rule is a module-level ``njit`` function over the arrays it touches, not a closure inside
:func:`emit`: numba inlines a closure's whole body at every call site, and with this emitter's
nested rules the inlined IR grew so large that numba's dead-code pass ran for minutes (as
functions: about 50 s for the first compile, then numba's cache). Scalars live in ``st``
(``S_*``), the kernels in the ``kern`` table (``KC_*``). A refusal (a DMA the compiler cannot
express, a uop kernel the runtime rejects) stops the emission and is reported as a code and a
detail (``E_*``); ``compiler`` words it as the plain emitter does.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .isa import (
    ALU_ADD,
    ALU_MAX,
    ALU_MIN,
    ALU_SHR,
    F_ALU_OP,
    F_DRAM_BASE,
    F_IMM,
    F_ITER_IN,
    F_ITER_OUT,
    F_MEM_TYPE,
    F_OPCODE,
    F_POP_NEXT,
    F_POP_PREV,
    F_PUSH_NEXT,
    F_PUSH_PREV,
    F_RESET,
    F_SRAM_BASE,
    F_UOP_BGN,
    F_UOP_END,
    F_USE_IMM,
    F_X_PAD0,
    F_X_PAD1,
    F_X_SIZE,
    F_X_STRIDE,
    F_Y_PAD0,
    F_Y_PAD1,
    F_Y_SIZE,
    MEM_ACC,
    MEM_INP,
    MEM_OUT,
    MEM_UOP,
    MEM_WGT,
    NUM_FIELDS,
    OP_ALU,
    OP_FINISH,
    OP_GEMM,
    OP_LOAD,
    OP_STORE,
)

__all__ = ["GEMM_LOOPS", "NUM_PARAMS", "emit"]

LOAD_STAGE, COMPUTE_STAGE, STORE_STAGE = 1, 2, 3  # as runtime.py numbers them
# The GEMM nest's loops, by the names ConvPlan.gemm_order uses.
GEMM_LOOPS = ("ci", "kh", "kw", "co", "h", "w")
L_CI, L_KH, L_KW, L_CO, L_H, L_W = range(6)
# Kernel kinds: the lowest digit of a kernel's identity, which keeps the kinds' identities apart.
K_GEMM, K_RESET, K_ALU, K_BIAS = range(4)
NUM_KINDS = 4
# The parameter vector: workload, plan and target numbers (``compiler._emit_params``).
(
    P_H,
    P_W,
    P_OH,
    P_OW,
    P_IC_B,
    P_OC_B,
    P_KERNEL,
    P_STRIDE,
    P_PAD,
    P_SHIFT,
    P_TB,
    P_TH,
    P_TW,
    P_TCI,
    P_TCO,
    P_THREADS_H,
    P_THREADS_CO,
    P_RESIDENT,
    P_SLOTS,
    P_N_B,
    P_N_H,
    P_N_W,
    P_N_CO,
    P_N_CI,
    P_SYNCS_IDLE,
    P_TVM_DMA,
    P_VERIFY_DEP,
    P_INP_TILE,
    P_ACC_TILE,
    P_WGT_TILE,
    P_BIAS_ROWS,
    P_BIAS,
    P_SHIFT_FIRST,
    P_CLIP_LO,
    P_FOLD_LARGEST,
    P_UOP_DEPTH,
    P_RMW,
) = range(37)
P_GEMM_ORDER = 37  # six entries: the GEMM nest's loops (L_*), outer to inner
NUM_PARAMS = 43
# Refusals: code (E_*) and detail.
# E_DMA_DIMS: detail = what (an index of DMA_WHAT) * 16 + the dimensions the region needs;
# E_KERNEL: the runtime would reject a uop kernel, detail = where it starts in the returned
# uop image (it ends the image).
E_NONE, E_CAPACITY, E_DMA_DIMS, E_PADDED_CHANNELS, E_KERNEL = range(5)
DMA_WHAT = ("input", "weight", "output")
# The scalars: counters, the refusal, and the runtime's pending pops (S_PENDING + 4 * side +
# stage, side 0 = from the previous stage, 1 = from the next).
(
    S_ROWS,
    S_LAST,
    S_UOPS,
    S_UOP_TOP,
    S_CACHE_GEN,
    S_RESETS,
    S_KERNELS,
    S_CHUNK,
    S_ERR,
    S_ERR_DETAIL,
    S_RESET_UOPS,
    S_ALU_UOPS,
    S_STEPS,
    S_TRUNCATED,
    S_PENDING,
) = range(15)
# The stream's tally (TALLIES), kept as rows are emitted, follows the pending pops.
S_TALLY = S_PENDING + 8
# What the hidden features count of a stream (compiler._hidden_from_program): instructions per
# kind, and elements moved per memory. A LOAD or STORE moving nothing is a no-op (a token
# carrier).
TALLIES = (
    "n_load_inp",
    "n_load_wgt",
    "n_load_uop",
    "n_store",
    "n_noop",
    "n_gemm",
    "n_alu",
    "inp_moved",
    "wgt_moved",
    "uop_moved",
    "out_moved",
)
(
    T_LOAD_INP,
    T_LOAD_WGT,
    T_LOAD_UOP,
    T_STORE,
    T_NOOP,
    T_GEMM,
    T_ALU,
    T_INP_MOVED,
    T_WGT_MOVED,
    T_UOP_MOVED,
    T_OUT_MOVED,
) = range(len(TALLIES))
NUM_SCALARS = S_TALLY + len(TALLIES)
# The kernel table, a row per kernel: its DRAM offset and size, where it sits in the uop cache
# (valid while its generation is the cache's), iter_out, iter_in and the six factors.
KC_DRAM, KC_SIZE, KC_SRAM, KC_GEN, KC_ITER_OUT, KC_ITER_IN, KC_FACTORS = range(7)
NUM_KC = KC_FACTORS + 6
# The nest scratch: per loop (outer first) its extent and (dst, src, wgt) strides.
N_EXT, N_DST = 0, 1


# The rules touch only arrays their caller owns, so they are compiled without numba's
# reference counting (``_nrt=False``): with it, every call passing ``fields`` or ``st``
# counted references atomically, about half of the emitter's time. ``_nrt`` is a private option
# (numba.core.options, there from 0.59 to 0.68), so pyproject.toml caps numba below 0.69.
_rule = njit(cache=True, _nrt=False)


# ---- the runtime's stream rules (runtime.StreamBuilder) ---------------------------------
@_rule
def _stage_of(opcode, mem_type):
    if opcode == OP_STORE:
        return STORE_STAGE
    if opcode == OP_LOAD and (mem_type == MEM_INP or mem_type == MEM_WGT):
        return LOAD_STAGE
    return COMPUTE_STAGE


@_rule
def _fail(st, code, detail):
    """Record the first refusal; emission stops there."""
    if st[S_ERR] == E_NONE:
        st[S_ERR], st[S_ERR_DETAIL] = code, detail


@_rule
def tally_row(tally, at, opcode, mem_type, moved):
    """Count one instruction (``moved``: its x size times y size) into ``tally[at:]``, a
    vector of :data:`TALLIES`."""
    if opcode == OP_LOAD or opcode == OP_STORE:
        if moved == 0:
            tally[at + T_NOOP] += 1
        elif opcode == OP_STORE:
            tally[at + T_STORE] += 1
        elif mem_type == MEM_INP or mem_type == MEM_WGT or mem_type == MEM_UOP:
            tally[at + T_LOAD_INP + (mem_type == MEM_WGT) + 2 * (mem_type == MEM_UOP)] += 1
        if opcode == OP_STORE and mem_type == MEM_OUT:
            tally[at + T_OUT_MOVED] += moved
        elif opcode == OP_LOAD and (
            mem_type == MEM_INP or mem_type == MEM_WGT or mem_type == MEM_UOP
        ):
            tally[at + T_INP_MOVED + (mem_type == MEM_WGT) + 2 * (mem_type == MEM_UOP)] += moved
    elif opcode == OP_GEMM:
        tally[at + T_GEMM] += 1
    elif opcode == OP_ALU:
        tally[at + T_ALU] += 1


@_rule
def _new_row(fields, st, opcode, mem_type):
    """A zero row appended to the stream; its index, or -1 once emission stopped."""
    if st[S_ERR] != E_NONE:
        return -1
    r = st[S_ROWS]
    if r >= fields.shape[0]:
        _fail(st, E_CAPACITY, 0)
        return -1
    for column in range(NUM_FIELDS):  # a constant count: stores inline, no memset call
        fields[r, column] = 0
    fields[r, F_OPCODE], fields[r, F_MEM_TYPE] = opcode, mem_type
    st[S_ROWS] = r + 1
    st[S_LAST] = r
    return r


@_rule
def _append(fields, st, opcode, mem_type):
    """``_append``: a row that takes the stage's pending pops."""
    r = _new_row(fields, st, opcode, mem_type)
    if r >= 0:
        stage = _stage_of(opcode, mem_type)
        fields[r, F_POP_PREV] |= st[S_PENDING + stage]
        fields[r, F_POP_NEXT] |= st[S_PENDING + 4 + stage]
        st[S_PENDING + stage] = st[S_PENDING + 4 + stage] = 0
    return r


@_rule
def _noop(fields, st, stage, push_prev, push_next, pop_prev, pop_next):
    if stage == STORE_STAGE:
        r = _new_row(fields, st, OP_STORE, MEM_OUT)
    elif stage == LOAD_STAGE:
        r = _new_row(fields, st, OP_LOAD, MEM_INP)
    else:
        r = _new_row(fields, st, OP_LOAD, MEM_UOP)
    if r >= 0:
        fields[r, F_PUSH_PREV], fields[r, F_PUSH_NEXT] = push_prev, push_next
        fields[r, F_POP_PREV], fields[r, F_POP_NEXT] = pop_prev, pop_next
        tally_row(st, S_TALLY, fields[r, F_OPCODE], fields[r, F_MEM_TYPE], 0)


@_rule
def _commit_pending_pop(fields, st, stage):
    prev, nxt = st[S_PENDING + stage], st[S_PENDING + 4 + stage]
    if prev or nxt:
        _noop(fields, st, stage, 0, 0, prev, nxt)
        st[S_PENDING + stage] = st[S_PENDING + 4 + stage] = 0


@_rule
def _dep_pop(fields, st, src, dst):
    slot = S_PENDING + (0 if src < dst else 4) + dst
    if st[slot]:
        _commit_pending_pop(fields, st, dst)
    st[slot] = 1


@_rule
def _dep_push(fields, st, src, dst):
    _commit_pending_pop(fields, st, src)
    flag = F_PUSH_NEXT if src < dst else F_PUSH_PREV
    last = st[S_LAST]
    if last >= 0:
        if (
            _stage_of(fields[last, F_OPCODE], fields[last, F_MEM_TYPE]) == src
            and not fields[last, flag]
        ):
            fields[last, flag] = 1
            return
    _noop(fields, st, src, int(src > dst), int(src < dst), 0, 0)


@_rule
def _put(fields, st, r, column, value):
    """Write a computed ``value``; flags ``S_TRUNCATED`` if the array's dtype cannot hold it."""
    fields[r, column] = value
    if fields[r, column] != value:
        st[S_TRUNCATED] = 1


@_rule
def _mem(fields, st, opcode, mem_type, sram, dram, y, x, x_stride, y_pad0, y_pad1, x_pad0, x_pad1):
    r = _append(fields, st, opcode, mem_type)
    if r >= 0:
        _put(fields, st, r, F_SRAM_BASE, sram)
        _put(fields, st, r, F_DRAM_BASE, dram)
        _put(fields, st, r, F_Y_SIZE, y)
        _put(fields, st, r, F_X_SIZE, x)
        _put(fields, st, r, F_X_STRIDE, x_stride)
        _put(fields, st, r, F_Y_PAD0, y_pad0)
        _put(fields, st, r, F_Y_PAD1, y_pad1)
        _put(fields, st, r, F_X_PAD0, x_pad0)
        _put(fields, st, r, F_X_PAD1, x_pad1)
        tally_row(st, S_TALLY, opcode, mem_type, y * x)


# ---- uop kernels -------------------------------------------------------------------------
@_rule
def _find(kernel_of, identity):
    """Row of ``identity`` in the kernel table ``kernel_of`` (open addressing over rows of
    (identity, kernel), identity -1 when free): where it is, or the free row it goes to."""
    mask = kernel_of.shape[0] - 1  # a power of two
    entry = (identity * 2654435761 >> 16) & mask  # Knuth's multiplicative hash
    while kernel_of[entry, 0] != identity and kernel_of[entry, 0] != -1:
        entry = (entry + 1) & mask
    return entry


@_rule
def _fold(nest, n_loops, largest):
    """Indices of the folded loops (outer first, -1 if fewer) of the first ``n_loops`` of
    ``nest``: the two outermost non-unit loops, or with ``largest`` the two largest (ties:
    outer)."""
    first, second = -1, -1
    if largest:
        for i in range(n_loops):
            if nest[i, N_EXT] > 1 and (first < 0 or nest[i, N_EXT] > nest[first, N_EXT]):
                first = i
        for i in range(n_loops):
            e = nest[i, N_EXT]
            if e > 1 and i != first and (second < 0 or e > nest[second, N_EXT]):
                second = i
        if second >= 0 and second < first:
            first, second = second, first
    else:
        for i in range(n_loops):
            if nest[i, N_EXT] > 1:
                if first < 0:
                    first = i
                elif second < 0:
                    second = i
    return first, second


@_rule
def _make_kernel(params, st, uops, kern, nest, index, n_loops, base_dst, base_src, base_wgt, reset):
    """Fold the nest, append its unrolled uops to the DRAM image (checked as the runtime
    checks them) and return the new kernel's index (-1 once emission stopped)."""
    if st[S_ERR] != E_NONE:
        return -1
    first, second = _fold(nest, n_loops, params[P_FOLD_LARGEST] != 0)
    kernel = st[S_KERNELS]
    if kernel >= kern.shape[0]:
        _fail(st, E_CAPACITY, 0)
        return -1
    st[S_KERNELS] = kernel + 1
    kern[kernel, KC_ITER_OUT] = nest[first, N_EXT] if first >= 0 else 1
    kern[kernel, KC_ITER_IN] = nest[second, N_EXT] if second >= 0 else 1
    for col in range(3):
        reads = col == 0 or not reset  # a reset reads nothing
        outer = nest[first, N_DST + col] if first >= 0 and reads else 0
        inner = nest[second, N_DST + col] if second >= 0 and reads else 0
        kern[kernel, KC_FACTORS + 2 * col], kern[kernel, KC_FACTORS + 2 * col + 1] = outer, inner
    size = 1
    for i in range(n_loops):
        if nest[i, N_EXT] > 1 and i != first and i != second:
            size *= nest[i, N_EXT]
    begin = st[S_UOPS]
    if begin + size > uops.shape[0]:
        _fail(st, E_CAPACITY, 0)
        return -1
    # Unroll in nest order (the first unrolled loop varies slowest).
    index[:] = 0
    for u in range(size):
        dst, src, wgt = base_dst, base_src, base_wgt
        for i in range(n_loops):
            dst += index[i] * nest[i, N_DST]
            if not reset:
                src += index[i] * nest[i, N_DST + 1]
                wgt += index[i] * nest[i, N_DST + 2]
        uops[begin + u, 0], uops[begin + u, 1], uops[begin + u, 2] = dst, src, wgt
        for i in range(n_loops - 1, -1, -1):
            if nest[i, N_EXT] <= 1 or i == first or i == second:
                continue
            index[i] += 1
            if index[i] < nest[i, N_EXT]:
                break
            index[i] = 0
    kern[kernel, KC_DRAM], kern[kernel, KC_SIZE] = begin, size
    st[S_UOPS] = begin + size
    # The runtime's checks (runtime.StreamBuilder._check_kernel words the refusal).
    rejected = size > params[P_UOP_DEPTH]
    for distance in range(1, params[P_RMW] if params[P_VERIFY_DEP] else 1):
        for u in range(distance, size):
            rejected = rejected or uops[begin + u, 0] == uops[begin + u - distance, 0]
    if rejected:
        _fail(st, E_KERNEL, begin)
    return kernel


@_rule
def _use_kernel(params, fields, st, kern, kernel):
    """``_use_kernel``: make ``kernel`` resident in the uop cache; returns its offset."""
    if kern[kernel, KC_GEN] == st[S_CACHE_GEN]:
        return kern[kernel, KC_SRAM]
    size = kern[kernel, KC_SIZE]
    if st[S_UOP_TOP] + size > params[P_UOP_DEPTH]:
        st[S_CACHE_GEN] += 1  # the runtime's uop cache starts over
        st[S_UOP_TOP] = 0
        st[S_RESETS] += 1
    begin = st[S_UOP_TOP]
    _mem(fields, st, OP_LOAD, MEM_UOP, begin, kern[kernel, KC_DRAM], 1, size, size, 0, 0, 0, 0)
    kern[kernel, KC_SRAM], kern[kernel, KC_GEN] = begin, st[S_CACHE_GEN]
    st[S_UOP_TOP] = begin + size
    return begin


@_rule
def _loop_insn(params, fields, st, kern, opcode, kernel, reset, alu_op, use_imm, imm):
    """A GEMM or ALU instruction running ``kernel`` (nothing once emission stopped)."""
    if kernel < 0:
        return
    begin = _use_kernel(params, fields, st, kern, kernel)
    r = _append(fields, st, opcode, 0)
    if r >= 0:
        fields[r, F_RESET] = reset
        _put(fields, st, r, F_UOP_BGN, begin)
        _put(fields, st, r, F_UOP_END, begin + kern[kernel, KC_SIZE])
        _put(fields, st, r, F_ITER_OUT, kern[kernel, KC_ITER_OUT])
        _put(fields, st, r, F_ITER_IN, kern[kernel, KC_ITER_IN])
        for j in range(6):
            _put(fields, st, r, F_ITER_IN + 1 + j, kern[kernel, KC_FACTORS + j])
        if opcode == OP_ALU:
            fields[r, F_ITER_IN + 5] = fields[r, F_ITER_IN + 6] = 0  # no weight factors
            fields[r, F_ALU_OP], fields[r, F_USE_IMM] = alu_op, use_imm
            _put(fields, st, r, F_IMM, imm)
        tally_row(st, S_TALLY, opcode, 0, 0)


# ---- SRAM bases per thread (compiler._Emitter) --------------------------------------------
@_rule
def _inp_base(params, t, slot):
    return (t * params[P_SLOTS] + slot) * params[P_INP_TILE]


@_rule
def _wgt_base(params, t, slot):
    return 0 if params[P_RESIDENT] else (t * params[P_SLOTS] + slot) * params[P_WGT_TILE]


@_rule
def _acc_base(params, t):
    return t * params[P_ACC_TILE]


@_rule
def _bias_base(params, t):
    threads = params[P_THREADS_H] * params[P_THREADS_CO]
    return threads * params[P_ACC_TILE] + t * params[P_BIAS_ROWS]


# ---- DMA ---------------------------------------------------------------------------------
@_rule
def _dma(params, fields, st, dims, folded, index, opcode, mem_type, n_dims, sram, dram, what):
    """``_dma`` over the ``n_dims`` rows of ``dims`` (extent, DRAM stride, SRAM stride): fold,
    then 2-D DMAs (or refuse)."""
    n = 0
    for d in range(n_dims):
        e, ds, ss = dims[d, 0], dims[d, 1], dims[d, 2]
        if e <= 1:
            continue
        if n and folded[n - 1, 1] == e * ds and folded[n - 1, 2] == e * ss:
            folded[n - 1, 0] *= e
            folded[n - 1, 1], folded[n - 1, 2] = ds, ss
        else:
            folded[n, 0], folded[n, 1], folded[n, 2] = e, ds, ss
            n += 1
    if n == 0 or folded[n - 1, 1] != 1 or folded[n - 1, 2] != 1:
        folded[n, 0], folded[n, 1], folded[n, 2] = 1, 1, 1  # rows of one element
        n += 1
    n -= 1
    x = folded[n, 0]
    if n and folded[n - 1, 2] == x:
        n -= 1
        y, y_stride = folded[n, 0], folded[n, 1]
    else:
        y, y_stride = 1, x
    if n and params[P_TVM_DMA]:
        _fail(st, E_DMA_DIMS, what * 16 + n + 2)
        return
    count = 1
    for d in range(n):
        count *= folded[d, 0]
    index[:n] = 0
    for _ in range(count):
        d_off, s_off = 0, 0
        for d in range(n):
            d_off += index[d] * folded[d, 1]
            s_off += index[d] * folded[d, 2]
        _mem(fields, st, opcode, mem_type, sram + s_off, dram + d_off, y, x, y_stride, 0, 0, 0, 0)
        for d in range(n - 1, -1, -1):
            index[d] += 1
            if index[d] < folded[d, 0]:
                break
            index[d] = 0


@_rule
def _window(params, o0, n, size):
    """Input rows (or columns) read by outputs [o0, o0+n): (start, count, pad lo, pad hi)."""
    s, pad = params[P_STRIDE], params[P_PAD]
    lo = o0 * s - pad
    hi = (o0 + n - 1) * s - pad + params[P_KERNEL]
    start, stop = max(lo, 0), min(hi, size)
    return start, stop - start, start - lo, hi - stop


@_rule
def _load_input(params, fields, st, dims, folded, index, t, slot, b, ci0, nci, h0, nh, w0, nw):
    h, w = params[P_H], params[P_W]
    r0, nr, ypad0, ypad1 = _window(params, h0, nh, h)
    c0, nc, xpad0, xpad1 = _window(params, w0, nw, w)
    h_in, w_in = ypad0 + nr + ypad1, xpad0 + nc + xpad1
    plane = h * w
    dram = ((b * params[P_IC_B] + ci0) * h + r0) * w + c0
    sram = _inp_base(params, t, slot)
    if params[P_PAD] == 0:
        dims[0, 0], dims[0, 1], dims[0, 2] = nci, plane, h_in * w_in
        dims[1, 0], dims[1, 1], dims[1, 2] = nr, w, w_in
        dims[2, 0], dims[2, 1], dims[2, 2] = nc, 1, 1
        _dma(params, fields, st, dims, folded, index, OP_LOAD, MEM_INP, 3, sram, dram, 0)
        return
    if params[P_TVM_DMA] and nci > 1:
        _fail(st, E_PADDED_CHANNELS, 0)
        return
    for ci in range(nci):
        _mem(
            fields,
            st,
            OP_LOAD,
            MEM_INP,
            sram + ci * h_in * w_in,
            dram + ci * plane,
            nr,
            nc,
            w,
            ypad0,
            ypad1,
            xpad0,
            xpad1,
        )


@_rule
def _load_weights(params, fields, st, dims, folded, index, t, slot, co0, nco, ci0, nci):
    ic_b, kk = params[P_IC_B], params[P_KERNEL] * params[P_KERNEL]
    dims[0, 0], dims[0, 1], dims[0, 2] = nco, ic_b * kk, nci * kk
    dims[1, 0], dims[1, 1], dims[1, 2] = nci * kk, 1, 1
    sram, dram = _wgt_base(params, t, slot), (co0 * ic_b + ci0) * kk
    _dma(params, fields, st, dims, folded, index, OP_LOAD, MEM_WGT, 2, sram, dram, 1)


@_rule
def _store(params, fields, st, dims, folded, index, t, b, co0, nb, nco, h0, nh, w0, nw):
    oh, ow, oc_b = params[P_OH], params[P_OW], params[P_OC_B]
    plane = oh * ow
    dims[0, 0], dims[0, 1], dims[0, 2] = nb, oc_b * plane, nco * nh * nw
    dims[1, 0], dims[1, 1], dims[1, 2] = nco, plane, nh * nw
    dims[2, 0], dims[2, 1], dims[2, 2] = nh, ow, nw
    dims[3, 0], dims[3, 1], dims[3, 2] = nw, 1, 1
    dram = ((b * oc_b + co0) * oh + h0) * ow + w0
    _dma(
        params, fields, st, dims, folded, index, OP_STORE, MEM_OUT, 4, _acc_base(params, t), dram, 2
    )


# ---- compute -----------------------------------------------------------------------------
@_rule
def _gemm(params, fields, st, uops, kern, kernel_of, nest, index, t, slot, bi, nh, nw, co0, ci0):
    """The GEMM of one chunk of thread ``t``'s tile, its kernel made on first use."""
    tb, th, tw, tci, tco = params[P_TB], params[P_TH], params[P_TW], params[P_TCI], params[P_TCO]
    ic_b, k, s = params[P_IC_B], params[P_KERNEL], params[P_STRIDE]
    kk, resident = k * k, params[P_RESIDENT] != 0
    wgt0 = (co0 * ic_b + ci0) * kk if resident else 0
    identity = (((t * params[P_SLOTS] + slot) * tb + bi) * (th + 1) + nh) * (tw + 1) + nw
    identity = (identity * (params[P_OC_B] * ic_b * kk + 1) + wgt0) * NUM_KINDS + K_GEMM
    entry = _find(kernel_of, identity)
    kernel = kernel_of[entry, 1]
    if kernel_of[entry, 0] != identity:
        h_in, w_in = (nh - 1) * s + k, (nw - 1) * s + k
        wgt_co = ic_b * kk if resident else tci * kk
        for j in range(6):
            loop = params[P_GEMM_ORDER + j]
            if loop == L_CI:
                nest[j, 0], nest[j, 1], nest[j, 2], nest[j, 3] = tci, 0, h_in * w_in, kk
            elif loop == L_KH:
                nest[j, 0], nest[j, 1], nest[j, 2], nest[j, 3] = k, 0, w_in, k
            elif loop == L_KW:
                nest[j, 0], nest[j, 1], nest[j, 2], nest[j, 3] = k, 0, 1, 1
            elif loop == L_CO:
                nest[j, 0], nest[j, 1], nest[j, 2], nest[j, 3] = tco, nh * nw, 0, wgt_co
            elif loop == L_H:
                nest[j, 0], nest[j, 1], nest[j, 2], nest[j, 3] = nh, nw, s * w_in, 0
            else:
                nest[j, 0], nest[j, 1], nest[j, 2], nest[j, 3] = nw, 1, s, 0
        kernel = _make_kernel(
            params,
            st,
            uops,
            kern,
            nest,
            index,
            6,
            _acc_base(params, t) + bi * tco * nh * nw,
            _inp_base(params, t, slot),
            _wgt_base(params, t, slot) + wgt0,
            False,
        )
        kernel_of[entry, 0], kernel_of[entry, 1] = identity, kernel
    _loop_insn(params, fields, st, kern, OP_GEMM, kernel, 0, 0, 0, 0)


@_rule
def _acc_kernel(params, st, uops, kern, kernel_of, nest, index, kind, t, nh, nw):
    """The uop kernel over thread ``t``'s accumulator tile (``_acc_kernel``)."""
    th, tw, tco = params[P_TH], params[P_TW], params[P_TCO]
    identity = ((t * (th + 1) + nh) * (tw + 1) + nw) * NUM_KINDS + kind
    entry = _find(kernel_of, identity)
    kernel = kernel_of[entry, 1]
    if kernel_of[entry, 0] != identity:
        on_bias = kind == K_BIAS
        tile = tco * nh * nw
        nest[0, 0], nest[0, 1], nest[0, 2] = params[P_TB], tile, 0 if on_bias else tile
        nest[1, 0], nest[1, 1], nest[1, 2] = tco, nh * nw, 1 if on_bias else nh * nw
        nest[2, 0], nest[2, 1], nest[2, 2] = nh, nw, 0 if on_bias else nw
        nest[3, 0], nest[3, 1], nest[3, 2] = nw, 1, 0 if on_bias else 1
        nest[:4, 3] = 0
        acc = _acc_base(params, t)
        src = acc if kind == K_ALU else _bias_base(params, t) if on_bias else 0
        kernel = _make_kernel(params, st, uops, kern, nest, index, 4, acc, src, 0, kind == K_RESET)
        kernel_of[entry, 0], kernel_of[entry, 1] = identity, kernel
    if kernel >= 0:
        size = kern[kernel, KC_SIZE]
        if kind == K_RESET:
            st[S_RESET_UOPS] = max(st[S_RESET_UOPS], size)
        else:
            st[S_ALU_UOPS] = max(st[S_ALU_UOPS], size)
    return kernel


@_rule
def _epilogue(params, fields, st, uops, kern, kernel_of, nest, index, t, nh, nw):
    # Kernels are made where first used, as the runtime appends them to the uop image.
    shift, clip_lo = params[P_SHIFT], params[P_CLIP_LO]
    alu = -1
    if params[P_SHIFT_FIRST]:
        alu = _acc_kernel(params, st, uops, kern, kernel_of, nest, index, K_ALU, t, nh, nw)
        _loop_insn(params, fields, st, kern, OP_ALU, alu, 0, ALU_SHR, 1, shift)
    if params[P_BIAS]:
        bias = _acc_kernel(params, st, uops, kern, kernel_of, nest, index, K_BIAS, t, nh, nw)
        _loop_insn(params, fields, st, kern, OP_ALU, bias, 0, ALU_ADD, 0, 0)
    if not params[P_SHIFT_FIRST]:
        alu = _acc_kernel(params, st, uops, kern, kernel_of, nest, index, K_ALU, t, nh, nw)
        _loop_insn(params, fields, st, kern, OP_ALU, alu, 0, ALU_SHR, 1, shift)
    _loop_insn(params, fields, st, kern, OP_ALU, alu, 0, ALU_MIN, 1, 127)
    _loop_insn(params, fields, st, kern, OP_ALU, alu, 0, ALU_MAX, 1, clip_lo)


# ---- the tile loops ----------------------------------------------------------------------
@_rule
def _emit_step(params, fields, st, uops, kern, kernel_of, scratch, tiles, n_tiles):
    """One lockstep group: per tile (t, b, co0, h0, w0, nh, nw) in ``tiles``; nh = 0 marks an
    idle thread (tokens only). ``compiler._Emitter._emit_step``, rule for rule."""
    nest, dims, folded, index = scratch
    tb, tci, tco, resident = params[P_TB], params[P_TCI], params[P_TCO], params[P_RESIDENT]
    for j in range(n_tiles):
        t, co0, nh, nw = tiles[j, 0], tiles[j, 2], tiles[j, 5], tiles[j, 6]
        _dep_pop(fields, st, STORE_STAGE, COMPUTE_STAGE)
        if nh:
            reset = _acc_kernel(params, st, uops, kern, kernel_of, nest, index, K_RESET, t, nh, nw)
            _loop_insn(params, fields, st, kern, OP_GEMM, reset, 1, 0, 0, 0)
        if nh and params[P_BIAS]:
            sram = _bias_base(params, t)
            _mem(fields, st, OP_LOAD, MEM_ACC, sram, co0, 1, tco, tco, 0, 0, 0, 0)
    for bi in range(tb):
        for chunk in range(params[P_N_CI]):
            ci0, slot = chunk * tci, st[S_CHUNK] % params[P_SLOTS]
            st[S_CHUNK] += 1
            for j in range(n_tiles):
                t, co0, nh = tiles[j, 0], tiles[j, 2], tiles[j, 5]
                _dep_pop(fields, st, COMPUTE_STAGE, LOAD_STAGE)
                if nh:
                    b, h0, w0, nw = tiles[j, 1] + bi, tiles[j, 3], tiles[j, 4], tiles[j, 6]
                    _load_input(
                        params,
                        fields,
                        st,
                        dims,
                        folded,
                        index,
                        t,
                        slot,
                        b,
                        ci0,
                        tci,
                        h0,
                        nh,
                        w0,
                        nw,
                    )
                if nh and not resident:
                    _load_weights(
                        params, fields, st, dims, folded, index, t, slot, co0, tco, ci0, tci
                    )
                _dep_push(fields, st, LOAD_STAGE, COMPUTE_STAGE)
            for j in range(n_tiles):
                t, co0, nh, nw = tiles[j, 0], tiles[j, 2], tiles[j, 5], tiles[j, 6]
                _dep_pop(fields, st, LOAD_STAGE, COMPUTE_STAGE)
                if nh:
                    _gemm(
                        params, fields, st, uops, kern, kernel_of, nest, index,
                        t, slot, bi, nh, nw, co0, ci0,
                    )  # fmt: skip
                _dep_push(fields, st, COMPUTE_STAGE, LOAD_STAGE)
    for j in range(n_tiles):
        if tiles[j, 5]:
            t, nh, nw = tiles[j, 0], tiles[j, 5], tiles[j, 6]
            _epilogue(params, fields, st, uops, kern, kernel_of, nest, index, t, nh, nw)
        _dep_push(fields, st, COMPUTE_STAGE, STORE_STAGE)
    for j in range(n_tiles):
        _dep_pop(fields, st, COMPUTE_STAGE, STORE_STAGE)
        if tiles[j, 5]:
            t, b, co0, h0, w0 = tiles[j, 0], tiles[j, 1], tiles[j, 2], tiles[j, 3], tiles[j, 4]
            nh, nw = tiles[j, 5], tiles[j, 6]
            _store(params, fields, st, dims, folded, index, t, b, co0, tb, tco, h0, nh, w0, nw)
        _dep_push(fields, st, STORE_STAGE, COMPUTE_STAGE)


@njit(cache=True)
def emit(params, fields, uops, kernel_capacity):
    """Emit the program of the plan described by ``params`` into ``fields`` (rows of
    ``NUM_FIELDS`` columns) and ``uops`` (rows of 3), overwriting them from row 0.

    Returns ``(fields, uops, st)``: the instruction fields and uop DRAM image (views of the
    written rows of the arrays passed in), and the scalars (``S_*``: rows, uops, uop cache
    resets, kernels, refusal, steps, largest reset/ALU kernel). ``S_ERR`` is ``E_CAPACITY``
    when an array was too small (call again larger). ``fields`` may be of any integer dtype:
    ``S_TRUNCATED`` is 1 when a value did not fit it (call again with a wider one).
    """
    threads_h, threads_co = params[P_THREADS_H], params[P_THREADS_CO]
    threads, slots = threads_h * threads_co, params[P_SLOTS]
    n_h, n_w, n_co = params[P_N_H], params[P_N_W], params[P_N_CO]
    th, tw, tb = params[P_TH], params[P_TW], params[P_TB]
    oh, ow = params[P_OH], params[P_OW]

    st = np.zeros(NUM_SCALARS, np.int64)
    st[S_LAST] = -1
    kern = np.zeros((kernel_capacity, NUM_KC), np.int64)
    kern[:, KC_GEN] = -1
    # identity -> kernel, at most kernel_capacity + 1 entries (then emission stops): a table
    # four times larger never fills, and probes little.
    table = 1
    while table < 4 * kernel_capacity:
        table *= 2
    kernel_of = np.full((table, 2), -1, np.int64)
    # Scratch: one nest at a time (extent, dst, src, wgt strides of up to six loops), a DMA
    # region (extent, DRAM stride, SRAM stride) before and after folding, loop indices.
    scratch = (
        np.zeros((6, 4), np.int64),
        np.zeros((4, 3), np.int64),
        np.zeros((5, 3), np.int64),
        np.zeros(6, np.int64),
    )
    dims, folded, index = scratch[1], scratch[2], scratch[3]
    tiles = np.zeros((threads, 7), np.int64)

    for _ in range(threads * slots):
        _dep_push(fields, st, COMPUTE_STAGE, LOAD_STAGE)  # WAR credit: buffers start free
    for _ in range(threads):
        _dep_push(fields, st, STORE_STAGE, COMPUTE_STAGE)
    if params[P_RESIDENT]:
        _load_weights(
            params, fields, st, dims, folded, index, 0, 0, 0, params[P_OC_B], 0, params[P_IC_B]
        )
    for b in range(params[P_N_B]):
        for hs in range(-(-n_h // threads_h)):
            for cs in range(-(-n_co // threads_co)):
                for wt in range(n_w):
                    if st[S_ERR] != E_NONE:
                        return fields[:0], uops[: st[S_UOPS]], st
                    st[S_STEPS] += 1
                    n_tiles = 0
                    for tc in range(threads_co):
                        for th_ in range(threads_h):
                            ht, ct = hs * threads_h + th_, cs * threads_co + tc
                            t = tc * threads_h + th_
                            if ht < n_h and ct < n_co:
                                h0, w0 = ht * th, wt * tw
                                tiles[n_tiles, 0], tiles[n_tiles, 1] = t, b * tb
                                tiles[n_tiles, 2], tiles[n_tiles, 3] = ct * params[P_TCO], h0
                                tiles[n_tiles, 4], tiles[n_tiles, 5] = w0, min(th, oh - h0)
                                tiles[n_tiles, 6] = min(tw, ow - w0)
                                n_tiles += 1
                            elif params[P_SYNCS_IDLE]:  # an idle thread: tokens only
                                tiles[n_tiles, 0], tiles[n_tiles, 1] = t, b * tb
                                tiles[n_tiles, 2:] = 0
                                n_tiles += 1
                    _emit_step(params, fields, st, uops, kern, kernel_of, scratch, tiles, n_tiles)
    for _ in range(threads * slots):
        _dep_pop(fields, st, COMPUTE_STAGE, LOAD_STAGE)  # drain the WAR credits
    _commit_pending_pop(fields, st, LOAD_STAGE)
    for _ in range(threads):
        _dep_pop(fields, st, STORE_STAGE, COMPUTE_STAGE)
    _commit_pending_pop(fields, st, COMPUTE_STAGE)
    # finish(): the final synchronisation and FINISH
    _dep_push(fields, st, STORE_STAGE, COMPUTE_STAGE)
    _dep_push(fields, st, LOAD_STAGE, COMPUTE_STAGE)
    _dep_pop(fields, st, STORE_STAGE, COMPUTE_STAGE)
    _dep_pop(fields, st, LOAD_STAGE, COMPUTE_STAGE)
    _commit_pending_pop(fields, st, COMPUTE_STAGE)
    _append(fields, st, OP_FINISH, 0)
    if st[S_ERR] != E_NONE:
        return fields[:0], uops[: st[S_UOPS]], st
    # Views, not copies: a copy would write every page once more, and the pages past the
    # stream were never touched, so they hold address space, not memory.
    return fields[: st[S_ROWS]], uops[: st[S_UOPS]], st
