"""Encoding: VTA's bit positions, every field that fits round-trips, a value that does not wraps.

The expected positions below are written out by hand, not computed by the code under test.
For the default target (15_15_18_17) they are read off apache/tvm-vta
``include/vta/hw_spec.h`` (``VTAMemInsn``, ``VTAGemInsn``, ``VTAAluInsn``: ``uint64_t``
bit-fields, none straddling a 64-bit word; ``VTAUop``: ``uint32_t`` bit-fields) and agree with
``hardware/chisel/src/main/scala/core/Decode.scala`` (``MemDecode`` with its 6-bit
``empty_0`` at 58..63, ``GemmDecode``/``AluDecode`` with a 1-bit ``empty_0`` at 63, ``UopDecode``
11/11/10) and ``ISA.scala`` (``C_AIDX_BITS = 11``, ``C_IIDX_BITS = 11``, ``C_WIDX_BITS = 10``,
``C_UOP_BGN_BITS = 13``). For the other targets they apply the same C rule by hand to the
widths hw_spec.h derives; they are the table in docs/vta-model.md.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ml2tuner.vta import _bitfields, isa
from ml2tuner.vta.target import PRESETS, parse_model_string

# VTAGenericInsn: what FINISH carries, and the head of every instruction.
_HEADER = [
    ("opcode", 0, 3),
    ("pop_prev", 3, 1),
    ("pop_next", 4, 1),
    ("push_prev", 5, 1),
    ("push_next", 6, 1),
]
# VTAMemInsn: 58 bits in word 0, y_size starts word 1. The same for every target.
_MEM = _HEADER + [
    ("memory_type", 7, 3),
    ("sram_base", 10, 16),
    ("dram_base", 26, 32),
    ("y_size", 64, 16),
    ("x_size", 80, 16),
    ("x_stride", 96, 16),
    ("y_pad_0", 112, 4),
    ("y_pad_1", 116, 4),
    ("x_pad_0", 120, 4),
    ("x_pad_1", 124, 4),
]
# VTAGemInsn/VTAAluInsn up to iter_in: 63 bits in word 0 for a 13-bit uop_bgn.
_LOOP = _HEADER + [
    ("reset", 7, 1),
    ("uop_bgn", 8, 13),
    ("uop_end", 21, 14),
    ("iter_out", 35, 14),
    ("iter_in", 49, 14),
]


def _loop(dst, src, tail):
    """Word 1 of GEMM/ALU: dst factors from bit 64, then src factors, then the family's tail."""
    (d, dw), (s, sw) = dst, src
    return _LOOP + [
        ("dst_factor_out", d, dw),
        ("dst_factor_in", d + dw, dw),
        ("src_factor_out", s, sw),
        ("src_factor_in", s + sw, sw),
        *tail,
    ]


EXPECTED = {
    # Default 1x16 15_15_18_17: ACC/INP/WGT/UOP depths 2^11/2^11/2^10/2^13 (hw_spec.h).
    "pynq": dict(
        insn_bits=128,
        uop_bits=32,
        mem=_MEM,
        gemm=_loop((64, 11), (86, 11), [("wgt_factor_out", 108, 10), ("wgt_factor_in", 118, 10)]),
        alu=_loop(
            (64, 11), (86, 11), [("alu_opcode", 108, 3), ("use_imm", 111, 1), ("imm", 112, 16)]
        ),
        uop=[("dst", 0, 11), ("src", 11, 11), ("wgt", 22, 10)],
    ),
    # 4x8 batch 4, 15_16_16_18: the same depths, so the same layout.
    "pynq_4x8_i8w8a32_15_16_16_18": dict(
        insn_bits=128,
        uop_bits=32,
        mem=_MEM,
        gemm=_loop((64, 11), (86, 11), [("wgt_factor_out", 108, 10), ("wgt_factor_in", 118, 10)]),
        alu=_loop(
            (64, 11), (86, 11), [("alu_opcode", 108, 3), ("use_imm", 111, 1), ("imm", 112, 16)]
        ),
        uop=[("dst", 0, 11), ("src", 11, 11), ("wgt", 22, 10)],
    ),
    # 15_15_18_16: ACC depth 2^10 < INP depth 2^11. ALU source factors are ACC-wide (10 bits),
    # so alu_opcode/use_imm/imm move down; the uop src_idx is max(10, 11) = 11 bits.
    "pynq_1x16_i8w8a32_15_15_18_16": dict(
        insn_bits=128,
        uop_bits=32,
        mem=_MEM,
        gemm=_loop((64, 10), (84, 11), [("wgt_factor_out", 106, 10), ("wgt_factor_in", 116, 10)]),
        alu=_loop(
            (64, 10), (84, 10), [("alu_opcode", 104, 3), ("use_imm", 107, 1), ("imm", 108, 16)]
        ),
        uop=[("dst", 0, 10), ("src", 10, 11), ("wgt", 21, 10)],
    ),
    # zcu102 16_16_19_18: 12/12/11-bit indices. wgt_factor_in and imm would cross bit 128, so
    # they start word 2 (our extension: 192-bit instructions); the uop's wgt_idx would cross
    # bit 32 and starts the second uint32_t (64-bit uops, 8192 of them: uop_bgn stays 13 bits).
    "zcu102": dict(
        insn_bits=192,
        uop_bits=64,
        mem=_MEM,
        gemm=_loop((64, 12), (88, 12), [("wgt_factor_out", 112, 11), ("wgt_factor_in", 128, 11)]),
        alu=_loop(
            (64, 12), (88, 12), [("alu_opcode", 112, 3), ("use_imm", 115, 1), ("imm", 128, 16)]
        ),
        uop=[("dst", 0, 12), ("src", 12, 12), ("wgt", 32, 11)],
    ),
}
TARGETS = {name: PRESETS.get(name) or parse_model_string(name) for name in EXPECTED}
_FAMILY = {
    isa.OP_LOAD: "mem",
    isa.OP_STORE: "mem",
    isa.OP_GEMM: "gemm",
    isa.OP_ALU: "alu",
    isa.OP_FINISH: None,
}
_UOP_COLUMN = {"dst": isa.U_DST, "src": isa.U_SRC, "wgt": isa.U_WGT}


def _expected_fields(name: str, opcode: int) -> list[tuple[int, int, int]]:
    """``(column, offset, width)`` of each field of ``opcode`` from the hand-written table."""
    family = _FAMILY[opcode]
    fields = EXPECTED[name][family] if family else _HEADER
    return [(isa.FIELD_NAMES.index(field), offset, width) for field, offset, width in fields]


def _bits(words_row: np.ndarray) -> int:
    """One encoded row as a single integer, word 0 in the low 64 bits."""
    return sum(int(word) << (64 * k) for k, word in enumerate(words_row))


def _field_value(bits: int, offset: int, width: int, signed: bool) -> int:
    value = (bits >> offset) & ((1 << width) - 1)
    return value - (1 << width) if signed and value >> (width - 1) else value


def _fits(col: int, width: int):
    if col in isa.SIGNED_FIELDS:
        return st.integers(-(1 << (width - 1)), (1 << (width - 1)) - 1)
    return st.integers(0, (1 << width) - 1)


@st.composite
def instructions(draw, name):
    opcode = draw(st.sampled_from(list(_FAMILY)))
    row = np.zeros(isa.NUM_FIELDS, dtype=np.int64)
    row[isa.F_OPCODE] = opcode
    for col, _, width in _expected_fields(name, opcode)[1:]:
        row[col] = draw(_fits(col, width))
    return row


@pytest.mark.parametrize("name", EXPECTED)
def test_layout_is_the_documented_one(name):
    layout, expected = isa.layout_for(TARGETS[name]), EXPECTED[name]
    assert (layout.insn_bits, layout.uop_bits) == (expected["insn_bits"], expected["uop_bits"])
    for opcode in _FAMILY:
        assert list(layout.for_opcode(opcode)) == _expected_fields(name, opcode)
    uop = [(_UOP_COLUMN[field], offset, width) for field, offset, width in expected["uop"]]
    assert list(layout.uop) == uop


@pytest.mark.parametrize("name", EXPECTED)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_every_instruction_kind_round_trips_at_the_documented_bits(name, data):
    layout = isa.layout_for(TARGETS[name])
    rows = np.array(data.draw(st.lists(instructions(name), min_size=1, max_size=20)))
    words, overflows = isa.encode(rows, layout)
    assert overflows == 0
    assert words.shape == (len(rows), EXPECTED[name]["insn_bits"] // 64)
    assert (isa.decode(words, layout) == rows).all()
    for row, words_row in zip(rows, words, strict=True):
        bits, covered = _bits(words_row), 0
        for col, offset, width in _expected_fields(name, int(row[isa.F_OPCODE])):
            signed = col in isa.SIGNED_FIELDS
            assert _field_value(bits, offset, width, signed) == row[col], isa.FIELD_NAMES[col]
            covered |= ((1 << width) - 1) << offset
        assert bits & ~covered == 0  # the holes (Decode.scala's empty_*) stay zero


@pytest.mark.parametrize("name", EXPECTED)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_uops_round_trip_at_the_documented_bits(name, data):
    layout, expected = isa.layout_for(TARGETS[name]), EXPECTED[name]["uop"]
    drawn = data.draw(
        st.lists(
            st.tuples(*(st.integers(0, (1 << width) - 1) for _, _, width in expected)),
            min_size=1,
            max_size=30,
        )
    )
    uops = np.array(drawn, dtype=np.int64).reshape(-1, 3)
    words, overflows = isa.encode_uops(uops, layout)
    assert overflows == 0
    assert (isa.decode_uops(words, layout) == uops).all()
    for uop, words_row in zip(uops, words, strict=True):
        bits = _bits(words_row)
        assert bits < 1 << EXPECTED[name]["uop_bits"]
        for field, offset, width in expected:
            assert _field_value(bits, offset, width, False) == uop[_UOP_COLUMN[field]], field


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
    assert decoded[0, isa.F_X_SIZE] == decoded[0, isa.F_Y_PAD1] == 0


def test_alu_source_factors_wrap_at_the_acc_width():
    """On a target with ACC narrower than INP, an ALU source factor that fits the INP index but
    not the ACC index wraps, while the same value in a GEMM does not."""
    layout = isa.layout_for(TARGETS["pynq_1x16_i8w8a32_15_15_18_16"])
    rows = np.zeros((2, isa.NUM_FIELDS), dtype=np.int64)
    rows[:, isa.F_OPCODE] = (isa.OP_ALU, isa.OP_GEMM)
    rows[:, isa.F_SRC_OUT] = 1500  # < 2^11 (INP depth), ≥ 2^10 (ACC depth)
    rows[0, isa.F_IMM] = -3
    words, overflows = isa.encode(rows, layout)
    decoded = isa.decode(words, layout)
    assert overflows == 1
    assert decoded[0, isa.F_SRC_OUT] == 1500 % 1024 and decoded[1, isa.F_SRC_OUT] == 1500
    assert decoded[0, isa.F_IMM] == -3  # the wrapped factor did not spill into its neighbours


def test_negative_immediate_is_signed():
    layout = isa.layout_for(PRESETS["pynq"])
    row = np.zeros((1, isa.NUM_FIELDS), dtype=np.int64)
    row[0, isa.F_OPCODE], row[0, isa.F_IMM], row[0, isa.F_ALU_OP] = isa.OP_ALU, -5, isa.ALU_MAX
    words, overflows = isa.encode(row, layout)
    assert overflows == 0 and isa.decode(words, layout)[0, isa.F_IMM] == -5
    assert int(words[0, 1]) >> 48 == (1 << 16) - 5  # imm is bits 112..127: word 1, bit 48


@pytest.mark.parametrize(
    ("widths", "unit", "offsets", "size"),
    [
        ((3, 4, 3, 16, 32, 16), 64, (0, 3, 7, 10, 26, 64), 128),  # VTAMemInsn's head
        ((11, 11, 10), 32, (0, 11, 22), 32),
        ((12, 12, 11), 32, (0, 12, 32), 64),
        ((64, 1), 64, (0, 64), 128),
        ((5,), 64, (0,), 64),
    ],
)
def test_a_bit_field_that_would_cross_a_unit_starts_the_next(widths, unit, offsets, size):
    assert _bitfields.pack(widths, unit) == (offsets, size)


@pytest.mark.parametrize("name", ["pynq", "zcu102"])
@settings(max_examples=80, deadline=None)
@given(data=st.data())
def test_a_program_counts_what_encoding_loses(name, data):
    """Program tells what encoding loses without decoding: a value is lost exactly when
    decoding the words does not give it back; a lost value of a field its family holds wrapped
    (a field overflow), one of another column is dropped. Both are read off the round trip."""
    target = TARGETS[name]
    layout = isa.layout_for(target)
    rows = np.array(data.draw(st.lists(instructions(name), min_size=1, max_size=12)))
    uops = np.array(
        data.draw(st.lists(st.tuples(*[st.integers(0, 1 << 12)] * 3), min_size=1, max_size=8)),
        dtype=np.int64,
    ).reshape(-1, 3)
    # Any column of some rows set to any value: in or out of its field's range, or held by no
    # field of the row's family.
    for _ in range(data.draw(st.integers(0, 3))):
        r = data.draw(st.integers(0, len(rows) - 1))
        col = data.draw(st.integers(1, isa.NUM_FIELDS - 1))
        rows[r, col] = data.draw(st.integers(-(1 << 20), 1 << 40))
    program = isa.Program(target, rows, uops)
    decoded, decoded_uops = (
        isa.decode(program.words, layout),
        isa.decode_uops(program.uop_words, layout),
    )
    held = np.zeros_like(rows, dtype=bool)
    for r, opcode in enumerate(rows[:, isa.F_OPCODE]):
        held[r, [f.column for f in layout.for_opcode(int(opcode))]] = True
    lost = decoded != rows
    assert program.field_overflows == (lost & held).sum() + (decoded_uops != uops).sum()
    assert program.lossless == (not lost.any() and (decoded_uops == uops).all())
    fields, executed_uops = program.executed()
    np.testing.assert_array_equal(fields, decoded)
    np.testing.assert_array_equal(executed_uops, decoded_uops)
