"""The VTA instruction set: field layouts, bit-exact encoding and decoding, programs.

Instructions are held in two forms:

* **fields** — an ``int64`` array of shape ``(n, NUM_FIELDS)``, one column per field (the
  column indices are the ``F_*`` constants below). Unused columns of an instruction are 0.
* **words** — the encoded bits, a ``uint64`` array of shape ``(n, insn_bits // 64)``; word 0
  holds bits 0..63. Each field sits where C places the ``uint64_t`` bit-fields of
  ``hw_spec.h``'s instruction structs (the rule is in ``_bitfields.py``; the positions are
  tabulated in docs/vta-model.md), with the widths ``hw_spec.h`` derives from the target's
  buffer depths.

What the compiler meant (fields) and what the hardware runs (``decode(encode(fields))``) differ
exactly when a value does not fit its field: it wraps, as it would on the board. Micro-ops are
``(dst, src, wgt)`` index triples laid out as ``hw_spec.h``'s ``VTAUop`` (``uint32_t``
bit-fields) in a word of ``target.uop_bits`` bits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache, cached_property
from typing import NamedTuple

import numpy as np
from numba import njit

from . import _bitfields
from .target import Target

# Opcodes, memory ids and ALU opcodes (hw_spec.h).
OP_LOAD, OP_STORE, OP_GEMM, OP_FINISH, OP_ALU = 0, 1, 2, 3, 4
MEM_UOP, MEM_WGT, MEM_INP, MEM_ACC, MEM_OUT = 0, 1, 2, 3, 4
ALU_MIN, ALU_MAX, ALU_ADD, ALU_SHR, ALU_MUL = 0, 1, 2, 3, 4
OPCODE_NAMES = {
    OP_LOAD: "LOAD",
    OP_STORE: "STORE",
    OP_GEMM: "GEMM",
    OP_FINISH: "FINISH",
    OP_ALU: "ALU",
}
MEM_NAMES = {MEM_UOP: "uop", MEM_WGT: "wgt", MEM_INP: "inp", MEM_ACC: "acc", MEM_OUT: "out"}
LOOP_ITER_WIDTH = 14  # VTA_LOOP_ITER_WIDTH
MEM_SRAM_WIDTH, MEM_DRAM_WIDTH, MEM_SIZE_WIDTH, MEM_STRIDE_WIDTH, MEM_PAD_WIDTH = 16, 32, 16, 16, 4
ALU_IMM_WIDTH = 16

# Column indices of the decoded field array.
(
    F_OPCODE,
    F_POP_PREV,
    F_POP_NEXT,
    F_PUSH_PREV,
    F_PUSH_NEXT,
    F_MEM_TYPE,
    F_SRAM_BASE,
    F_DRAM_BASE,
    F_Y_SIZE,
    F_X_SIZE,
    F_X_STRIDE,
    F_Y_PAD0,
    F_Y_PAD1,
    F_X_PAD0,
    F_X_PAD1,
    F_RESET,
    F_UOP_BGN,
    F_UOP_END,
    F_ITER_OUT,
    F_ITER_IN,
    F_DST_OUT,
    F_DST_IN,
    F_SRC_OUT,
    F_SRC_IN,
    F_WGT_OUT,
    F_WGT_IN,
    F_ALU_OP,
    F_USE_IMM,
    F_IMM,
) = range(29)
NUM_FIELDS = 29
FIELD_NAMES = (
    "opcode",
    "pop_prev",
    "pop_next",
    "push_prev",
    "push_next",
    "memory_type",
    "sram_base",
    "dram_base",
    "y_size",
    "x_size",
    "x_stride",
    "y_pad_0",
    "y_pad_1",
    "x_pad_0",
    "x_pad_1",
    "reset",
    "uop_bgn",
    "uop_end",
    "iter_out",
    "iter_in",
    "dst_factor_out",
    "dst_factor_in",
    "src_factor_out",
    "src_factor_in",
    "wgt_factor_out",
    "wgt_factor_in",
    "alu_opcode",
    "use_imm",
    "imm",
)
SIGNED_FIELDS = frozenset({F_IMM})

# Uop columns.
U_DST, U_SRC, U_WGT = 0, 1, 2


class Field(NamedTuple):
    """One field of an encoded word: its column in the field array, first bit and width."""

    column: int
    offset: int
    width: int


@dataclass(frozen=True)
class Layout:
    """Bit layout of every instruction family and of the micro-op word for one target."""

    mem: tuple[Field, ...]
    gemm: tuple[Field, ...]
    alu: tuple[Field, ...]
    header: tuple[Field, ...]
    uop: tuple[Field, ...]
    insn_bits: int
    uop_bits: int

    def for_opcode(self, opcode: int) -> tuple[Field, ...]:
        """The fields an instruction with ``opcode`` carries (FINISH and unknown: the header)."""
        if opcode in (OP_LOAD, OP_STORE):
            return self.mem
        if opcode == OP_GEMM:
            return self.gemm
        if opcode == OP_ALU:
            return self.alu
        return self.header

    @property
    def words(self) -> int:
        """64-bit words per instruction."""
        return self.insn_bits // 64

    @property
    def uop_words(self) -> int:
        """64-bit words holding one micro-op (its high bits are zero when it is 32 bits)."""
        return -(-self.uop_bits // 64)


def _place(declared: tuple[tuple[int, int], ...], unit_bits: int) -> tuple[tuple[Field, ...], int]:
    """Fields ``(column, width)`` in hw_spec.h's declaration order, laid out as C does."""
    offsets, size = _bitfields.pack([width for _, width in declared], unit_bits)
    placed = tuple(
        Field(col, offset, width) for (col, width), offset in zip(declared, offsets, strict=True)
    )
    return placed, size


@cache
def layout_for(target: Target) -> Layout:
    """Field layouts of ``target``: hw_spec.h's structs with widths from its buffer depths.

    Every field sits where C puts a ``uint64_t`` bit-field (``uint32_t`` for the micro-op):
    declaration order, and a field that would cross a word boundary starts the next word
    (``_bitfields.pack``). The instruction is as wide as the widest family, a whole number of
    64-bit words: 128 bits for VTA's presets; more only for targets whose index widths do not
    fit (zcu102: 192), our extension documented in docs/vta-model.md.
    """
    u, a, i, w = (
        target.log_uop_depth,
        target.log_acc_depth,
        target.log_inp_depth,
        target.log_wgt_depth,
    )
    header = ((F_OPCODE, 3), (F_POP_PREV, 1), (F_POP_NEXT, 1), (F_PUSH_PREV, 1), (F_PUSH_NEXT, 1))
    mem = header + (
        (F_MEM_TYPE, 3),
        (F_SRAM_BASE, MEM_SRAM_WIDTH),
        (F_DRAM_BASE, MEM_DRAM_WIDTH),
        (F_Y_SIZE, MEM_SIZE_WIDTH),
        (F_X_SIZE, MEM_SIZE_WIDTH),
        (F_X_STRIDE, MEM_STRIDE_WIDTH),
        (F_Y_PAD0, MEM_PAD_WIDTH),
        (F_Y_PAD1, MEM_PAD_WIDTH),
        (F_X_PAD0, MEM_PAD_WIDTH),
        (F_X_PAD1, MEM_PAD_WIDTH),
    )
    loop = header + (
        (F_RESET, 1),
        (F_UOP_BGN, u),
        (F_UOP_END, u + 1),
        (F_ITER_OUT, LOOP_ITER_WIDTH),
        (F_ITER_IN, LOOP_ITER_WIDTH),
        (F_DST_OUT, a),
        (F_DST_IN, a),
    )
    # VTAGemInsn's source factors index INP; VTAAluInsn's index ACC (its source is ACC).
    gemm = loop + ((F_SRC_OUT, i), (F_SRC_IN, i), (F_WGT_OUT, w), (F_WGT_IN, w))
    alu = loop + (
        (F_SRC_OUT, a),
        (F_SRC_IN, a),
        (F_ALU_OP, 3),
        (F_USE_IMM, 1),
        (F_IMM, ALU_IMM_WIDTH),
    )
    families = [_place(fam, 64) for fam in (mem, gemm, alu, header)]
    insn_bits = max(size for _, size in families)
    uop, _ = _place(tuple(zip((U_DST, U_SRC, U_WGT), target.uop_field_widths, strict=True)), 32)
    (mem_f, _), (gemm_f, _), (alu_f, _), (header_f, _) = families
    return Layout(mem_f, gemm_f, alu_f, header_f, uop, insn_bits, target.uop_bits)


@cache
def _tables(fams: tuple[tuple[Field, ...], ...]) -> tuple[np.ndarray, ...]:
    """Families of fields as arrays for the compiled kernels: per family the column, bit
    offset, width (0 marks an unused slot) and signedness of each field."""
    most = max(len(f) for f in fams)
    cols = np.zeros((len(fams), most), dtype=np.int64)
    offsets = np.zeros((len(fams), most), dtype=np.int64)
    widths = np.zeros((len(fams), most), dtype=np.int64)
    signed = np.zeros((len(fams), most), dtype=np.int64)
    for f, fam in enumerate(fams):
        for k, (col, offset, width) in enumerate(fam):
            cols[f, k], offsets[f, k], widths[f, k] = col, offset, width
            signed[f, k] = col in SIGNED_FIELDS
    return cols, offsets, widths, signed


def _insn_tables(layout: Layout) -> tuple[np.ndarray, ...]:
    return _tables((layout.mem, layout.gemm, layout.alu, layout.header))


def _family_of(opcodes: np.ndarray) -> np.ndarray:
    """Index into ``_insn_tables`` of each instruction's family, from its 3-bit opcode."""
    return _FAMILY_OF_OPCODE[np.asarray(opcodes, dtype=np.int64) & 7]


_FAMILY_OF_OPCODE = np.full(8, 3, dtype=np.int64)  # by opcode: mem, gemm, alu, header (3)
_FAMILY_OF_OPCODE[[OP_LOAD, OP_STORE, OP_GEMM, OP_ALU]] = (0, 0, 1, 2)
_ONE_FAMILY = np.zeros(8, dtype=np.int64)  # uops: one layout whatever their column 0


@njit(cache=True)
def _encode_kernel(values, family, n_words, cols, offsets, widths):
    """Words of ``values``, each field wrapped to its width (see :func:`_loss_kernel_of`)."""
    n = values.shape[0]
    words = np.zeros((n, n_words), dtype=np.uint64)
    for r in range(n):
        fam = family[r]
        for k in range(cols.shape[1]):
            width = widths[fam, k]
            if width == 0:
                break
            value = np.uint64(values[r, cols[fam, k]] & ((1 << width) - 1))  # two's complement
            # The layout never lets a field straddle a 64-bit word (_bitfields.pack).
            words[r, offsets[fam, k] // 64] |= value << np.uint64(offsets[fam, k] % 64)
    return words


def _loss_kernel_of(n_cols: int):
    """The loss kernel of rows of ``n_cols`` columns: what encoding ``values`` would lose,
    without encoding, as ``(overflows, dropped)``: the fields that do not fit their width, and
    the nonzero values of columns the row's family does not encode (decoding gives 0 there).
    A row's family is ``family_of_opcode[row[0] & 7]`` (column 0: the opcode);
    ``lo``/``hi``/``encoded`` are :func:`_bounds` of the families.

    The column count is a constant of the compiled kernel, not read from ``values``: LLVM
    then vectorises the row whole (on the emitter's ``int32`` rows, 1.7 times faster).
    """

    @njit(cache=True)
    def kernel(values, family_of_opcode, lo, hi, encoded):
        overflows = lost = 0
        for r in range(values.shape[0]):
            fam = family_of_opcode[values[r, 0] & 7]
            row_lost = row_overflows = 0
            for c in range(n_cols):  # branch-free: the loop vectorises
                value = values[r, c]
                out = np.int32(value < lo[fam, c]) | np.int32(value > hi[fam, c])
                row_lost += out
                row_overflows += out & encoded[fam, c]
            lost += row_lost
            overflows += row_overflows
        return overflows, lost - overflows

    return kernel


_insn_loss_kernel = _loss_kernel_of(NUM_FIELDS)
_uop_loss_kernel = _loss_kernel_of(3)


@cache
def _bounds(fams: tuple[tuple[Field, ...], ...], n_cols: int) -> tuple[np.ndarray, ...]:
    """Per family and column, the values that encode without loss (``lo``..``hi``: the
    field's range, 0..0 for a column the family does not hold) and whether it holds it."""
    lo = np.zeros((len(fams), n_cols), dtype=np.int64)
    hi = np.zeros((len(fams), n_cols), dtype=np.int64)
    encoded = np.zeros((len(fams), n_cols), dtype=np.int64)
    for f, fam in enumerate(fams):
        for col, _, width in fam:
            if col in SIGNED_FIELDS:
                lo[f, col], hi[f, col] = -(1 << (width - 1)), (1 << (width - 1)) - 1
            else:
                hi[f, col] = (1 << width) - 1
            encoded[f, col] = 1
    return lo, hi, encoded


@njit(cache=True)
def _decode_kernel(words, family, n_cols, cols, offsets, widths, signed):
    n = words.shape[0]
    values = np.zeros((n, n_cols), dtype=np.int64)
    for r in range(n):
        fam = family[r]
        for k in range(cols.shape[1]):
            width = widths[fam, k]
            if width == 0:
                break
            value = words[r, offsets[fam, k] // 64] >> np.uint64(offsets[fam, k] % 64)
            out = np.int64(value & np.uint64((1 << width) - 1))
            if signed[fam, k] and out >= (1 << (width - 1)):
                out -= 1 << width
            values[r, cols[fam, k]] = out
    return values


def encode(fields: np.ndarray, layout: Layout) -> tuple[np.ndarray, int]:
    """Encode instruction fields into words.

    Returns ``(words, overflows)``: the ``uint64`` words and how many field values did not
    fit their width (they are stored wrapped, as a C bit-field assignment would).
    """
    fields = np.ascontiguousarray(fields, dtype=np.int64).reshape(-1, NUM_FIELDS)
    cols, offsets, widths, _ = _insn_tables(layout)
    family = _family_of(fields[:, F_OPCODE])
    words = _encode_kernel(fields, family, layout.words, cols, offsets, widths)
    return words, _losses(fields, layout)[0]


def _losses(fields: np.ndarray, layout: Layout) -> tuple[int, int]:
    """``(overflows, dropped)`` of encoding contiguous instruction ``fields`` (see
    :func:`field_rows`)."""
    bounds = _bounds((layout.mem, layout.gemm, layout.alu, layout.header), NUM_FIELDS)
    overflows, dropped = _insn_loss_kernel(fields, _FAMILY_OF_OPCODE, *bounds)
    return int(overflows), int(dropped)


def _uop_overflows(uops: np.ndarray, layout: Layout) -> int:
    """Indices of contiguous ``(m, 3)`` ``int64`` ``uops`` that do not fit their field."""
    return int(_uop_loss_kernel(uops, _ONE_FAMILY, *_bounds((layout.uop,), 3))[0])


def decode(words: np.ndarray, layout: Layout) -> np.ndarray:
    """Decode words into the ``(n, NUM_FIELDS)`` field array the hardware sees."""
    words = np.ascontiguousarray(words, dtype=np.uint64).reshape(-1, layout.words)
    family = _family_of(words[:, 0] & np.uint64(7))
    return _decode_kernel(words, family, NUM_FIELDS, *_insn_tables(layout))


def encode_uops(uops: np.ndarray, layout: Layout) -> tuple[np.ndarray, int]:
    """Pack ``(m, 3)`` micro-op indices into ``(m, layout.uop_words)`` ``uint64`` words.

    Returns ``(words, overflows)``, overflows counting indices that did not fit (they wrap).
    """
    uops = np.ascontiguousarray(uops, dtype=np.int64).reshape(-1, 3)
    family = np.zeros(len(uops), dtype=np.int64)
    cols, offsets, widths, _ = _tables((layout.uop,))
    words = _encode_kernel(uops, family, layout.uop_words, cols, offsets, widths)
    return words, _uop_overflows(uops, layout)


def decode_uops(words: np.ndarray, layout: Layout) -> np.ndarray:
    """Unpack ``(m, layout.uop_words)`` micro-op words into ``(m, 3)`` indices."""
    words = np.ascontiguousarray(words, dtype=np.uint64).reshape(-1, layout.uop_words)
    family = np.zeros(len(words), dtype=np.int64)
    return _decode_kernel(words, family, 3, *_tables((layout.uop,)))


def field_rows(fields) -> np.ndarray:
    """``fields`` as the contiguous ``(n, NUM_FIELDS)`` array the kernels take: ``int32`` rows
    as they are (the numba emitter's, half the bytes of ``int64`` to stream), anything else as
    ``int64``."""
    fields = np.asarray(fields)
    dtype = np.int32 if fields.dtype == np.int32 else np.int64
    return np.ascontiguousarray(fields, dtype=dtype).reshape(-1, NUM_FIELDS)


@dataclass
class Program:
    """A compiled VTA program: the instruction stream, the uop DRAM image and DRAM sizes.

    ``fields``/``uops`` are what the compiler intended (``fields`` as :func:`field_rows`
    gives them); ``words``/``uop_words`` are what is written to DRAM (encoded on first use);
    :meth:`executed` is what the hardware executes (the intended arrays themselves when
    encoding loses nothing: no value wraps or falls outside its family's fields, the usual
    case, which spares encoding and decoding). DRAM addresses in the instructions are in
    elements of their memory type, each type in its own DRAM region (VTA's separate
    ``inputs``/``weights``/``uops``/``outputs`` pointers).
    """

    target: Target
    fields: np.ndarray
    uops: np.ndarray
    dram_elems: dict[int, int] = field(default_factory=dict)  # memory id -> elements
    field_overflows: int = field(init=False)
    lossless: bool = field(init=False)  # decoding the words gives fields and uops back

    def __post_init__(self) -> None:
        layout = layout_for(self.target)
        self.fields = field_rows(self.fields)
        self.uops = np.ascontiguousarray(np.asarray(self.uops, dtype=np.int64).reshape(-1, 3))
        insn_over, dropped = _losses(self.fields, layout)
        self.field_overflows = insn_over + _uop_overflows(self.uops, layout)
        self.lossless = self.field_overflows == 0 and dropped == 0

    @cached_property
    def words(self) -> np.ndarray:
        """The encoded instructions, ``(n, layout.words)`` ``uint64``."""
        return encode(self.fields, layout_for(self.target))[0]

    @cached_property
    def uop_words(self) -> np.ndarray:
        """The encoded uop DRAM image, ``(m, layout.uop_words)`` ``uint64``."""
        return encode_uops(self.uops, layout_for(self.target))[0]

    def executed(self) -> tuple[np.ndarray, np.ndarray]:
        """``(fields, uops)`` the hardware runs, decoded from the words; when lossless, the
        intended arrays themselves (shared: not to be modified)."""
        if self.lossless:
            return self.fields, self.uops
        layout = layout_for(self.target)
        return decode(self.words, layout), decode_uops(self.uop_words, layout)

    def decoded(self) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`executed` as arrays of the caller's own (copies when shared)."""
        fields, uops = self.executed()
        if self.lossless:
            return fields.copy(), uops.copy()
        return fields, uops

    def __len__(self) -> int:
        return len(self.fields)

    def opcode_counts(self) -> dict[str, int]:
        ops = self.fields[:, F_OPCODE]
        return {name: int(np.count_nonzero(ops == op)) for op, name in OPCODE_NAMES.items()}


def describe(fields_row: np.ndarray) -> str:
    """One instruction as readable text (for debugging and docs)."""
    op = int(fields_row[F_OPCODE])
    flags = "".join(
        c if fields_row[col] else "-"
        for c, col in (("p", F_POP_PREV), ("P", F_POP_NEXT), ("u", F_PUSH_PREV), ("U", F_PUSH_NEXT))
    )
    name = OPCODE_NAMES.get(op, f"OP{op}")
    if op in (OP_LOAD, OP_STORE):
        f = fields_row
        return (
            f"{name:6s} {flags} {MEM_NAMES.get(int(f[F_MEM_TYPE]), '?')} sram={f[F_SRAM_BASE]}"
            f" dram={f[F_DRAM_BASE]} y={f[F_Y_SIZE]} x={f[F_X_SIZE]} stride={f[F_X_STRIDE]}"
            f" pad=({f[F_Y_PAD0]},{f[F_Y_PAD1]},{f[F_X_PAD0]},{f[F_X_PAD1]})"
        )
    if op in (OP_GEMM, OP_ALU):
        f = fields_row
        text = (
            f"{name:6s} {flags} reset={f[F_RESET]} uop=[{f[F_UOP_BGN]},{f[F_UOP_END]})"
            f" iter={f[F_ITER_OUT]}x{f[F_ITER_IN]} dst=({f[F_DST_OUT]},{f[F_DST_IN]})"
            f" src=({f[F_SRC_OUT]},{f[F_SRC_IN]})"
        )
        if op == OP_GEMM:
            return text + f" wgt=({f[F_WGT_OUT]},{f[F_WGT_IN]})"
        return text + f" alu={f[F_ALU_OP]} imm={f[F_IMM] if f[F_USE_IMM] else '-'}"
    return f"{name:6s} {flags}"
