"""The host runtime's instruction-stream builder (after VTA's ``runtime.cc``).

The compiler describes a program as calls — load, GEMM with a uop kernel, ALU, store, and
dependency ``push``/``pop`` between pipeline stages — and this builder turns them into the
instruction stream exactly as VTA's runtime does:

* a pending *pop* is attached to the next instruction of the popping stage (a second pending pop
  in the same direction first commits the earlier one as a no-op);
* a *push* is set on the stream's last instruction if it belongs to the pushing stage and does
  not push that way yet, otherwise a no-op carries it;
* micro-op kernels live in a uop cache in the UOP SRAM: a kernel not resident is appended (the
  cache is reset when it does not fit) and loaded with a ``LOAD UOP`` before it is used;
* ``finish()`` adds the final synchronisation tokens and ``FINISH``, as ``Synchronize`` does.

With ``verify_dep`` (TVM's runtime) a kernel whose destination repeats within the accumulator
pipeline window raises :class:`RuntimeCheckError`, as ``UopKernel::VerifyDep`` does; NEST-C's
runtime has no such check and the hazard reaches the hardware.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import chain

import numpy as np

from . import isa
from .target import Target

LOAD_STAGE, COMPUTE_STAGE, STORE_STAGE = 1, 2, 3
_FLAG_PUSH_NEXT, _FLAG_PUSH_PREV = isa.F_PUSH_NEXT, isa.F_PUSH_PREV


class RuntimeCheckError(RuntimeError):
    """A check the VTA runtime performs before running the stream failed."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def stage_of(fields_row) -> int:
    """Pipeline stage an instruction executes on (the fetch unit's routing)."""
    op = fields_row[isa.F_OPCODE]
    if op == isa.OP_STORE:
        return STORE_STAGE
    if op == isa.OP_LOAD and fields_row[isa.F_MEM_TYPE] in (isa.MEM_INP, isa.MEM_WGT):
        return LOAD_STAGE
    return COMPUTE_STAGE


@dataclass
class _Kernel:
    uops: np.ndarray  # (k, 3)
    dram_offset: int  # where the kernel lives in the uop DRAM image


class StreamBuilder:
    """Accumulates instructions and uop kernels; see the module docstring."""

    def __init__(self, target: Target, *, verify_dep: bool) -> None:
        self.target = target
        self.verify_dep = verify_dep
        self._rows: list[list[int]] = []
        self._last: list[int] | None = None  # the stream's last instruction
        self._pending_prev = {LOAD_STAGE: 0, COMPUTE_STAGE: 0, STORE_STAGE: 0}
        self._pending_next = {LOAD_STAGE: 0, COMPUTE_STAGE: 0, STORE_STAGE: 0}
        self._kernels: dict[object, _Kernel] = {}
        self._uop_chunks: list[np.ndarray] = []
        self._uop_dram_size = 0
        self._resident: dict[object, int] = {}  # kernel key -> uop SRAM offset
        self._uop_top = 0
        self.uop_cache_resets = 0
        self.noops = 0

    # ---- instructions ------------------------------------------------------------------
    def _append(self, row: list[int]) -> list[int]:
        stage = stage_of(row)
        if self._pending_prev[stage] or self._pending_next[stage]:
            row[isa.F_POP_PREV] |= self._pending_prev[stage]
            row[isa.F_POP_NEXT] |= self._pending_next[stage]
            self._pending_prev[stage] = self._pending_next[stage] = 0
        self._rows.append(row)
        self._last = row
        return row

    def _noop(self, stage: int, *, push_prev=0, push_next=0, pop_prev=0, pop_next=0) -> None:
        row = [0] * isa.NUM_FIELDS
        if stage == STORE_STAGE:
            row[isa.F_OPCODE], row[isa.F_MEM_TYPE] = isa.OP_STORE, isa.MEM_OUT
        elif stage == LOAD_STAGE:
            row[isa.F_OPCODE], row[isa.F_MEM_TYPE] = isa.OP_LOAD, isa.MEM_INP
        else:
            row[isa.F_OPCODE], row[isa.F_MEM_TYPE] = isa.OP_LOAD, isa.MEM_UOP
        row[isa.F_PUSH_PREV], row[isa.F_PUSH_NEXT] = push_prev, push_next
        row[isa.F_POP_PREV], row[isa.F_POP_NEXT] = pop_prev, pop_next
        self._rows.append(row)
        self._last = row
        self.noops += 1

    def commit_pending_pop(self, stage: int) -> None:
        if self._pending_prev[stage] or self._pending_next[stage]:
            self._noop(
                stage, pop_prev=self._pending_prev[stage], pop_next=self._pending_next[stage]
            )
            self._pending_prev[stage] = self._pending_next[stage] = 0

    def dep_pop(self, src: int, dst: int) -> None:
        """``dst`` waits for a token from ``src`` before its next instruction."""
        pending = self._pending_prev if src < dst else self._pending_next
        if pending[dst]:
            self.commit_pending_pop(dst)
        pending[dst] = 1

    def dep_push(self, src: int, dst: int) -> None:
        """``src`` signals ``dst`` after its last instruction so far."""
        self.commit_pending_pop(src)
        flag = _FLAG_PUSH_NEXT if src < dst else _FLAG_PUSH_PREV
        last = self._last
        if last is not None:
            if stage_of(last) == src and not last[flag]:
                last[flag] = 1
                return
        self._noop(src, push_next=int(src < dst), push_prev=int(src > dst))

    def mem(
        self,
        opcode: int,
        memory_type: int,
        *,
        sram_base: int,
        dram_base: int,
        y_size: int,
        x_size: int,
        x_stride: int,
        pads: tuple[int, int, int, int] = (0, 0, 0, 0),
    ) -> None:
        # Column order of isa: opcode, 4 flags, memory_type, sram, dram, y, x, stride, 4 pads.
        self._append(
            [opcode, 0, 0, 0, 0, memory_type, sram_base, dram_base, y_size, x_size, x_stride, *pads]
            + [0] * (isa.NUM_FIELDS - 15)
        )

    def _loop_insn(
        self,
        opcode: int,
        key: object,
        make_uops: Callable[[], np.ndarray],
        iters: tuple[int, int],
        factors: tuple[int, ...],
        reset: int,
        alu: tuple[int, int, int],
    ) -> None:
        begin, size = self._use_kernel(key, make_uops)
        # Columns 15..28 of isa: reset, uop_bgn, uop_end, iter_out, iter_in, six factors, alu.
        self._append([opcode] + [0] * 14 + [reset, begin, begin + size, *iters, *factors, *alu])

    def gemm(
        self,
        key: object,
        make_uops: Callable[[], np.ndarray],
        iters: tuple[int, int],
        factors: tuple[int, int, int, int, int, int],
        *,
        reset: bool = False,
    ) -> None:
        """A GEMM over the uop kernel ``key`` (``make_uops`` builds it on first use)."""
        self._loop_insn(isa.OP_GEMM, key, make_uops, iters, factors, int(reset), (0, 0, 0))

    def alu(
        self,
        key: object,
        make_uops: Callable[[], np.ndarray],
        iters: tuple[int, int],
        factors: tuple[int, int, int, int],
        alu_opcode: int,
        imm: int | None,
    ) -> None:
        """An ALU op over the uop kernel ``key``: ``ACC[dst] op imm``, or with ``imm`` None
        ``ACC[dst] op ACC[src]``."""
        alu = (alu_opcode, 0, 0) if imm is None else (alu_opcode, 1, imm)
        self._loop_insn(isa.OP_ALU, key, make_uops, iters, (*factors, 0, 0), 0, alu)

    # ---- micro-op kernels --------------------------------------------------------------
    def _use_kernel(self, key: object, make_uops: Callable[[], np.ndarray]) -> tuple[int, int]:
        """Make ``key``'s kernel resident in the uop SRAM; returns (SRAM offset, size)."""
        begin = self._resident.get(key)
        if begin is not None:
            return begin, len(self._kernels[key].uops)
        kernel = self._kernels.get(key)
        if kernel is None:
            uops = make_uops()
            self._check_kernel(uops)
            kernel = _Kernel(np.asarray(uops, dtype=np.int64), self._uop_dram_size)
            self._kernels[key] = kernel
            self._uop_chunks.append(kernel.uops)
            self._uop_dram_size += len(kernel.uops)
        size = len(kernel.uops)
        if self._uop_top + size > self.target.uop_depth:
            self._resident.clear()  # the runtime's uop cache starts over
            self._uop_top = 0
            self.uop_cache_resets += 1
        begin = self._uop_top
        self.mem(
            isa.OP_LOAD,
            isa.MEM_UOP,
            sram_base=begin,
            dram_base=kernel.dram_offset,
            y_size=1,
            x_size=size,
            x_stride=size,
        )
        self._resident[key] = begin
        self._uop_top += size
        return begin, size

    def _check_kernel(self, uops: np.ndarray) -> None:
        if len(uops) > self.target.uop_depth:
            raise RuntimeCheckError(
                "uop_buffer",
                f"uop kernel of {len(uops)} uops exceeds the uop buffer ({self.target.uop_depth})",
            )
        if self.verify_dep:
            dst = uops[:, isa.U_DST]
            for distance in range(1, self.target.rmw_distance):
                if np.any(dst[distance:] == dst[:-distance]):
                    raise RuntimeCheckError(
                        "verify_dep",
                        f"uop kernel repeats an accumulator destination within "
                        f"{self.target.rmw_distance} consecutive uops (VerifyDep)",
                    )

    # ---- the end -----------------------------------------------------------------------
    def finish(self) -> tuple[np.ndarray, np.ndarray]:
        """Synchronise and append FINISH; returns ``(fields, uop DRAM image)``."""
        self.dep_push(STORE_STAGE, COMPUTE_STAGE)
        self.dep_push(LOAD_STAGE, COMPUTE_STAGE)
        self.dep_pop(STORE_STAGE, COMPUTE_STAGE)
        self.dep_pop(LOAD_STAGE, COMPUTE_STAGE)
        self.commit_pending_pop(COMPUTE_STAGE)  # FINISH may not pop
        self._append([isa.OP_FINISH] + [0] * (isa.NUM_FIELDS - 1))
        fields = np.fromiter(
            chain.from_iterable(self._rows), dtype=np.int64, count=len(self._rows) * isa.NUM_FIELDS
        ).reshape(-1, isa.NUM_FIELDS)
        uops = np.vstack(self._uop_chunks) if self._uop_chunks else np.zeros((0, 3), dtype=np.int64)
        return fields, uops

    @property
    def uop_dram_size(self) -> int:
        return self._uop_dram_size

    @property
    def kernel_count(self) -> int:
        return len(self._kernels)
