"""Tests of the functional simulator against independent numpy and op-by-op references."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from ml2tuner.vta import isa
from ml2tuner.vta.fsim import run_functional, run_program
from ml2tuner.vta.target import PRESETS, Target, parse_model_string
from ml2tuner.vta.workload import (
    Conv2D,
    pack_data,
    pack_kernel,
    random_operands,
    reference_conv2d,
    unpack_output,
)

PYNQ = PRESETS["pynq"]
TARGETS = [PYNQ, parse_model_string("pynq_4x8_i8w8a32_15_16_16_18"), PRESETS["zcu102"]]
# Tiny buffers (INP 16, WGT 4, ACC 8, UOP 64 elements) so that random indices wrap often.
TINY = Target(
    "tiny", log_uop_buff_size=8, log_inp_buff_size=8, log_wgt_buff_size=10, log_acc_buff_size=9
)


# ---- instruction builders ----------------------------------------------------------------


def insn(opcode: int, **values: int) -> np.ndarray:
    """One decoded instruction row; keyword names are ``isa.FIELD_NAMES``."""
    row = np.zeros(isa.NUM_FIELDS, dtype=np.int64)
    row[isa.F_OPCODE] = opcode
    for name, value in values.items():
        row[isa.FIELD_NAMES.index(name)] = value
    return row


def load(
    mem: int,
    sram: int,
    dram: int,
    y: int,
    x: int,
    stride: int | None = None,
    pad: tuple[int, int, int, int] = (0, 0, 0, 0),
) -> np.ndarray:
    return insn(
        isa.OP_LOAD,
        memory_type=mem,
        sram_base=sram,
        dram_base=dram,
        y_size=y,
        x_size=x,
        x_stride=x if stride is None else stride,
        y_pad_0=pad[0],
        y_pad_1=pad[1],
        x_pad_0=pad[2],
        x_pad_1=pad[3],
    )


def store(sram: int, dram: int, y: int, x: int, stride: int | None = None) -> np.ndarray:
    return insn(
        isa.OP_STORE,
        memory_type=isa.MEM_OUT,
        sram_base=sram,
        dram_base=dram,
        y_size=y,
        x_size=x,
        x_stride=x if stride is None else stride,
    )


def loop(
    opcode: int,
    uops: tuple[int, int],
    iters: tuple[int, int] = (1, 1),
    dst: tuple[int, int] = (0, 0),
    src: tuple[int, int] = (0, 0),
    **values: int,
) -> np.ndarray:
    return insn(
        opcode,
        uop_bgn=uops[0],
        uop_end=uops[1],
        iter_out=iters[0],
        iter_in=iters[1],
        dst_factor_out=dst[0],
        dst_factor_in=dst[1],
        src_factor_out=src[0],
        src_factor_in=src[1],
        **values,
    )


def gemm(uops, iters=(1, 1), dst=(0, 0), src=(0, 0), wgt=(0, 0), reset=0) -> np.ndarray:
    return loop(
        isa.OP_GEMM, uops, iters, dst, src, wgt_factor_out=wgt[0], wgt_factor_in=wgt[1], reset=reset
    )


def alu(opcode, uops, iters=(1, 1), dst=(0, 0), src=(0, 0), imm=None) -> np.ndarray:
    return loop(
        isa.OP_ALU,
        uops,
        iters,
        dst,
        src,
        alu_opcode=opcode,
        use_imm=int(imm is not None),
        imm=imm or 0,
    )


FINISH = insn(isa.OP_FINISH)


# ---- an independent op-by-op reference ------------------------------------------------------


def wrap32(x: int) -> int:
    return (x + 2**31) % 2**32 - 2**31


def alu_scalar(opcode: int, a: int, b: int) -> int:
    if opcode == isa.ALU_MIN:
        return min(a, b)
    if opcode == isa.ALU_MAX:
        return max(a, b)
    if opcode == isa.ALU_ADD:
        return wrap32(a + b)
    if opcode == isa.ALU_SHR:  # sign: direction, magnitude mod 32: amount (sim_driver.cc)
        k = abs(b) % 32
        return wrap32(a >> k if b >= 0 else a << k)
    m = b & 0xFF
    return wrap32(a * (m - 256 if m >= 128 else m))  # ALU_MUL


def naive_compute(target, insns, uop_sram, inp_sram, wgt_sram, acc, out, *, pipeline=True):
    """Run GEMM/ALU instructions op by op, holding each write in flight for the pipeline window.

    Mutates ``acc`` (int64) and ``out`` (int8); returns the number of passes where an op read an
    address with a write in flight (reset GEMMs excluded, as in the semantics doc).
    """
    hazards = 0
    for f in insns:
        is_gemm = f[isa.F_OPCODE] == isa.OP_GEMM
        d_rmw = target.rmw_distance - 1
        window = (d_rmw if is_gemm else (d_rmw + 1) // 2) if pipeline else 0
        for i in range(f[isa.F_ITER_OUT]):
            for j in range(f[isa.F_ITER_IN]):
                inflight, hazard = [], False
                for upc in range(f[isa.F_UOP_BGN], f[isa.F_UOP_END]):
                    while len(inflight) > window:
                        d_old, acc_val, out_val = inflight.pop(0)
                        acc[d_old], out[d_old] = acc_val, out_val
                    u = uop_sram[upc % len(uop_sram)]
                    d = (u[0] + i * f[isa.F_DST_OUT] + j * f[isa.F_DST_IN]) % len(acc)
                    s = u[1] + i * f[isa.F_SRC_OUT] + j * f[isa.F_SRC_IN]
                    reads = [d]
                    if is_gemm:
                        w = (u[2] + i * f[isa.F_WGT_OUT] + j * f[isa.F_WGT_IN]) % len(wgt_sram)
                        dot = (
                            inp_sram[s % len(inp_sram)].astype(np.int64)
                            @ wgt_sram[w].astype(np.int64).T
                        )
                        result = np.array(
                            [
                                [wrap32(int(a) + int(p)) for a, p in zip(ra, rp, strict=True)]
                                for ra, rp in zip(acc[d], dot, strict=True)
                            ]
                        )
                        if f[isa.F_RESET]:
                            reads = []
                    else:
                        s %= len(acc)
                        src = np.full_like(acc[d], f[isa.F_IMM]) if f[isa.F_USE_IMM] else acc[s]
                        reads += [] if f[isa.F_USE_IMM] else [s]
                        result = np.array(
                            [
                                [
                                    alu_scalar(f[isa.F_ALU_OP], int(a), int(b))
                                    for a, b in zip(ra, rb, strict=True)
                                ]
                                for ra, rb in zip(acc[d], src, strict=True)
                            ]
                        )
                    hazard |= any(e[0] in reads for e in inflight)
                    written = np.zeros_like(result) if f[isa.F_RESET] else result
                    inflight.append((d, written, result.astype(np.int8)))
                for d_old, acc_val, out_val in inflight:
                    acc[d_old], out[d_old] = acc_val, out_val
                hazards += hazard
    return hazards


# ---- a hand-built program ------------------------------------------------------------------


def row_conv_program(target: Target, rng: np.random.Generator):
    """A 1×3 convolution of a 3×4 image with one pixel of padding, then shift and clip.

    Returns the program, its INP and WGT regions and the expected OUT region.
    """
    b, blk = target.batch, target.block
    image = rng.integers(-128, 128, size=(3, 4, b, blk), dtype=np.int8)
    weights = rng.integers(-128, 128, size=(3, blk, blk), dtype=np.int8)
    # uop DRAM: [0] reset/ALU uop; [1, 13) GEMM kernel (k outer, x inner); (dst, src, wgt).
    gemm_kernel = [(x, 6 + x + k, k) for k in range(3) for x in range(4)]
    uops = np.array([(0, 0, 0)] + gemm_kernel)
    fields = np.stack(
        [
            load(isa.MEM_INP, 0, 0, 3, 4, pad=(1, 1, 1, 1)),  # 5×6 padded image at INP[0, 30)
            load(isa.MEM_WGT, 0, 0, 1, 3),
            load(isa.MEM_UOP, 0, 0, 1, len(uops)),
            gemm((0, 1), iters=(3, 4), dst=(4, 1), reset=1),
            gemm((1, 13), iters=(3, 1), dst=(4, 0), src=(6, 0)),  # one pass per image row
            alu(isa.ALU_SHR, (0, 1), iters=(3, 4), dst=(4, 1), src=(4, 1), imm=3),
            alu(isa.ALU_MAX, (0, 1), iters=(12, 1), dst=(1, 0), src=(1, 0), imm=-5),
            alu(isa.ALU_MIN, (0, 1), iters=(1, 12), dst=(0, 1), src=(0, 1), imm=20),
            store(0, 0, 3, 4),
            FINISH,
        ]
    )
    program = isa.Program(
        target,
        fields,
        uops,
        dram_elems={isa.MEM_INP: 12, isa.MEM_WGT: 3, isa.MEM_UOP: len(uops), isa.MEM_OUT: 12},
    )

    padded = np.pad(image.astype(np.int64), ((1, 1), (1, 1), (0, 0), (0, 0)))
    acc = sum(
        np.einsum("yxbi,oi->yxbo", padded[1:4, k : k + 4], weights[k].astype(np.int64))
        for k in range(3)
    )
    expected = np.clip(acc >> 3, -5, 20).astype(np.int8).reshape(12, b, blk)
    return program, image.reshape(12, b, blk), weights, expected


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.name)
def test_hand_built_program(target: Target) -> None:
    program, inp, wgt, expected = row_conv_program(target, np.random.default_rng(1))
    assert program.field_overflows == 0
    result = run_program(program, inp=inp, wgt=wgt)
    np.testing.assert_array_equal(result.out, expected)
    assert (result.hazards, result.sram_overruns, result.dram_oob) == (0, 0, 0)
    assert result.counters == {
        "inp_load_nbytes": 12 * target.inp_elem_bytes,  # the padding is not counted
        "wgt_load_nbytes": 3 * target.wgt_elem_bytes,
        "acc_load_nbytes": 0,
        "uop_load_nbytes": 13 * target.uop_elem_bytes,
        "out_store_nbytes": 12 * target.out_elem_bytes,
        "gemm_counter": 36,
        "reset_counter": 12,
        "alu_counter": 36,
    }


# ---- the read-modify-write hazard ----------------------------------------------------------


def run_kernel(
    target: Target, kernel: list[tuple[int, int, int]], iters=(1, 1), *, reset_after: bool = False
):
    """INP[s] is all ``s + 1``, WGT[0] is the identity: op ``(d, s, 0)`` adds ``s + 1`` to d.

    With ``reset_after``, a reset GEMM of the same kernel follows the accumulating one.
    """
    b, blk = target.batch, target.block
    inp = np.broadcast_to(np.arange(1, 9, dtype=np.int8)[:, None, None], (8, b, blk))
    wgt = np.eye(blk, dtype=np.int8)[None]
    compute = [gemm((0, len(kernel)), iters=iters)]
    if reset_after:
        compute.append(gemm((0, len(kernel)), iters=iters, reset=1))
    fields = np.stack(
        [
            load(isa.MEM_INP, 0, 0, 1, 8),
            load(isa.MEM_WGT, 0, 0, 1, 1),
            load(isa.MEM_UOP, 0, 0, 1, len(kernel)),
            *compute,
            store(0, 0, 1, 4),
            FINISH,
        ]
    )
    return run_functional(target, fields, np.array(kernel), inp=inp, wgt=wgt, out_elems=4)


@pytest.mark.parametrize("distance", [1, 2])
def test_repeat_inside_window_loses_the_earlier_update(distance: int) -> None:
    kernel = [(0, 0, 0)] + [(1 + k, 7, 0) for k in range(distance - 1)] + [(0, 1, 0)]
    result = run_kernel(PYNQ, kernel)
    assert result.hazards == 1
    assert (result.acc[0] == 2).all()  # the second op read 0, not 1: only its own +2 survives
    assert (result.out[0] == 2).all()

    # Two passes: the second pass starts from the first's result, then loses again.
    result = run_kernel(PYNQ, kernel, iters=(2, 1))
    assert result.hazards == 2
    assert (result.acc[0] == 4).all()


def test_repeat_at_the_rmw_distance_is_the_plain_sum() -> None:
    d = PYNQ.rmw_distance
    kernel = [(0, 0, 0)] + [(1 + k, 7, 0) for k in range(d - 1)] + [(0, 1, 0)]
    result = run_kernel(PYNQ, kernel, iters=(2, 1))
    assert result.hazards == 0
    assert (result.acc[0] == 2 * (1 + 2)).all()
    assert (result.out[0] == 6).all()


def test_reset_gemm_zeroes_acc_and_outputs_what_it_read_plus_the_product() -> None:
    # ACC[0] is 1 (+1), then the reset op (0, 0, 0) outputs 1 + 1 and leaves 0.
    result = run_kernel(PYNQ, [(0, 0, 0)], reset_after=True)
    assert (result.acc[0] == 0).all() and (result.out[0] == 2).all()
    # Two passes: the second reads the first's committed 0, so it outputs the product alone.
    result = run_kernel(PYNQ, [(0, 0, 0)], iters=(2, 1), reset_after=True)
    assert (result.out[0] == 1).all()
    # Repeat at distance 1: the hazard loses the +1, so ACC is 2; the second reset op still
    # reads that 2 because the first reset's zero is in flight. Reset GEMMs count no hazard.
    result = run_kernel(PYNQ, [(0, 0, 0), (0, 1, 0)], reset_after=True)
    assert (result.acc[0] == 0).all() and (result.out[0] == 2 + 2).all()
    assert result.hazards == 1


def test_alu_chain_across_passes_is_sequential() -> None:
    """Pass i adds ACC[i] into ACC[i + 1]: passes drain, so this is a prefix sum."""
    acc = np.arange(1, 6, dtype=np.int32)[:, None, None] * np.ones((1, 1, 16), np.int32)
    fields = np.stack(
        [
            load(isa.MEM_ACC, 0, 0, 1, 5),
            load(isa.MEM_UOP, 0, 0, 1, 1),
            alu(isa.ALU_ADD, (0, 1), iters=(4, 1), dst=(1, 0), src=(1, 0)),
            FINISH,
        ]
    )
    result = run_functional(
        PYNQ,
        fields,
        np.array([(1, 0, 0)]),
        inp=np.zeros((0, 1, 16)),
        wgt=np.zeros((0, 16, 16)),
        out_elems=0,
        acc=acc,
    )
    np.testing.assert_array_equal(result.acc[:5, 0, 0], np.cumsum(np.arange(1, 6)))
    assert result.hazards == 0


# ---- wrapping and out-of-bounds ------------------------------------------------------------


def test_sram_index_wraps_to_the_start() -> None:
    depth = PYNQ.acc_depth
    acc = np.arange(5, dtype=np.int32)[:, None, None] * np.ones((1, 1, 16), np.int32)
    fields = np.stack([load(isa.MEM_ACC, depth - 2, 0, 1, 5), FINISH])
    result = run_functional(
        PYNQ,
        fields,
        np.zeros((0, 3)),
        inp=np.zeros((0, 1, 16)),
        wgt=np.zeros((0, 16, 16)),
        out_elems=0,
        acc=acc,
    )
    np.testing.assert_array_equal(result.acc[depth - 2 :], acc[:2])
    np.testing.assert_array_equal(result.acc[:3], acc[2:])
    assert result.sram_overruns == 3
    assert result.counters["acc_load_nbytes"] == 5 * PYNQ.acc_elem_bytes


def test_dram_outside_the_region_reads_zero_and_drops_writes() -> None:
    inp = np.ones((4, 1, 16), np.int8)
    fields = np.stack(
        [
            load(isa.MEM_INP, 0, 2, 1, 4),  # elements 2, 3 exist; 4, 5 do not
            load(isa.MEM_WGT, 0, 0, 1, 1),
            load(isa.MEM_UOP, 0, 0, 1, 4),
            gemm((0, 4)),
            store(0, 1, 1, 4),
            FINISH,
        ]
    )
    kernel = np.array([(k, k, 0) for k in range(4)])
    result = run_functional(
        PYNQ, fields, kernel, inp=inp, wgt=np.eye(16, dtype=np.int8)[None], out_elems=3
    )
    np.testing.assert_array_equal(result.acc[:4, 0, 0], [1, 1, 0, 0])
    np.testing.assert_array_equal(result.out[1:, 0, 0], [1, 1])  # OUT[2] lands at DRAM 3: dropped
    assert result.dram_oob == 2 + 2


# ---- properties against the op-by-op reference --------------------------------------------


@st.composite
def kernels(draw, target: Target = TINY):
    n = draw(st.integers(1, 6))
    return [
        (
            draw(st.integers(0, target.acc_depth - 1)),
            draw(st.integers(0, target.inp_depth - 1)),
            draw(st.integers(0, target.wgt_depth - 1)),
        )
        for _ in range(n)
    ]


@st.composite
def compute_insns(draw, kernel_len: int, target: Target = TINY):
    iters = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dst = (draw(st.integers(0, target.acc_depth - 1)), draw(st.integers(0, target.acc_depth - 1)))
    src = (draw(st.integers(0, target.inp_depth - 1)), draw(st.integers(0, target.inp_depth - 1)))
    bgn = draw(st.integers(0, kernel_len - 1))
    uops = (bgn, draw(st.integers(bgn + 1, kernel_len)))
    if draw(st.booleans()):
        wgt = (draw(st.integers(0, target.wgt_depth - 1)), draw(st.integers(0, 3)))
        return gemm(uops, iters, dst, src, wgt, reset=int(draw(st.booleans())))
    imm = draw(st.none() | st.integers(-(2**15), 2**15 - 1))
    f = alu(draw(st.integers(0, 4)), uops, iters, dst, src, imm)
    f[isa.F_RESET] = int(draw(st.integers(0, 4)) == 0)
    return f


def run_both(target: Target, kernel, insns, seed: int, *, pipeline: bool = True):
    """Run ``insns`` after loading random full SRAMs, with fsim and with the naive reference."""
    rng = np.random.default_rng(seed)
    b, blk = target.batch, target.block
    inp = rng.integers(-128, 128, (target.inp_depth, b, blk), dtype=np.int8)
    wgt = rng.integers(-128, 128, (target.wgt_depth, blk, blk), dtype=np.int8)
    acc = rng.integers(-(2**31), 2**31, (target.acc_depth, b, blk), dtype=np.int64)
    acc = np.where(rng.random(acc.shape) < 0.5, acc >> 20, acc).astype(np.int32)
    fields = np.stack(
        [
            load(isa.MEM_INP, 0, 0, 1, target.inp_depth),
            load(isa.MEM_WGT, 0, 0, 1, target.wgt_depth),
            load(isa.MEM_ACC, 0, 0, 1, target.acc_depth),
            load(isa.MEM_UOP, 0, 0, 1, len(kernel)),
            *insns,
            store(0, 0, 1, target.acc_depth),
            FINISH,
        ]
    )
    result = run_functional(
        target, fields, np.array(kernel), inp=inp, wgt=wgt, acc=acc, out_elems=target.acc_depth
    )
    uop_sram = np.zeros((target.uop_depth, 3), np.int64)
    uop_sram[: len(kernel)] = kernel
    ref_acc, ref_out = acc.astype(np.int64), np.zeros(acc.shape, np.int8)
    hazards = naive_compute(target, insns, uop_sram, inp, wgt, ref_acc, ref_out, pipeline=pipeline)
    return result, ref_acc, ref_out, hazards


@settings(max_examples=60, deadline=None)
@given(data=st.data(), kernel=kernels(), seed=st.integers(0, 2**32 - 1))
def test_hazard_free_gemm_equals_sequential_loop(data, kernel, seed) -> None:
    window = TINY.rmw_distance - 1
    assume(
        all(
            kernel[a][0] != kernel[b][0]
            for b in range(len(kernel))
            for a in range(max(0, b - window), b)
        )
    )
    f = data.draw(compute_insns(len(kernel)))
    f[isa.F_OPCODE], f[isa.F_RESET] = isa.OP_GEMM, 0
    f[isa.F_UOP_BGN], f[isa.F_UOP_END] = 0, len(kernel)
    result, acc, out, _ = run_both(TINY, kernel, [f], seed, pipeline=False)
    assert result.hazards == 0
    np.testing.assert_array_equal(result.acc, acc)
    np.testing.assert_array_equal(result.out, out)
    assert result.counters["gemm_counter"] == f[isa.F_ITER_OUT] * f[isa.F_ITER_IN] * len(kernel)


@settings(max_examples=150, deadline=None)
@given(data=st.data(), kernel=kernels(), seed=st.integers(0, 2**32 - 1))
def test_any_compute_stream_equals_pipelined_op_by_op_model(data, kernel, seed) -> None:
    insns = [data.draw(compute_insns(len(kernel))) for _ in range(data.draw(st.integers(1, 3)))]
    result, acc, out, hazards = run_both(TINY, kernel, insns, seed)
    np.testing.assert_array_equal(result.acc, acc)
    np.testing.assert_array_equal(result.out, out)
    assert result.hazards == hazards


# ---- a whole convolution on every target --------------------------------------------------


def conv_program(target: Target, wl: Conv2D) -> isa.Program:
    """One-tile 3×3 stride-1 pad-1 conv: per output-channel block a kernel of (kh, kw, x) uops,
    iterated over rows (iter_out) and input-channel blocks (iter_in); then the epilogue."""
    n_ic, n_oc, h, w = wl.ic // target.block, wl.oc // target.block, wl.h, wl.w
    plane = (h + 2) * (w + 2)
    uops = [(0, 0, 0)]
    for oc in range(n_oc):
        uops += [
            (oc * h * w + x, kh * (w + 2) + kw + x, oc * n_ic * 9 + kh * 3 + kw)
            for kh in range(3)
            for kw in range(3)
            for x in range(w)
        ]
    every = dict(iters=(n_oc * h, w), dst=(w, 1), src=(w, 1))
    fields = [
        load(isa.MEM_INP, ic * plane, ic * h * w, h, w, pad=(1, 1, 1, 1)) for ic in range(n_ic)
    ]
    fields += [
        load(isa.MEM_WGT, 0, 0, 1, n_oc * n_ic * 9),
        load(isa.MEM_UOP, 0, 0, 1, len(uops)),
        gemm((0, 1), reset=1, **every),
    ]
    fields += [
        gemm(
            (1 + oc * 9 * w, 1 + (oc + 1) * 9 * w),
            iters=(h, n_ic),
            dst=(w, 0),
            src=(w + 2, plane),
            wgt=(0, 9),
        )
        for oc in range(n_oc)
    ]
    fields += [
        alu(isa.ALU_SHR, (0, 1), imm=wl.epilogue_shift, **every),
        alu(isa.ALU_MAX, (0, 1), imm=0, **every),
        alu(isa.ALU_MIN, (0, 1), imm=127, **every),
        store(0, 0, 1, n_oc * h * w),
        FINISH,
    ]
    return isa.Program(
        target,
        np.stack(fields),
        np.array(uops),
        dram_elems={
            isa.MEM_INP: n_ic * h * w,
            isa.MEM_WGT: n_oc * n_ic * 9,
            isa.MEM_UOP: len(uops),
            isa.MEM_OUT: n_oc * h * w,
        },
    )


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.name)
def test_conv_matches_reference(target: Target) -> None:
    wl = Conv2D("t", target.batch, 16, 16, 4 * target.block, 4 * target.block, 3, 1, 1)
    if target.batch > 1:
        wl = Conv2D("t", target.batch, 8, 8, 2 * target.block, 2 * target.block, 3, 1, 1)
    data, kernel = random_operands(wl, seed=7)
    program = conv_program(target, wl)
    assert program.field_overflows == 0
    inp = pack_data(data, target.batch, target.block).reshape(-1, target.batch, target.block)
    wgt = pack_kernel(kernel, target.block).reshape(-1, target.block, target.block)
    result = run_program(program, inp=inp, wgt=wgt)
    out = result.out.reshape(1, wl.oc // target.block, wl.h, wl.w, target.batch, target.block)
    np.testing.assert_array_equal(unpack_output(out), reference_conv2d(wl, data, kernel))
    assert (result.hazards, result.sram_overruns, result.dram_oob) == (0, 0, 0)


def test_reference_adds_the_bias_before_the_shift_and_clips():
    # With zero weights the output is the epilogue of the bias alone.
    wl = Conv2D("b", 1, 4, 4, 16, 32, 3, 1, 1, shift=4)
    data, _ = random_operands(wl, seed=1)
    kernel = np.zeros((wl.oc, wl.ic, 3, 3), np.int8)
    bias = np.arange(-16, 16, dtype=np.int32) * 200
    out = reference_conv2d(wl, data, kernel, bias=bias, clip_lo=-128)
    expected = np.clip(bias >> 4, -128, 127)
    assert (out == expected[None, :, None, None]).all()
    assert out.min() == -128 and out.max() == 127  # both ends clip
    relu = reference_conv2d(wl, data, kernel, bias=bias)  # TVM's clip at 0
    assert relu.min() == 0
    small = bias // 200  # TVM adds the bias after the shift: it is not shifted
    after = reference_conv2d(wl, data, kernel, bias=small, shift_first=True, clip_lo=-128)
    assert (after == small[None, :, None, None]).all()
