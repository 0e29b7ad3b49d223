"""Encoding: every field that fits round-trips; a value that does not fit wraps."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ml2tuner.vta import isa
from ml2tuner.vta.target import PRESETS, parse_model_string

TARGETS = [PRESETS["pynq"], PRESETS["zcu102"], parse_model_string("pynq_4x8_i8w8a32_15_16_16_18")]


def _fits(col: int, width: int):
    if col in isa.SIGNED_FIELDS:
        return st.integers(-(1 << (width - 1)), (1 << (width - 1)) - 1)
    return st.integers(0, (1 << width) - 1)


@st.composite
def instructions(draw, layout):
    opcode = draw(
        st.sampled_from([isa.OP_LOAD, isa.OP_STORE, isa.OP_GEMM, isa.OP_ALU, isa.OP_FINISH])
    )
    row = np.zeros(isa.NUM_FIELDS, dtype=np.int64)
    row[isa.F_OPCODE] = opcode
    for col, width in layout.for_opcode(opcode)[1:]:
        row[col] = draw(_fits(col, width))
    return row


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.name)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_every_field_that_fits_round_trips(target, data):
    layout = isa.layout_for(target)
    rows = np.array(data.draw(st.lists(instructions(layout), min_size=1, max_size=20)))
    words, overflows = isa.encode(rows, layout)
    assert overflows == 0
    assert words.shape == (len(rows), layout.insn_bits // 64)
    assert (isa.decode(words, layout) == rows).all()


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.name)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_uops_round_trip(target, data):
    layout = isa.layout_for(target)
    widths = [w for _, w in layout.uop]
    uops = np.array(
        data.draw(
            st.lists(
                st.tuples(*(st.integers(0, (1 << w) - 1) for w in widths)), min_size=1, max_size=30
            )
        )
    )
    words, overflows = isa.encode_uops(uops, layout)
    assert overflows == 0
    assert (isa.decode_uops(words, layout) == uops).all()


def test_a_value_that_does_not_fit_wraps_and_is_counted():
    layout = isa.layout_for(PRESETS["pynq"])
    row = np.zeros((1, isa.NUM_FIELDS), dtype=np.int64)
    row[0, isa.F_OPCODE] = isa.OP_LOAD
    row[0, isa.F_MEM_TYPE] = isa.MEM_INP
    row[0, isa.F_X_STRIDE] = 90000  # 16-bit field
    row[0, isa.F_Y_PAD0] = 17  # 4-bit field
    words, overflows = isa.encode(row, layout)
    decoded = isa.decode(words, layout)
    assert overflows == 2
    assert decoded[0, isa.F_X_STRIDE] == 90000 % (1 << 16)
    assert decoded[0, isa.F_Y_PAD0] == 17 % 16
    assert decoded[0, isa.F_MEM_TYPE] == isa.MEM_INP  # neighbours untouched


def test_negative_immediate_is_signed():
    layout = isa.layout_for(PRESETS["pynq"])
    row = np.zeros((1, isa.NUM_FIELDS), dtype=np.int64)
    row[0, isa.F_OPCODE], row[0, isa.F_IMM], row[0, isa.F_ALU_OP] = isa.OP_ALU, -5, isa.ALU_MAX
    words, overflows = isa.encode(row, layout)
    assert overflows == 0 and isa.decode(words, layout)[0, isa.F_IMM] == -5


def test_field_widths_follow_the_buffer_depths():
    pynq, zcu = isa.layout_for(PRESETS["pynq"]), isa.layout_for(PRESETS["zcu102"])
    width = {col: w for col, w in pynq.gemm}
    assert (width[isa.F_UOP_BGN], width[isa.F_UOP_END]) == (13, 14)
    assert (width[isa.F_DST_OUT], width[isa.F_SRC_OUT], width[isa.F_WGT_OUT]) == (11, 11, 10)
    assert sum(w for _, w in pynq.uop) == 32 and pynq.insn_bits == 128
    # zcu102 (16_16_19_18): 12/12/11-bit indices do not fit a 32-bit uop or a 128-bit GEMM.
    assert [w for _, w in zcu.uop] == [12, 12, 11] and zcu.uop_bits == 64
    assert zcu.insn_bits == 192
