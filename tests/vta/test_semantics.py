"""Where VTA's implementations disagree, the model follows the documented choice.

Each case is one row of the table in docs/machine-semantics.md ("Where VTA's implementations
differ"); the expected values are computed by hand from apache/tvm-vta ``src/sim/sim_driver.cc``,
``hardware/xilinx/src/vta.cc`` and ``hardware/chisel/src/main/scala/core/``.
"""

from __future__ import annotations

import numpy as np
import pytest

from ml2tuner.vta import isa
from ml2tuner.vta.fsim import run_functional
from ml2tuner.vta.sim import simulate, simulate_reference
from ml2tuner.vta.target import PRESETS
from ml2tuner.vta.workload import RESNET18

PYNQ = PRESETS["pynq"]
B, BLK = PYNQ.batch, PYNQ.block


def insn(opcode: int, **values: int) -> np.ndarray:
    row = np.zeros(isa.NUM_FIELDS, dtype=np.int64)
    row[isa.F_OPCODE] = opcode
    for name, value in values.items():
        row[isa.FIELD_NAMES.index(name)] = value
    return row


def mem(opcode: int, memory: int, y: int, x: int, pads=(0, 0, 0, 0), **values: int):
    y0, y1, x0, x1 = pads
    return insn(
        opcode,
        memory_type=memory,
        y_size=y,
        x_size=x,
        x_stride=values.pop("x_stride", x),
        y_pad_0=y0,
        y_pad_1=y1,
        x_pad_0=x0,
        x_pad_1=x1,
        **values,
    )


def run(rows, uops, *, acc=None, inp=None, wgt=None):
    fields = np.array(rows, dtype=np.int64)
    return run_functional(
        PYNQ,
        fields,
        np.array(uops, dtype=np.int64),
        inp=np.zeros((0, B, BLK), np.int8) if inp is None else inp,
        wgt=np.zeros((0, BLK, BLK), np.int8) if wgt is None else wgt,
        acc=acc,
        out_elems=0,
    )


@pytest.mark.parametrize(("imm", "shift"), [(3, 3), (13, 13), (16, 16), (31, 31), (-3, -3)])
def test_shr_shifts_by_the_whole_immediate(imm, shift):
    """sim_driver.cc: ``x >> y`` for y ≥ 0, ``x << -y`` below; Chisel's TensorAlu the same for
    |imm| < 32. HLS vta.cc would read 16 and 31 as 5-bit signed -16 and -1 (left shifts)."""
    values = np.array([-(2**31), -123456789, -1, 0, 1, 987654321, 2**31 - 1], np.int64)
    acc = np.resize(values, (4, B, BLK)).astype(np.int32)
    rows = [
        mem(isa.OP_LOAD, isa.MEM_UOP, 1, 4),
        mem(isa.OP_LOAD, isa.MEM_ACC, 1, 4),
        insn(
            isa.OP_ALU,
            uop_end=4,
            iter_out=1,
            iter_in=1,
            alu_opcode=isa.ALU_SHR,
            use_imm=1,
            imm=imm,
        ),
        insn(isa.OP_FINISH),
    ]
    uops = [(k, 0, 0) for k in range(4)]
    result = run(rows, uops, acc=acc)
    a = acc.astype(np.int64)
    expected = a >> shift if shift >= 0 else a << -shift
    assert (result.acc[:4] == expected.astype(np.int32)).all()


def test_no_resnet18_epilogue_reaches_the_shifts_where_hls_differs():
    """HLS reads the SHR amount as 5-bit signed, so only shifts below 16 mean the same there."""
    assert max(wl.epilogue_shift for wl in RESNET18.values()) < 16


def test_acc_load_zero_pads():
    """vta.cc's compute() loads ACC with load_pad_2d; sim_driver.cc's SRAM::Load pads every type."""
    acc = np.arange(1, 5 * B * BLK + 1, dtype=np.int32).reshape(5, B, BLK)
    pads = (1, 0, 1, 1)  # y_pad_0, y_pad_1, x_pad_0, x_pad_1: rows of 1 + 2 + 1 = 4
    rows = [
        mem(isa.OP_LOAD, isa.MEM_ACC, 2, 2, pads, dram_base=1, x_stride=3, sram_base=2),
        insn(isa.OP_FINISH),
    ]
    result = run(rows, [(0, 0, 0)], acc=acc)
    expected = np.zeros((14, B, BLK), np.int32)  # 2 untouched, then 3 rows of 4
    expected[2 + 4 + 1 : 2 + 4 + 3] = acc[1:3]  # row 0 of data: DRAM 1, 2
    expected[2 + 8 + 1] = acc[4]  # row 1: DRAM 4, then DRAM 5, outside the region: zeros
    assert (result.acc[:14] == expected).all()
    assert result.dram_oob == 1


def test_wgt_load_zero_pads():
    """sim_driver.cc's SRAM::Load and Chisel's TensorLoad pad WGT loads (HLS's load_2d does
    not): WGT[0] is the pad, WGT[1] the weight, so only the second GEMM accumulates."""
    rng = np.random.default_rng(0)
    inp = rng.integers(-128, 128, (1, B, BLK), dtype=np.int8)
    wgt = rng.integers(-128, 128, (1, BLK, BLK), dtype=np.int8)
    rows = [
        mem(isa.OP_LOAD, isa.MEM_INP, 1, 1),
        mem(isa.OP_LOAD, isa.MEM_WGT, 1, 1, (0, 0, 1, 0)),
        mem(isa.OP_LOAD, isa.MEM_UOP, 1, 2),
        insn(isa.OP_GEMM, uop_end=2, iter_out=1, iter_in=1),
        insn(isa.OP_FINISH),
    ]
    result = run(rows, [(0, 0, 0), (1, 0, 1)], inp=inp, wgt=wgt)
    assert (result.acc[0] == 0).all()
    assert (result.acc[1] == inp[0].astype(np.int32) @ wgt[0].T.astype(np.int32)).all()


def test_uop_load_is_one_row_of_x_size():
    """vta.cc memcpy's ``x_size`` uops and Chisel's LoadUop reads ``xsize`` only: y_size and
    the pads of a uop load are ignored (VTA's runtime always writes y_size 1, no pads)."""
    rows = [
        mem(isa.OP_LOAD, isa.MEM_UOP, 3, 2, (1, 1, 1, 1), x_stride=5),
        insn(isa.OP_FINISH),
    ]
    uops = [(k, 0, 0) for k in range(10)]
    fields = np.array(rows)
    functional = run(rows, uops)
    dram = {isa.MEM_UOP: 10}
    timing = simulate(PYNQ, fields, np.array(uops), dram)
    assert timing == simulate_reference(PYNQ, fields, np.array(uops), dram)
    nbytes = 2 * PYNQ.uop_elem_bytes
    assert functional.counters["uop_load_nbytes"] == timing.counters["uop_load_nbytes"] == nbytes
    assert timing.counters["pad_cycles"] == 0


def test_sram_overrun_wraps_and_is_counted():
    """sim_driver.cc CHECK-fails (``CHECK_LE(sram_end, kMaxNumElem)``); the hardware indexes its
    SRAM with log2(depth) address bits, so the write wraps to the start. The model wraps and
    counts the overrun (status wrong_answer, error_kind sram_overrun)."""
    acc = np.arange(1, 3 * B * BLK + 1, dtype=np.int32).reshape(3, B, BLK)
    rows = [
        mem(isa.OP_LOAD, isa.MEM_ACC, 1, 3, sram_base=PYNQ.acc_depth - 1),
        insn(isa.OP_FINISH),
    ]
    result = run(rows, [(0, 0, 0)], acc=acc)
    assert (result.acc[PYNQ.acc_depth - 1] == acc[0]).all()
    assert (result.acc[:2] == acc[1:]).all()
    assert result.sram_overruns == 2
