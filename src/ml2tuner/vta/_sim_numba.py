"""The numba kernel of the timing simulator (the fast twin of ``sim.simulate_reference``).

Everything is flat integer arrays (the fields ``int32`` or ``int64``, see
``isa.field_rows``; the rest ``int64``) and scalars so the whole run is one compiled call. The
rules are those of ``docs/timing-model.md``; ``tests/vta/test_sim.py`` holds this kernel equal
to the plain reference in ``sim.py`` field by field.

The helpers are closures inside :func:`run` on purpose: numba inlines closures and lets them
use the kernel's arrays directly, while every array passed as an argument to a jitted helper
costs an atomic reference-count pair per call (measured: about twice as slow overall).

Two shortcuts differ from the reference in form, not in result:

- What an instruction does once started, apart from time (its counters, its hazard, overrun
  and out-of-bounds checks, the SRAM regions it touches, its duration or DMA shape), is
  decoded for the whole stream before the event loop, in stream order, into the
  instruction's row of a work table; the loop then reads that row, not the instruction's
  fields. Only the uop SRAM's contents are state, and LOAD UOP, their only writer, runs on
  the compute module, in stream order with the GEMMs and ALUs that read them.
- The uop-window statistics (min/max indices, hazards) are cached per ``(uop_bgn,
  uop_end)`` and invalidated by every ``LOAD UOP``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .isa import (
    F_DRAM_BASE,
    F_DST_IN,
    F_DST_OUT,
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
    F_SRC_IN,
    F_SRC_OUT,
    F_UOP_BGN,
    F_UOP_END,
    F_USE_IMM,
    F_WGT_IN,
    F_WGT_OUT,
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
    OP_ALU,
    OP_FINISH,
    OP_GEMM,
    OP_LOAD,
    OP_STORE,
    U_DST,
    U_SRC,
    U_WGT,
)

__all__ = ["COUNTER_NAMES", "NUM_PARAMS", "NUM_SLOTS", "run"]

COUNTER_NAMES = (
    "inp_load_nbytes",
    "wgt_load_nbytes",
    "acc_load_nbytes",
    "uop_load_nbytes",
    "out_store_nbytes",
    "gemm_counter",
    "reset_counter",
    "alu_counter",
    "insn_count",
    "load_insns",
    "compute_insns",
    "store_insns",
    "fetch_bytes",
    "load_busy",
    "load_stall",
    "compute_busy",
    "compute_stall",
    "store_busy",
    "store_stall",
    "fetch_busy",
    "fetch_stall",
    "dram_busy",
    "pad_cycles",
)
(
    C_INP_NBYTES,
    C_WGT_NBYTES,
    C_ACC_NBYTES,
    C_UOP_NBYTES,
    C_OUT_NBYTES,
    C_GEMM,
    C_RESET,
    C_ALU,
    C_INSNS,
    C_LOAD_INSNS,
    C_COMPUTE_INSNS,
    C_STORE_INSNS,
    C_FETCH_BYTES,
    C_LOAD_BUSY,
    C_LOAD_STALL,
    C_COMPUTE_BUSY,
    C_COMPUTE_STALL,
    C_STORE_BUSY,
    C_STORE_STALL,
    C_FETCH_BUSY,
    C_FETCH_STALL,
    C_DRAM_BUSY,
    C_PAD_CYCLES,
) = range(len(COUNTER_NAMES))

# A flag column is F_POP_PREV/F_PUSH_PREV + flag, flag 0 = prev, 1 = next.
assert F_POP_NEXT == F_POP_PREV + 1 and F_PUSH_NEXT == F_PUSH_PREV + 1
Q_LOAD, Q_COMPUTE, Q_STORE = 0, 1, 2  # modules (and their command queues)
L2C, C2L, C2S, S2C = 0, 1, 2, 3  # dependency-token FIFOs
NO_FIFO = -1
# FIFO popped / pushed by module q for its (prev, next) flag; NO_FIFO: the flag is ignored.
POP_FIFO = np.array([[NO_FIFO, C2L], [L2C, S2C], [C2S, NO_FIFO]], dtype=np.int64)
PUSH_FIFO = np.array([[NO_FIFO, L2C], [C2L, C2S], [S2C, NO_FIFO]], dtype=np.int64)
PRODUCER = np.array([Q_LOAD, Q_COMPUTE, Q_COMPUTE, Q_STORE], dtype=np.int64)
BUSY = np.array([C_LOAD_BUSY, C_COMPUTE_BUSY, C_STORE_BUSY], dtype=np.int64)
STALL = np.array([C_LOAD_STALL, C_COMPUTE_STALL, C_STORE_STALL], dtype=np.int64)
INSNS = np.array([C_LOAD_INSNS, C_COMPUTE_INSNS, C_STORE_INSNS], dtype=np.int64)

NEVER = np.int64(1) << np.int64(62)
CACHE_SLOTS = 256  # uop-window cache (a power of two)
K_HAZARDS, K_OVERRUNS, K_OOB, K_RACES = 0, 1, 2, 3  # checks reported beside the counters
S_READ_FREE, S_WRITE_FREE, S_GENERATION = 0, 1, 2  # scalars the closures update
# The kernel's parameter vector (one array keeps the per-call dispatch cheap); the last three
# blocks hold one entry per memory id.
(
    P_CMD_DEPTH,
    P_DEP_DEPTH,
    P_LATENCY,
    P_OVERHEAD,
    P_RMW,
    P_BUS_BYTES,
    P_INSN_BYTES,
    P_MAX_CYCLES,
    P_BURST_BEATS,
    P_READ_OUTSTANDING,
    P_WRITE_OUTSTANDING,
) = range(11)
P_DEPTHS, P_ELEM_BYTES, P_DRAM_ELEMS = 11, 16, 21
NUM_PARAMS = 26
# Uop-window statistics: max dst, max src, max wgt, GEMM hazard, ALU hazard, min dst/src/wgt.
W_DST, W_SRC, W_WGT, W_GEMM_HAZARD, W_ALU_HAZARD, W_MIN_DST, W_MIN_SRC, W_MIN_WGT = range(8)
# SRAM regions shared between modules (the race check): LOAD writes INP/WGT that GEMM reads,
# GEMM/ALU write OUT that STORE reads. A region is (first row mod depth, rows), rows = 0: none.
SLOT_INP, SLOT_WGT, SLOT_OUT = 0, 1, 2
NUM_SLOTS = 3
SLOT_MEM = np.array([MEM_INP, MEM_WGT, MEM_OUT], dtype=np.int64)
# The slots [first, last) modules q and r share (load-compute: INP, WGT; compute-store: OUT);
# every shared slot has one writing and one reading module.
SHARED_SLOTS = np.array(
    [[[0, 0], [0, 2], [0, 0]], [[0, 2], [0, 0], [2, 3]], [[0, 0], [2, 3], [0, 0]]],
    dtype=np.int64,
)
# What a started instruction does with its time, after the overhead: KIND_FIXED takes
# `duration` cycles (GEMM, ALU, FINISH, a no-op); KIND_READ/KIND_WRITE wait `pad` cycles, then
# move `dma_rows` rows of `row_bytes` on the read / write channel.
KIND_FIXED, KIND_READ, KIND_WRITE = 0, 1, 2
# The columns of the kernel's work table (a caller's scratch, see sim.SimWorkspace): one row
# per instruction, by stream index (what the loop reads of an instruction lies together in one
# row), beside the command queues.
T_QUEUE = 0  # 3 columns, by Q_*: row p of column T_QUEUE + q is the stream index of queue q's p-th
(
    T_POP,  # bit 0: pops prev, bit 1: pops next (flags with a FIFO)
    T_PUSH,  # the same for pushes
    T_KIND,  # KIND_*
    T_DURATION,
    T_PAD,
    T_DMA_ROWS,
    T_ROW_BYTES,
    T_ROW_OVERLAP,  # a row's bursts may start before the previous row's end
    T_MOVED_COUNTER,  # the counter T_MOVED adds to (any when T_MOVED is 0)
    T_MOVED,
    T_FINISHES,  # a FINISH (it runs on the compute module) ends the run
    T_DISPATCH_TIME,
    T_START_TIME,
    T_REGION_LO,  # NUM_SLOTS columns: the first row (mod depth) of each shared region touched
) = range(T_QUEUE + 3, T_QUEUE + 17)
T_REGION_ROWS = T_REGION_LO + NUM_SLOTS  # NUM_SLOTS columns: the rows of each (0: none)
T_CHECKS = T_REGION_ROWS + NUM_SLOTS  # K_OOB + 1 columns: the static checks, in K_* order
NUM_COLUMNS = T_CHECKS + K_OOB + 1


@njit(cache=True)
def _route(opcode, mem_type):
    if opcode == OP_STORE:
        return Q_STORE
    if opcode == OP_LOAD and (mem_type == MEM_INP or mem_type == MEM_WGT):
        return Q_LOAD
    return Q_COMPUTE


@njit(cache=True)
def _reach(base, factor_out, factor_in, iter_out, iter_in):
    """The largest un-wrapped index a loop nest forms from ``base``."""
    return base + (iter_out - 1) * factor_out + (iter_in - 1) * factor_in


@njit(cache=True)
def _overlap(lo_a, rows_a, lo_b, rows_b, depth):
    """Whether two regions of a circular SRAM share a row (``lo`` < depth, rows <= depth)."""
    if rows_a == 0 or rows_b == 0:
        return False
    ahead = lo_b - lo_a if lo_b >= lo_a else lo_b - lo_a + depth
    return ahead < rows_a or (depth - ahead) % depth < rows_b


@njit(cache=True)
def run(fields, uops, params, table):
    """Simulate; returns ``(cycles, finished, deadlock, timed_out, checks, counters, order)``:
    ``checks`` = hazards, overruns, oob, races; ``counters`` ordered as :data:`COUNTER_NAMES`;
    ``order`` the instructions in the order they started.

    ``params`` is the ``int64`` vector described by the ``P_*`` indices.
    """
    cmd_depth, dep_depth = params[P_CMD_DEPTH], params[P_DEP_DEPTH]
    latency, overhead, rmw = params[P_LATENCY], params[P_OVERHEAD], params[P_RMW]
    bus_bytes, insn_bytes = params[P_BUS_BYTES], params[P_INSN_BYTES]
    max_cycles = params[P_MAX_CYCLES]
    burst_bytes = params[P_BURST_BEATS] * bus_bytes
    read_outstanding, write_outstanding = params[P_READ_OUTSTANDING], params[P_WRITE_OUTSTANDING]
    depths = params[P_DEPTHS : P_DEPTHS + 5]  # by memory id
    elem_bytes = params[P_ELEM_BYTES : P_ELEM_BYTES + 5]
    dram_elems = params[P_DRAM_ELEMS : P_DRAM_ELEMS + 5]
    n = fields.shape[0]
    counters = np.zeros(len(COUNTER_NAMES), np.int64)
    checks = np.zeros(4, np.int64)
    state = np.zeros(3, np.int64)
    in_flight = np.zeros(max(read_outstanding, write_outstanding), np.int64)  # a ring
    uop_depth, acc_depth = depths[MEM_UOP], depths[MEM_ACC]
    # Uop SRAM: rows never loaded read as zero; a bitmap avoids clearing the whole SRAM per
    # call (it dominated the cost of short streams).
    uop_sram = np.empty((uop_depth, 3), np.int64)
    uop_loaded = np.zeros(uop_depth, np.uint8)
    cache_key = np.zeros((CACHE_SLOTS, 3), np.int64)  # uop_bgn, uop_end, generation + 1
    cache_val = np.zeros((CACHE_SLOTS, 8), np.int64)  # W_* columns

    # Command queues: queue q holds, in stream order, the instructions whose stream indices
    # are column T_QUEUE + q of the table's rows 0 .. queued[q] - 1.
    queue_of = np.empty(n, np.uint8)  # by stream index
    queued = np.zeros(3, np.int64)
    dispatched = np.zeros(3, np.int64)
    head = np.zeros(3, np.int64)
    module_free = np.zeros(3, np.int64)
    pending = np.zeros(3, np.int64)  # bit 0: push_prev, bit 1: push_next still to push
    push_time = np.zeros(3, np.int64)
    capacity = max(dep_depth, 1)  # ring size; a depth of 0 blocks every push
    fifo_time = np.zeros((4, capacity), np.int64)
    fifo_head = np.zeros(4, np.int64)
    fifo_count = np.zeros(4, np.int64)
    # Happens-before from the tokens (vector clocks): clock[q, r] = how many of module r's
    # instructions are known to have completed when module q's current instruction starts; a
    # token carries its pusher's clock.
    clock = np.zeros((3, 3), np.int64)
    fifo_clock = np.zeros((4, capacity, 3), np.int64)
    order = np.empty(n, np.int64)
    n_started = 0

    def dma(channel, t, rows, row_bytes, rows_overlap):
        """A DMA of ``rows`` rows issued at ``t`` on ``channel`` (S_READ_FREE/S_WRITE_FREE):
        bursts back to back, at most the channel's outstanding limit not yet done, a row
        after the previous one is done unless ``rows_overlap``; returns when the last burst
        is done."""
        limit = read_outstanding if channel == S_READ_FREE else write_outstanding
        free, done, issued, slot, busy = state[channel], t, 0, 0, 0
        # A row is its whole bursts, then the rest in one shorter burst: their beats are worked
        # out once per DMA, not divided out per burst (a few bursts per instruction).
        full = max(row_bytes, 0) // burst_bytes
        rest = max(row_bytes, 0) - full * burst_bytes
        bursts = full + (rest > 0)
        full_beats = (burst_bytes + bus_bytes - 1) // bus_bytes
        rest_beats = (rest + bus_bytes - 1) // bus_bytes  # 0 without a rest
        # A burst waits for the one `limit` places before it only if that one's latency
        # outlasts the beats of the limit - 1 bursts between them. When none can (all fit in
        # flight at once, or even the shortest bursts cover the latency), the bursts go back
        # to back, each row after the previous one is done unless rows overlap: closed form.
        row_beats = full * full_beats + rest_beats
        covered = rows * bursts <= limit or (limit - 1) * (rest_beats or full_beats) >= latency
        if rows > 0 and bursts > 0 and covered:
            begin = max(t, free)
            if rows_overlap:
                free = begin + rows * row_beats
                done = free + latency
            else:
                done = begin + rows * (row_beats + latency)
                free = done - latency
            counters[C_DRAM_BUSY] += rows * row_beats
            state[channel] = free
            return done
        for _ in range(rows):
            if not rows_overlap:
                t = done
            for burst in range(bursts):
                beats = full_beats if burst < full else rest_beats
                if issued >= limit:  # wait for the burst `limit` places earlier
                    t = max(t, in_flight[slot])
                begin = max(t, free)
                free = begin + beats
                done = begin + latency + beats
                in_flight[slot] = done
                slot = slot + 1 if slot + 1 < limit else 0
                issued += 1
                busy += beats
        counters[C_DRAM_BUSY] += busy
        state[channel] = free
        return done

    def has_repeat(rows, window):
        """Whether an ACC row recurs within ``window`` uops (``rows``: each uop's ACC row)."""
        for k in range(1, len(rows)):
            for dist in range(1, min(window, k) + 1):
                if rows[k - dist] == rows[k]:
                    return 1
        return 0

    def window_stats(bgn, end):
        """The cache row of uop SRAM ``[bgn, end)``, (re)computed if stale."""
        slot = bgn & (CACHE_SLOTS - 1)
        generation = state[S_GENERATION]
        if (
            cache_key[slot, 0] == bgn
            and cache_key[slot, 1] == end
            and cache_key[slot, 2] == generation + 1
        ):
            return slot
        best_dst, best_src, best_wgt = 0, 0, 0
        low_dst, low_src, low_wgt = NEVER, NEVER, NEVER
        # Uop SRAM rows wrap; rows never loaded read as zero. One division per uop (its ACC
        # row), none per hazard comparison.
        acc_rows = np.empty(max(end - bgn, 0), np.int64)
        row = bgn % uop_depth
        for k in range(end - bgn):
            dst, src, wgt = 0, 0, 0
            if uop_loaded[row]:
                dst, src, wgt = uop_sram[row, U_DST], uop_sram[row, U_SRC], uop_sram[row, U_WGT]
            acc_rows[k] = dst % acc_depth
            row = row + 1 if row + 1 < uop_depth else 0
            best_dst, low_dst = max(best_dst, dst), min(low_dst, dst)
            best_src, low_src = max(best_src, src), min(low_src, src)
            best_wgt, low_wgt = max(best_wgt, wgt), min(low_wgt, wgt)
        cache_val[slot, W_DST], cache_val[slot, W_SRC] = best_dst, best_src
        cache_val[slot, W_WGT] = best_wgt
        cache_val[slot, W_MIN_DST], cache_val[slot, W_MIN_SRC] = low_dst, low_src
        cache_val[slot, W_MIN_WGT] = low_wgt
        cache_val[slot, W_GEMM_HAZARD] = has_repeat(acc_rows, rmw - 1)
        cache_val[slot, W_ALU_HAZARD] = has_repeat(acc_rows, rmw // 2)
        cache_key[slot, 0], cache_key[slot, 1], cache_key[slot, 2] = bgn, end, generation + 1
        return slot

    def region(i, slot, lo, hi, mem):
        """Record that instruction ``i`` touches rows [lo, hi]."""
        depth = depths[mem]
        table[i, T_REGION_LO + slot] = lo % depth
        table[i, T_REGION_ROWS + slot] = min(hi - lo + 1, depth)

    def decode_gemm_alu(i):
        """Counters, checks, regions and duration (without the overhead) of GEMM/ALU ``i``."""
        is_gemm = fields[i, F_OPCODE] == OP_GEMM
        bgn, end = fields[i, F_UOP_BGN], fields[i, F_UOP_END]
        count = max(0, end - bgn)
        io, ii = fields[i, F_ITER_OUT], fields[i, F_ITER_IN]
        passes = io * ii
        reset = fields[i, F_RESET] != 0
        table[i, T_MOVED_COUNTER] = (
            C_GEMM if is_gemm and not reset else C_RESET if is_gemm else C_ALU
        )
        table[i, T_MOVED] = passes * count
        if count == 0 or passes == 0:
            return
        slot = window_stats(bgn, end)
        dst_reach = _reach(
            cache_val[slot, W_DST], fields[i, F_DST_OUT], fields[i, F_DST_IN], io, ii
        )
        src_reach = _reach(
            cache_val[slot, W_SRC], fields[i, F_SRC_OUT], fields[i, F_SRC_IN], io, ii
        )
        overrun = end > uop_depth or dst_reach >= acc_depth
        region(i, SLOT_OUT, cache_val[slot, W_MIN_DST], dst_reach, MEM_OUT)
        if is_gemm and not reset:  # a reset keeps nothing it reads (ACC becomes zero)
            region(i, SLOT_INP, cache_val[slot, W_MIN_SRC], src_reach, MEM_INP)
        if is_gemm:
            wgt_reach = _reach(
                cache_val[slot, W_WGT], fields[i, F_WGT_OUT], fields[i, F_WGT_IN], io, ii
            )
            if not reset:
                region(i, SLOT_WGT, cache_val[slot, W_MIN_WGT], wgt_reach, MEM_WGT)
            overrun = overrun or src_reach >= depths[MEM_INP] or wgt_reach >= depths[MEM_WGT]
            table[i, T_CHECKS + K_HAZARDS] = not reset and cache_val[slot, W_GEMM_HAZARD] != 0
        else:
            overrun = overrun or (fields[i, F_USE_IMM] == 0 and src_reach >= acc_depth)
            table[i, T_CHECKS + K_HAZARDS] = not reset and cache_val[slot, W_ALU_HAZARD] != 0
        table[i, T_CHECKS + K_OVERRUNS] = overrun
        table[i, T_DURATION] = passes * ((count if is_gemm else 2 * count) + rmw - 1)

    def decode_load_uop(i):
        x, sram, dram = fields[i, F_X_SIZE], fields[i, F_SRAM_BASE], fields[i, F_DRAM_BASE]
        table[i, T_MOVED_COUNTER], table[i, T_MOVED] = C_UOP_NBYTES, x * elem_bytes[MEM_UOP]
        readable = min(dram_elems[MEM_UOP], uops.shape[0])  # DRAM outside reads as zeros
        row = sram % uop_depth
        for k in range(x):
            for col in range(3):
                uop_sram[row, col] = uops[dram + k, col] if dram + k < readable else 0
            uop_loaded[row] = 1
            row = row + 1 if row + 1 < uop_depth else 0
        state[S_GENERATION] += 1
        table[i, T_CHECKS + K_OVERRUNS] = sram + x > uop_depth
        table[i, T_CHECKS + K_OOB] = dram + x > dram_elems[MEM_UOP]
        table[i, T_KIND], table[i, T_DMA_ROWS], table[i, T_ROW_OVERLAP] = KIND_READ, 1, 1
        table[i, T_ROW_BYTES] = table[i, T_MOVED]

    def decode_load_or_store(i, mem):
        """A 2-D LOAD (INP, WGT, ACC, zero-padded) or STORE (mem = MEM_OUT)."""
        x, y = fields[i, F_X_SIZE], fields[i, F_Y_SIZE]
        sram, dram, stride = fields[i, F_SRAM_BASE], fields[i, F_DRAM_BASE], fields[i, F_X_STRIDE]
        table[i, T_MOVED_COUNTER] = (
            C_INP_NBYTES
            if mem == MEM_INP
            else C_WGT_NBYTES
            if mem == MEM_WGT
            else C_ACC_NBYTES
            if mem == MEM_ACC
            else C_OUT_NBYTES
        )
        table[i, T_MOVED] = x * y * elem_bytes[mem]
        y_pad0, y_pad1, x_pad0, x_pad1 = 0, 0, 0, 0  # a store ignores the pad fields
        if mem != MEM_OUT:
            y_pad0, y_pad1 = fields[i, F_Y_PAD0], fields[i, F_Y_PAD1]
            x_pad0, x_pad1 = fields[i, F_X_PAD0], fields[i, F_X_PAD1]
        width = x_pad0 + x + x_pad1
        table[i, T_PAD] = (y_pad0 + y_pad1) * width + y * (x_pad0 + x_pad1)  # one zero per cycle
        rows = (y_pad0 + y + y_pad1) * width
        table[i, T_CHECKS + K_OVERRUNS] = sram + rows > depths[mem]
        if mem != MEM_ACC:  # LOAD ACC runs on the compute module itself
            region(
                i,
                SLOT_INP if mem == MEM_INP else SLOT_WGT if mem == MEM_WGT else SLOT_OUT,
                sram,
                sram + rows - 1,
                mem,
            )
        table[i, T_CHECKS + K_OOB] = dram + (y - 1) * stride + x > dram_elems[mem]
        table[i, T_KIND] = KIND_WRITE if mem == MEM_OUT else KIND_READ
        table[i, T_DMA_ROWS], table[i, T_ROW_BYTES] = y, x * elem_bytes[mem]
        table[i, T_ROW_OVERLAP] = mem != MEM_WGT  # the row loop of WGT loads is not pipelined

    def decode(i):
        """What instruction ``i`` does once started, apart from time.

        Only time depends on the other modules. The rest is fixed by the stream: the uop
        SRAM, which the hazard and region checks read, is written by LOAD UOP alone, which
        the compute module runs in stream order with its GEMMs and ALUs, so decoding in
        stream order sees the uop SRAM each of them sees.
        """
        op, mem = fields[i, F_OPCODE], fields[i, F_MEM_TYPE]
        moves = fields[i, F_X_SIZE] != 0 and fields[i, F_Y_SIZE] != 0
        if op == OP_GEMM or op == OP_ALU:
            decode_gemm_alu(i)
        elif op == OP_LOAD and mem == MEM_UOP:
            if fields[i, F_X_SIZE] != 0:
                decode_load_uop(i)
        elif op == OP_LOAD and (mem == MEM_INP or mem == MEM_WGT or mem == MEM_ACC):
            if moves:
                decode_load_or_store(i, mem)
        elif op == OP_STORE and moves:
            decode_load_or_store(i, MEM_OUT)
        # FINISH, a LOAD of another memory, unknown opcodes: nothing but the overhead
        table[i, T_FINISHES] = op == OP_FINISH

    # One pass over the stream routes and decodes (the fields are read once).
    for i in range(n):
        q = _route(fields[i, F_OPCODE], fields[i, F_MEM_TYPE])
        queue_of[i] = q
        table[queued[q], T_QUEUE + q] = i
        queued[q] += 1
        for column in range(T_POP, NUM_COLUMNS):  # the table is reused: no row is fresh
            table[i, column] = 0
        for flag in range(2):
            if POP_FIFO[q, flag] != NO_FIFO and fields[i, F_POP_PREV + flag] != 0:
                table[i, T_POP] |= 1 << flag
            if PUSH_FIFO[q, flag] != NO_FIFO and fields[i, F_PUSH_PREV + flag] != 0:
                table[i, T_PUSH] |= 1 << flag
        decode(i)

    def execute(i, start):
        """Counters and checks of instruction ``i`` started at ``start``; its end."""
        counters[table[i, T_MOVED_COUNTER]] += table[i, T_MOVED]
        for k in range(K_OOB + 1):
            checks[k] += table[i, T_CHECKS + k]
        t = start + overhead
        if table[i, T_KIND] == KIND_FIXED:
            return t + table[i, T_DURATION]
        counters[C_PAD_CYCLES] += table[i, T_PAD]
        channel = S_WRITE_FREE if table[i, T_KIND] == KIND_WRITE else S_READ_FREE
        return dma(
            channel,
            t + table[i, T_PAD],
            table[i, T_DMA_ROWS],
            table[i, T_ROW_BYTES],
            table[i, T_ROW_OVERLAP] != 0,
        )

    def races_with_others(q, i):
        """Whether instruction ``i`` shares a region with a started instruction of another
        module that the tokens do not order before it (those starting later check against
        this one)."""
        for r in range(3):
            first, last = SHARED_SLOTS[q, r, 0], SHARED_SLOTS[q, r, 1]
            touches = False
            for slot in range(first, last):
                touches = touches or table[i, T_REGION_ROWS + slot] != 0
            if not touches:
                continue
            for position in range(clock[q, r], head[r]):
                other = table[position, T_QUEUE + r]
                for slot in range(first, last):
                    if _overlap(
                        table[i, T_REGION_LO + slot],
                        table[i, T_REGION_ROWS + slot],
                        table[other, T_REGION_LO + slot],
                        table[other, T_REGION_ROWS + slot],
                        depths[SLOT_MEM[slot]],
                    ):
                        return True
        return False

    def blocked_on(q):
        """The FIFO module ``q`` waits to push into (its first pending flag), or NO_FIFO."""
        for flag in range(2):
            if pending[q] & (1 << flag):
                return PUSH_FIFO[q, flag]
        return NO_FIFO

    def push_pending(q):
        """Push module ``q``'s pending tokens in flag order; returns False while blocked."""
        for flag in range(2):
            if not pending[q] & (1 << flag):
                continue
            fifo = PUSH_FIFO[q, flag]
            if fifo_count[fifo] >= dep_depth:
                return False
            slot = fifo_head[fifo] + fifo_count[fifo]
            slot = slot - capacity if slot >= capacity else slot
            fifo_time[fifo, slot] = push_time[q]
            fifo_clock[fifo, slot, :] = clock[q, :]
            fifo_count[fifo] += 1
            pending[q] &= ~(1 << flag)
        return True

    # Fetch reads as many instructions as its port can have in flight, then dispatches them.
    fetch_group = max(1, (burst_bytes * read_outstanding) // insn_bytes)
    fetch_next, group_end, fetch_free = 0, 0, 0
    reached = 0
    while True:
        # The feasible action with the smallest start time (ties: fetch, load, compute, store).
        best, best_t = -2, NEVER
        if fetch_next < n:
            t = NEVER
            if fetch_next == group_end:
                t = fetch_free
            else:
                q = queue_of[fetch_next]
                k = dispatched[q] - cmd_depth  # queue position whose start frees the room
                if k < 0:
                    t = fetch_free
                elif k < head[q]:
                    t = max(fetch_free, table[table[k, T_QUEUE + q], T_START_TIME])
            if t < best_t:
                best, best_t = -1, t
        for q in range(3):
            h = head[q]
            if h >= dispatched[q] or pending[q] != 0:
                continue
            i = table[h, T_QUEUE + q]
            t = max(module_free[q], table[i, T_DISPATCH_TIME])
            for flag in range(2):
                if table[i, T_POP] & (1 << flag):
                    fifo = POP_FIFO[q, flag]
                    if fifo_count[fifo] == 0:
                        t = NEVER
                        break
                    t = max(t, fifo_time[fifo, fifo_head[fifo]])
            if t < best_t:
                best, best_t = q, t
        if best == -2:
            return reached, False, True, False, checks, counters, order[:n_started]
        if best_t > max_cycles:
            return max_cycles, False, False, True, checks, counters, order[:n_started]
        if best == -1 and fetch_next == group_end:  # request the next group
            count = min(fetch_group, n - fetch_next)
            counters[C_FETCH_BYTES] += count * insn_bytes
            done = dma(S_READ_FREE, best_t, 1, count * insn_bytes, True)
            counters[C_FETCH_BUSY] += done - best_t
            group_end += count
            fetch_free = done
            reached = max(reached, done)
            continue
        if best == -1:  # dispatch one instruction
            q = queue_of[fetch_next]
            table[fetch_next, T_DISPATCH_TIME] = best_t
            dispatched[q] += 1
            counters[C_FETCH_STALL] += best_t - fetch_free
            counters[C_FETCH_BUSY] += 1
            fetch_free = best_t + 1
            fetch_next += 1
            reached = max(reached, fetch_free)
            continue
        q = best
        i = table[head[q], T_QUEUE + q]
        counters[STALL[q]] += best_t - max(module_free[q], table[i, T_DISPATCH_TIME])
        table[i, T_START_TIME] = best_t
        order[n_started] = i
        n_started += 1
        clock[q, q] = head[q]  # its own earlier instructions have completed
        head[q] += 1
        for flag in range(2):
            if not table[i, T_POP] & (1 << flag):
                continue
            fifo = POP_FIFO[q, flag]
            for r in range(3):
                clock[q, r] = max(clock[q, r], fifo_clock[fifo, fifo_head[fifo], r])
            fifo_head[fifo] = fifo_head[fifo] + 1 if fifo_head[fifo] + 1 < capacity else 0
            fifo_count[fifo] -= 1
            producer = PRODUCER[fifo]
            if blocked_on(producer) == fifo:  # the blocked producer pushes now
                push_time[producer] = max(push_time[producer], best_t)
                if push_pending(producer):
                    module_free[producer] = push_time[producer]
                    reached = max(reached, push_time[producer])
        end = execute(i, best_t)
        checks[K_RACES] += races_with_others(q, i)
        clock[q, q] = head[q]  # tokens it pushes carry its own completion
        counters[BUSY[q]] += end - best_t
        counters[INSNS[q]] += 1
        counters[C_INSNS] += 1
        reached = max(reached, end)
        if table[i, T_FINISHES]:
            if end > max_cycles:
                return max_cycles, False, False, True, checks, counters, order[:n_started]
            return end, True, False, False, checks, counters, order[:n_started]
        push_time[q] = end
        pending[q] = table[i, T_PUSH]
        if push_pending(q):
            module_free[q] = end
