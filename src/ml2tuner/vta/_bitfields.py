"""C bit-field allocation: how VTA's ``hw_spec.h`` structs lay their fields out in memory.

apache/tvm-vta ``include/vta/hw_spec.h`` declares every instruction as a struct of ``uint64_t``
bit-fields and the micro-op as a struct of ``uint32_t`` bit-fields. On the little-endian ABIs
VTA's runtime and simulator are built for (x86-64 and ARM SysV), bit-fields are allocated from
bit 0 in declaration order, and a bit-field never straddles a storage unit of its declared
type: one that would cross a unit boundary starts at the next unit. The struct occupies a whole
number of units. ``hardware/chisel/src/main/scala/core/Decode.scala`` spells the holes this
leaves as ``empty_*`` fields.
"""

from __future__ import annotations

from collections.abc import Sequence


def pack(widths: Sequence[int], unit_bits: int) -> tuple[tuple[int, ...], int]:
    """Bit offsets of bit-fields of a ``unit_bits``-bit type declared in this order.

    Args:
        widths: the fields' widths in declaration order, each 1..``unit_bits``.
        unit_bits: the width of the declared type (64 for ``uint64_t``, 32 for ``uint32_t``).

    Returns:
        ``(offsets, size_bits)``: each field's least significant bit, and the struct's size
        (a whole number of units).
    """
    offsets = []
    end = 0
    for width in widths:
        if not 1 <= width <= unit_bits:
            raise ValueError(f"bit-field of width {width} in a {unit_bits}-bit unit")
        if end // unit_bits != (end + width - 1) // unit_bits:  # would straddle a unit
            end = -(-end // unit_bits) * unit_bits
        offsets.append(end)
        end += width
    return tuple(offsets), -(-end // unit_bits) * unit_bits
