"""Instruction-accurate counting pass: what a VTA stream does, counted without a cycle model.

Pelke et al. (DAC 2025) estimate the run time of autotuning candidates from the statistics of a
fast instruction-accurate simulator instead of measuring them on the slow target. This is our
analogue of that simulator: one pass over the decoded instruction stream that counts, per
instruction, what VTA's own functional simulator profiles (apache/tvm-vta
``src/sim/sim_driver.cc``: ``inp/wgt/acc/uop_load_nbytes``, ``out_store_nbytes``,
``gemm_counter``, ``alu_counter``) plus what else an instruction-level pass can count: the
instructions per kind and per module, the DMA rows, the zero padding, the dependency tokens.
Nothing here depends on time: no bus, no queues, no stalls.

The counters named like the timing simulator's (:data:`ml2tuner.vta.sim.COUNTER_NAMES`) hold the
same values as the timing simulator's for every stream that runs to FINISH, since both count the
same instructions by the same rule (the tests hold them equal).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ._sim_numba import COUNTER_NAMES, Q_COMPUTE, Q_LOAD, Q_STORE, _route
from .isa import (
    F_ITER_IN,
    F_ITER_OUT,
    F_MEM_TYPE,
    F_OPCODE,
    F_PUSH_NEXT,
    F_PUSH_PREV,
    F_RESET,
    F_UOP_BGN,
    F_UOP_END,
    F_USE_IMM,
    F_X_PAD0,
    F_X_PAD1,
    F_X_SIZE,
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
    OP_GEMM,
    OP_LOAD,
    OP_STORE,
    layout_for,
)
from .target import Target

__all__ = ["STATISTIC_NAMES", "count_stream"]

# The timing simulator's instruction-level counters come first, same names, same order (the
# counters after fetch_bytes are about time: busy, stall, bus and pad cycles).
_TIMING_COUNTERS = COUNTER_NAMES[: COUNTER_NAMES.index("fetch_bytes") + 1]
STATISTIC_NAMES = (
    *_TIMING_COUNTERS,
    # instructions by kind
    "n_load_inp",
    "n_load_wgt",
    "n_load_acc",
    "n_load_uop",
    "n_store",
    "n_gemm",
    "n_reset",
    "n_alu",
    "n_alu_imm",
    "n_noop",  # a LOAD/STORE that moves nothing (x_size or y_size 0): a token carrier
    # DMA rows (one AXI request each in the timing model) and zero elements padded on chip
    "inp_rows",
    "wgt_rows",
    "acc_rows",
    "out_rows",
    "pad_elems",
    # micro-op work: uops issued by GEMM / ALU instructions (without the loop iterations)
    "gemm_uops",
    "alu_uops",
    # dependency tokens pushed on each of the four FIFOs
    "tokens_l2c",
    "tokens_c2l",
    "tokens_c2s",
    "tokens_s2c",
)
(
    _INP_NBYTES,
    _WGT_NBYTES,
    _ACC_NBYTES,
    _UOP_NBYTES,
    _OUT_NBYTES,
    _GEMM,
    _RESET,
    _ALU,
    _INSNS,
    _LOAD_INSNS,
    _COMPUTE_INSNS,
    _STORE_INSNS,
    _FETCH_BYTES,
    _N_LOAD_INP,
    _N_LOAD_WGT,
    _N_LOAD_ACC,
    _N_LOAD_UOP,
    _N_STORE,
    _N_GEMM,
    _N_RESET,
    _N_ALU,
    _N_ALU_IMM,
    _N_NOOP,
    _INP_ROWS,
    _WGT_ROWS,
    _ACC_ROWS,
    _OUT_ROWS,
    _PAD,
    _GEMM_UOPS,
    _ALU_UOPS,
    _L2C,
    _C2L,
    _C2S,
    _S2C,
) = range(len(STATISTIC_NAMES))


@njit(cache=True)
def _count(fields, elem_bytes, insn_bytes):
    """One pass over ``fields``; ``elem_bytes`` is indexed by memory id."""
    c = np.zeros(len(STATISTIC_NAMES), dtype=np.int64)
    n_loaded = (_N_LOAD_INP, _N_LOAD_WGT, _N_LOAD_ACC)
    nbytes = (_INP_NBYTES, _WGT_NBYTES, _ACC_NBYTES)
    rows = (_INP_ROWS, _WGT_ROWS, _ACC_ROWS)
    for i in range(fields.shape[0]):
        row = fields[i]
        op, mem = row[F_OPCODE], row[F_MEM_TYPE]
        x, y = row[F_X_SIZE], row[F_Y_SIZE]
        module = _route(op, mem)
        c[_INSNS] += 1
        if module == Q_LOAD:
            c[_LOAD_INSNS] += 1
        elif module == Q_STORE:
            c[_STORE_INSNS] += 1
        else:
            c[_COMPUTE_INSNS] += 1
        # Tokens: a module pushes to its previous / next neighbour (load has no previous,
        # store no next; sim_driver.cc and runtime.cc route them the same way).
        if module == Q_LOAD:
            c[_L2C] += row[F_PUSH_NEXT]
        elif module == Q_COMPUTE:
            c[_C2L] += row[F_PUSH_PREV]
            c[_C2S] += row[F_PUSH_NEXT]
        else:
            c[_S2C] += row[F_PUSH_PREV]
        if op == OP_LOAD and mem == MEM_UOP:
            if x:
                c[_N_LOAD_UOP] += 1
                c[_UOP_NBYTES] += x * elem_bytes[MEM_UOP]
            else:
                c[_N_NOOP] += 1
        elif op == OP_LOAD and (mem == MEM_INP or mem == MEM_WGT or mem == MEM_ACC):
            k = 0 if mem == MEM_INP else 1 if mem == MEM_WGT else 2
            if x and y:
                c[n_loaded[k]] += 1
                c[nbytes[k]] += x * y * elem_bytes[mem]
                c[rows[k]] += y
                # INP, WGT and ACC loads zero-pad on chip (docs/machine-semantics.md)
                width = row[F_X_PAD0] + x + row[F_X_PAD1]
                c[_PAD] += (row[F_Y_PAD0] + row[F_Y_PAD1]) * width + y * (
                    row[F_X_PAD0] + row[F_X_PAD1]
                )
            else:
                c[_N_NOOP] += 1
        elif op == OP_STORE:
            if x and y:
                c[_N_STORE] += 1
                c[_OUT_NBYTES] += x * y * elem_bytes[MEM_OUT]
                c[_OUT_ROWS] += y
            else:
                c[_N_NOOP] += 1
        elif op == OP_GEMM or op == OP_ALU:
            uops = max(0, row[F_UOP_END] - row[F_UOP_BGN])
            work = row[F_ITER_OUT] * row[F_ITER_IN] * uops
            if op == OP_ALU:
                c[_N_ALU] += 1
                c[_N_ALU_IMM] += row[F_USE_IMM]
                c[_ALU] += work
                c[_ALU_UOPS] += uops
            elif row[F_RESET]:
                c[_N_RESET] += 1
                c[_RESET] += work
            else:
                c[_N_GEMM] += 1
                c[_GEMM] += work
                c[_GEMM_UOPS] += uops
    c[_FETCH_BYTES] = fields.shape[0] * insn_bytes
    return c


def count_stream(target: Target, fields: np.ndarray) -> dict[str, int]:
    """Count what the decoded stream ``fields`` does on ``target``.

    Args:
        target: the VTA configuration (element and instruction sizes).
        fields: ``(n, NUM_FIELDS)`` decoded instruction fields (``Program.executed()[0]``).

    Returns:
        One integer per name of :data:`STATISTIC_NAMES`, in that order.
    """
    fields = np.ascontiguousarray(fields, dtype=np.int64).reshape(-1, NUM_FIELDS)
    elem_bytes = np.zeros(5, dtype=np.int64)
    elem_bytes[MEM_UOP] = target.uop_elem_bytes
    elem_bytes[MEM_WGT] = target.wgt_elem_bytes
    elem_bytes[MEM_INP] = target.inp_elem_bytes
    elem_bytes[MEM_ACC] = target.acc_elem_bytes
    elem_bytes[MEM_OUT] = target.out_elem_bytes
    counts = _count(fields, elem_bytes, layout_for(target).insn_bits // 8)
    return dict(zip(STATISTIC_NAMES, counts.tolist(), strict=True))
