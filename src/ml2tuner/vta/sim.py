"""Cycle-level timing simulator of the VTA accelerator.

Four modules (fetch, load, compute, store) run the decoded instruction stream, synchronised by
command queues and dependency-token FIFOs, and share one DRAM port (separate read and write
channels, several bursts in flight per DMA). The model is specified in
``docs/timing-model.md``; it needs no data, only the instruction fields and the uop image (for
the read-modify-write hazard check and the SRAM regions of the race check).

:func:`simulate_reference` is the plain, readable implementation; :func:`simulate` runs the
numba kernel in ``_sim_numba.py``. Both return identical :class:`SimResult` objects (the tests
hold them equal on random streams).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from functools import cache

import numpy as np

from . import _sim_numba
from ._sim_numba import COUNTER_NAMES
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
    field_rows,
    layout_for,
)
from .target import Target

__all__ = [
    "COUNTER_NAMES",
    "SimResult",
    "SimWorkspace",
    "default_max_cycles",
    "simulate",
    "simulate_reference",
]

MEMORIES = (MEM_UOP, MEM_WGT, MEM_INP, MEM_ACC, MEM_OUT)
assert sorted(MEMORIES) == list(range(5))  # the kernel indexes its parameter blocks by id


@dataclass(frozen=True)
class SimResult:
    """Outcome of one simulated run.

    ``cycles`` is the time the FINISH instruction completed; when the run did not finish it is
    the latest time reached (deadlock) or ``max_cycles`` (timeout). ``hazards``,
    ``sram_overruns``, ``dram_oob`` and ``races`` count instructions; ``counters`` is keyed by
    :data:`COUNTER_NAMES`; ``order`` lists the instructions in the order they started (a legal
    interleaving of the three modules, see ``fsim.run_functional``).
    """

    cycles: int
    finished: bool
    deadlock: bool
    timed_out: bool
    hazards: int
    sram_overruns: int
    dram_oob: int
    counters: dict[str, int]
    races: int = 0
    order: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64), compare=False)


class SimWorkspace:
    """The numba kernel's work table, reused from one simulation to the next.

    A fresh table costs page faults on long streams, as the emitter's arrays do
    (:class:`~ml2tuner.vta.compiler.EmitWorkspace`): the kernel writes every row it reads, so
    a table kept here gives the results a fresh one gives (tests/vta/test_sim.py).
    """

    def __init__(self) -> None:
        self.table = np.empty((0, _sim_numba.NUM_COLUMNS), np.int64)

    def reserve(self, rows: int) -> np.ndarray:
        """A table of at least ``rows`` rows (grown if need be)."""
        if len(self.table) < rows:
            self.table = np.empty((rows, _sim_numba.NUM_COLUMNS), np.int64)
        return self.table


def default_max_cycles(target: Target) -> int:
    """The measurement harness's timeout in cycles."""
    return int(target.run_timeout_s * target.clock_mhz * 1e6)


def _prepare(target: Target, fields, uops, max_cycles: int | None):
    fields = field_rows(fields)
    uops = np.ascontiguousarray(uops, dtype=np.int64).reshape(-1, 3)
    return fields, uops, default_max_cycles(target) if max_cycles is None else int(max_cycles)


@cache
def _target_params(target: Target) -> np.ndarray:
    """The kernel's parameter vector for ``target`` (without run-specific entries)."""
    k = _sim_numba
    params = np.zeros(k.NUM_PARAMS, dtype=np.int64)
    params[k.P_CMD_DEPTH], params[k.P_DEP_DEPTH] = target.cmd_queue_depth, target.dep_queue_depth
    params[k.P_LATENCY], params[k.P_OVERHEAD] = (
        target.dram_latency_cycles,
        target.insn_overhead_cycles,
    )
    params[k.P_RMW], params[k.P_BUS_BYTES] = target.rmw_distance, target.bus_bytes
    params[k.P_INSN_BYTES] = layout_for(target).insn_bits // 8
    params[k.P_BURST_BEATS] = target.dram_burst_beats
    params[k.P_READ_OUTSTANDING] = target.dram_read_outstanding
    params[k.P_WRITE_OUTSTANDING] = target.dram_write_outstanding
    for mem in MEMORIES:
        params[k.P_DEPTHS + mem] = _depths(target)[mem]
        params[k.P_ELEM_BYTES + mem] = _elem_bytes(target)[mem]
    params.flags.writeable = False
    return params


def _depths(target: Target) -> dict[int, int]:
    return {
        MEM_UOP: target.uop_depth,
        MEM_WGT: target.wgt_depth,
        MEM_INP: target.inp_depth,
        MEM_ACC: target.acc_depth,
        MEM_OUT: target.out_depth,
    }


def _elem_bytes(target: Target) -> dict[int, int]:
    return {
        MEM_UOP: target.uop_elem_bytes,
        MEM_WGT: target.wgt_elem_bytes,
        MEM_INP: target.inp_elem_bytes,
        MEM_ACC: target.acc_elem_bytes,
        MEM_OUT: target.out_elem_bytes,
    }


def simulate(
    target: Target,
    fields,
    uops,
    dram_elems: dict[int, int],
    *,
    max_cycles: int | None = None,
    workspace: SimWorkspace | None = None,
) -> SimResult:
    """Simulate a decoded stream with the compiled kernel.

    Args:
        target: the hardware configuration (depths, bus, timing constants).
        fields: ``(n, NUM_FIELDS)`` decoded instruction fields.
        uops: ``(m, 3)`` decoded uop DRAM image.
        dram_elems: elements of each DRAM region, keyed by ``MEM_*`` id.
        max_cycles: give up after this many cycles (default: the target's run timeout).
        workspace: the kernel's table to reuse (faster on long streams); None: a fresh one.
    """
    fields, uops, max_cycles = _prepare(target, fields, uops, max_cycles)
    params = _target_params(target).copy()
    params[_sim_numba.P_MAX_CYCLES] = max_cycles
    for mem in MEMORIES:
        params[_sim_numba.P_DRAM_ELEMS + mem] = dram_elems.get(mem, 0)
    table = (workspace or SimWorkspace()).reserve(len(fields))
    cycles, finished, deadlock, timed_out, checks, counters, order = _sim_numba.run(
        fields, uops, params, table
    )
    hazards, overruns, oob, races = checks.tolist()
    counts = dict(zip(COUNTER_NAMES, counters.tolist(), strict=True))
    return SimResult(
        int(cycles),
        bool(finished),
        bool(deadlock),
        bool(timed_out),
        hazards,
        overruns,
        oob,
        counts,
        races,
        order,
    )


def simulate_reference(
    target: Target, fields, uops, dram_elems: dict[int, int], *, max_cycles: int | None = None
) -> SimResult:
    """Simulate a decoded stream in plain Python (same arguments and result as :func:`simulate`)."""
    fields, uops, max_cycles = _prepare(target, fields, uops, max_cycles)
    return _Reference(target, fields, uops, dram_elems, max_cycles).run()


# ---- the reference implementation -------------------------------------------------------


class _Channel:
    """One channel (read or write) of the accelerator's single DRAM port.

    Every AXI master of VTA reaches DRAM through one port whose read and write channels are
    separate (docs/timing-model.md). A channel carries ``bus_bytes`` per cycle; its beats are
    reserved in the order DMAs are issued; a burst is done ``latency`` cycles after its beats
    (read: request to data; write: data to response).
    """

    def __init__(self, target: Target, outstanding: int, counters: dict[str, int]) -> None:
        self.bus_bytes, self.latency = target.bus_bytes, target.dram_latency_cycles
        self.burst_bytes = target.dram_burst_beats * target.bus_bytes
        self.outstanding, self.counters = outstanding, counters
        self.free = 0

    def transfer(self, t: int, rows: int, row_bytes: int, *, rows_overlap: bool = True) -> int:
        """A DMA of ``rows`` rows issued at ``t``; returns when its last burst is done.

        Each row is split into bursts; bursts are issued back to back, at most ``outstanding``
        of them not yet done (a burst waits for the one ``outstanding`` places earlier). Without
        ``rows_overlap`` a row is issued only when the previous row is done (a row loop that
        HLS does not pipeline).
        """
        in_flight: deque[int] = deque()  # done times of the bursts issued, oldest first
        done = t
        for _ in range(rows):
            if not rows_overlap:
                t = done
            left = row_bytes
            while left > 0:
                chunk = min(left, self.burst_bytes)
                beats = -(-chunk // self.bus_bytes)
                if len(in_flight) == self.outstanding:
                    t = max(t, in_flight.popleft())
                begin = max(t, self.free)
                self.free = begin + beats
                done = begin + self.latency + beats
                in_flight.append(done)
                self.counters["dram_busy"] += beats
                left -= chunk
        return done


@dataclass
class _Module:
    """One of LOAD/COMPUTE/STORE: its command queue and its token wiring."""

    name: str
    queue: list[int]  # instruction indices routed here, in stream order
    pops: dict[int, str]  # flag column -> FIFO popped
    pushes: dict[int, str]  # flag column -> FIFO pushed (in column order: prev, then next)
    dispatch: list[int] = field(default_factory=list)  # dispatch time per queue position
    starts: list[int] = field(default_factory=list)  # start time per queue position
    free: int = 0
    pending: list[str] = field(default_factory=list)  # FIFOs still to push into (blocked)
    push_time: int = 0
    # Happens-before: how many instructions of each module (load, compute, store) are known
    # to have completed when this module's current instruction starts.
    clock: list[int] = field(default_factory=lambda: [0, 0, 0])
    # Shared SRAM regions each started instruction touched: {memory: (first row, rows)}.
    regions: list[dict[int, tuple[int, int]]] = field(default_factory=list)

    @property
    def head(self) -> int:
        return len(self.starts)


_INDEX = {"load": 0, "compute": 1, "store": 2}
# Which modules share SRAM: LOAD writes INP/WGT that COMPUTE reads; COMPUTE writes OUT that
# STORE reads. Each shared memory has exactly one writing and one reading module.
_SHARES = {"load": ("compute",), "compute": ("load", "store"), "store": ("compute",)}


def _overlap(a: tuple[int, int], b: tuple[int, int], depth: int) -> bool:
    """Whether two regions ``(first row mod depth, rows)`` of a circular SRAM share a row."""
    ahead = (b[0] - a[0]) % depth
    return ahead < a[1] or (a[0] - b[0]) % depth < b[1]


def _route(opcode: int, mem_type: int) -> str:
    if opcode == OP_STORE:
        return "store"
    if opcode == OP_LOAD and mem_type in (MEM_INP, MEM_WGT):
        return "load"
    return "compute"


class _Reference:
    """One run of the timing model, step by step as ``docs/timing-model.md`` states it."""

    def __init__(
        self,
        target: Target,
        fields: np.ndarray,
        uops: np.ndarray,
        dram_elems: dict[int, int],
        max_cycles: int,
    ) -> None:
        self.target, self.fields, self.uops = target, fields, uops
        self.max_cycles = max_cycles
        self.dram_elems = {mem: int(dram_elems.get(mem, 0)) for mem in MEMORIES}
        self.depths, self.elem_bytes = _depths(target), _elem_bytes(target)
        self.counters = dict.fromkeys(COUNTER_NAMES, 0)
        self.hazards = self.overruns = self.oob = 0
        self.reads = _Channel(target, target.dram_read_outstanding, self.counters)
        self.writes = _Channel(target, target.dram_write_outstanding, self.counters)
        self.uop_sram = np.zeros((target.uop_depth, 3), dtype=np.int64)
        self.route = [_route(int(op), int(mem)) for op, mem in fields[:, [F_OPCODE, F_MEM_TYPE]]]
        queue = {
            name: [i for i, r in enumerate(self.route) if r == name]
            for name in ("load", "compute", "store")
        }
        self.modules = {  # in tie-break order
            "load": _Module("load", queue["load"], {F_POP_NEXT: "c2l"}, {F_PUSH_NEXT: "l2c"}),
            "compute": _Module(
                "compute",
                queue["compute"],
                {F_POP_PREV: "l2c", F_POP_NEXT: "s2c"},
                {F_PUSH_PREV: "c2l", F_PUSH_NEXT: "c2s"},
            ),
            "store": _Module("store", queue["store"], {F_POP_PREV: "c2s"}, {F_PUSH_PREV: "s2c"}),
        }
        # A token is (push time, the pusher's clock).
        self.fifos: dict[str, deque[tuple[int, list[int]]]] = {
            name: deque() for name in ("l2c", "c2l", "c2s", "s2c")
        }
        self.producer = {"l2c": "load", "c2l": "compute", "c2s": "compute", "s2c": "store"}
        self.insn_bytes = layout_for(target).insn_bits // 8
        # Fetch reads as many instructions as its port can have in flight, then dispatches them.
        in_flight = target.dram_burst_beats * target.dram_read_outstanding * target.bus_bytes
        self.fetch_group = max(1, in_flight // self.insn_bytes)
        self.fetch_next = self.group_end = self.fetch_free = 0
        self.reached = 0
        self.races = 0
        self.order: list[int] = []
        self.touched: dict[int, tuple[int, int]] = {}  # regions of the instruction executing

    # ---- the event loop ------------------------------------------------------------------
    def run(self) -> SimResult:
        while True:
            actions = [(self._fetch_start(), "fetch")]
            actions += [(self._module_start(m), name) for name, m in self.modules.items()]
            feasible = [(t, rank, name) for rank, (t, name) in enumerate(actions) if t is not None]
            if not feasible:
                return self._result(self.reached, deadlock=True)
            start, _, name = min(feasible)
            if start > self.max_cycles:
                return self._result(self.max_cycles, timed_out=True)
            if name == "fetch":
                self._fetch(start)
                continue
            end, finished = self._run_module(self.modules[name], start)
            if finished:
                if end > self.max_cycles:
                    return self._result(self.max_cycles, timed_out=True)
                return self._result(end, finished=True)

    def _result(self, cycles: int, *, finished=False, deadlock=False, timed_out=False):
        return SimResult(
            cycles,
            finished,
            deadlock,
            timed_out,
            self.hazards,
            self.overruns,
            self.oob,
            dict(self.counters),
            self.races,
            np.array(self.order, dtype=np.int64),
        )

    # ---- fetch ---------------------------------------------------------------------------
    def _fetch_start(self) -> int | None:
        if self.fetch_next >= len(self.fields):
            return None
        if self.fetch_next == self.group_end:  # request the next group
            return self.fetch_free
        module = self.modules[self.route[self.fetch_next]]
        # Room in the queue once the instruction cmd_queue_depth places ahead has started.
        ahead = len(module.dispatch) - self.target.cmd_queue_depth
        if ahead < 0:
            return self.fetch_free
        if ahead < module.head:
            return max(self.fetch_free, module.starts[ahead])
        return None

    def _fetch(self, start: int) -> None:
        if self.fetch_next == self.group_end:
            count = min(self.fetch_group, len(self.fields) - self.fetch_next)
            self.counters["fetch_bytes"] += count * self.insn_bytes
            done = self.reads.transfer(start, 1, count * self.insn_bytes)
            self.counters["fetch_busy"] += done - start
            self.group_end += count
            self.fetch_free = done
        else:
            self.modules[self.route[self.fetch_next]].dispatch.append(start)
            self.counters["fetch_stall"] += start - self.fetch_free
            self.counters["fetch_busy"] += 1
            self.fetch_free = start + 1
            self.fetch_next += 1
        self.reached = max(self.reached, self.fetch_free)

    # ---- load / compute / store ----------------------------------------------------------
    def _module_start(self, m: _Module) -> int | None:
        if m.head >= len(m.dispatch) or m.pending:
            return None
        row = self.fields[m.queue[m.head]]
        start = max(m.free, m.dispatch[m.head])
        for column, fifo in m.pops.items():
            if row[column]:
                if not self.fifos[fifo]:
                    return None
                start = max(start, self.fifos[fifo][0][0])
        return start

    def _run_module(self, m: _Module, start: int) -> tuple[int, bool]:
        """Start ``m``'s head at ``start``; returns ``(end, is_finish)``."""
        row = self.fields[m.queue[m.head]]
        self.counters[f"{m.name}_stall"] += start - max(m.free, m.dispatch[m.head])
        self.order.append(m.queue[m.head])
        m.clock[_INDEX[m.name]] = m.head  # its own earlier instructions have completed
        m.starts.append(start)
        for column, fifo in m.pops.items():
            if row[column]:
                _, clock = self.fifos[fifo].popleft()
                m.clock = [max(a, b) for a, b in zip(m.clock, clock, strict=True)]
                producer = self.modules[self.producer[fifo]]
                if producer.pending and producer.pending[0] == fifo:  # unblock it
                    producer.push_time = max(producer.push_time, start)
                    self._push(producer)
        self.touched = {}
        end = self._execute(row, start)
        m.regions.append(self.touched)
        self.races += self._races(m)
        m.clock[_INDEX[m.name]] = m.head  # the tokens it pushes carry its own completion
        self.counters[f"{m.name}_busy"] += end - start
        self.counters[f"{m.name}_insns"] += 1
        self.counters["insn_count"] += 1
        self.reached = max(self.reached, end)
        if m.name == "compute" and row[F_OPCODE] == OP_FINISH:
            return end, True
        m.push_time = end
        m.pending = [fifo for column, fifo in m.pushes.items() if row[column]]
        self._push(m)
        return end, False

    def _push(self, m: _Module) -> None:
        """Push ``m``'s pending tokens in order, stopping at a full FIFO."""
        while m.pending:
            fifo = self.fifos[m.pending[0]]
            if len(fifo) >= self.target.dep_queue_depth:
                return
            fifo.append((m.push_time, list(m.clock)))
            m.pending.pop(0)
        m.free = m.push_time
        self.reached = max(self.reached, m.push_time)

    def _races(self, m: _Module) -> bool:
        """Whether ``m``'s instruction that just started shares a region with an instruction of
        another module that has started and that the tokens do not order before it (one that
        starts later checks against this one)."""
        mine = m.regions[-1]
        for name in _SHARES[m.name]:
            other = self.modules[name]
            for theirs in other.regions[m.clock[_INDEX[name]] :]:
                for mem, region in mine.items():
                    if mem in theirs and _overlap(region, theirs[mem], self.depths[mem]):
                        return True
        return False

    def _touch(self, mem: int, lo: int, hi: int) -> None:
        """The executing instruction touches rows [lo, hi] of a shared SRAM."""
        depth = self.depths[mem]
        self.touched[mem] = (lo % depth, min(hi - lo + 1, depth))

    # ---- instruction durations and checks ------------------------------------------------
    def _execute(self, row: np.ndarray, start: int) -> int:
        """Account ``row`` started at ``start`` (counters, DRAM, checks); returns its end."""
        o = self.target.insn_overhead_cycles
        op, mem = int(row[F_OPCODE]), int(row[F_MEM_TYPE])
        x, y = int(row[F_X_SIZE]), int(row[F_Y_SIZE])
        if op == OP_LOAD and mem == MEM_UOP:
            return self._load_uop(row, start + o) if x else start + o
        if op == OP_LOAD and mem in (MEM_INP, MEM_WGT, MEM_ACC):
            return self._load(row, start + o) if x and y else start + o
        if op == OP_STORE:
            return self._store(row, start + o) if x and y else start + o
        if op in (OP_GEMM, OP_ALU):
            return start + o + self._gemm_alu(row)
        return start + o  # FINISH, a LOAD of another memory, unknown opcodes

    def _load_uop(self, row: np.ndarray, t: int) -> int:
        x, sram, dram = int(row[F_X_SIZE]), int(row[F_SRAM_BASE]), int(row[F_DRAM_BASE])
        nbytes = x * self.elem_bytes[MEM_UOP]
        self.counters["uop_load_nbytes"] += nbytes
        readable = min(self.dram_elems[MEM_UOP], len(self.uops))
        for k in range(x):  # DRAM outside the region reads as zeros
            src = dram + k
            uop = self.uops[src] if src < readable else 0
            self.uop_sram[(sram + k) % self.depths[MEM_UOP]] = uop
        self.overruns += sram + x > self.depths[MEM_UOP]
        self.oob += dram + x > self.dram_elems[MEM_UOP]
        return self.reads.transfer(t, 1, nbytes)

    def _load(self, row: np.ndarray, t: int) -> int:
        mem, x, y = int(row[F_MEM_TYPE]), int(row[F_X_SIZE]), int(row[F_Y_SIZE])
        y_pad0, y_pad1, x_pad0, x_pad1 = (
            int(row[c]) for c in (F_Y_PAD0, F_Y_PAD1, F_X_PAD0, F_X_PAD1)
        )
        # INP, WGT and ACC loads all zero-pad (docs/machine-semantics.md).
        width = x_pad0 + x + x_pad1
        pad = (y_pad0 + y_pad1) * width + y * (x_pad0 + x_pad1)  # one zero element per cycle
        name = {MEM_INP: "inp", MEM_WGT: "wgt", MEM_ACC: "acc"}[mem]
        self.counters[f"{name}_load_nbytes"] += x * y * self.elem_bytes[mem]
        self.counters["pad_cycles"] += pad
        rows, sram = (y_pad0 + y + y_pad1) * width, int(row[F_SRAM_BASE])
        self.overruns += sram + rows > self.depths[mem]
        if mem != MEM_ACC:  # LOAD ACC runs on the compute module: nothing shared
            self._touch(mem, sram, sram + rows - 1)
        self._check_dram(row, mem)
        # vta.cc pipelines the row loop of INP and ACC loads (load_pad_2d), not of WGT loads
        # (load_2d): a weight row is read only when the previous one has arrived.
        overlap = mem != MEM_WGT
        return self.reads.transfer(t + pad, y, x * self.elem_bytes[mem], rows_overlap=overlap)

    def _store(self, row: np.ndarray, t: int) -> int:
        x, y = int(row[F_X_SIZE]), int(row[F_Y_SIZE])
        self.counters["out_store_nbytes"] += x * y * self.elem_bytes[MEM_OUT]
        sram = int(row[F_SRAM_BASE])
        self.overruns += sram + y * x > self.depths[MEM_OUT]
        self._touch(MEM_OUT, sram, sram + y * x - 1)
        self._check_dram(row, MEM_OUT)
        return self.writes.transfer(t, y, x * self.elem_bytes[MEM_OUT])

    def _check_dram(self, row: np.ndarray, mem: int) -> None:
        last = int(row[F_DRAM_BASE]) + (int(row[F_Y_SIZE]) - 1) * int(row[F_X_STRIDE])
        self.oob += last + int(row[F_X_SIZE]) > self.dram_elems[mem]

    def _gemm_alu(self, row: np.ndarray) -> int:
        """Counters and checks of a GEMM/ALU; returns its duration without the overhead."""
        is_gemm = int(row[F_OPCODE]) == OP_GEMM
        bgn, end = int(row[F_UOP_BGN]), int(row[F_UOP_END])
        n = max(0, end - bgn)
        iter_out, iter_in = int(row[F_ITER_OUT]), int(row[F_ITER_IN])
        passes = iter_out * iter_in
        counter = (
            "alu_counter" if not is_gemm else "reset_counter" if row[F_RESET] else ("gemm_counter")
        )
        self.counters[counter] += passes * n
        if n == 0 or passes == 0:
            return 0
        window = self.uop_sram[np.arange(bgn, end) % self.depths[MEM_UOP]]

        def reach(column: int, f_out: int, f_in: int) -> int:
            """The largest un-wrapped index the instruction forms from a uop column."""
            return (
                int(window[:, column].max())
                + (iter_out - 1) * int(row[f_out])
                + (iter_in - 1) * int(row[f_in])
            )

        def low(column: int) -> int:
            """The smallest index (factors are unsigned, so the first pass's)."""
            return int(window[:, column].min())

        acc = self.depths[MEM_ACC]
        dst_reach = reach(U_DST, F_DST_OUT, F_DST_IN)
        overrun = end > self.depths[MEM_UOP] or dst_reach >= acc
        self._touch(MEM_OUT, low(U_DST), dst_reach)
        if is_gemm:
            src_reach, wgt_reach = (
                reach(U_SRC, F_SRC_OUT, F_SRC_IN),
                reach(U_WGT, F_WGT_OUT, F_WGT_IN),
            )
            overrun |= src_reach >= self.depths[MEM_INP]
            overrun |= wgt_reach >= self.depths[MEM_WGT]
            if not row[F_RESET]:  # a reset keeps nothing it reads (ACC becomes zero)
                self._touch(MEM_INP, low(U_SRC), src_reach)
                self._touch(MEM_WGT, low(U_WGT), wgt_reach)
        elif not row[F_USE_IMM]:  # the ALU reads ACC[src] only without an immediate
            overrun |= reach(U_SRC, F_SRC_OUT, F_SRC_IN) >= acc
        self.overruns += overrun
        d = self.target.rmw_distance
        if not row[F_RESET]:  # a reset writes zeros: no observable hazard
            hazard_window = d - 1 if is_gemm else d // 2  # ceil((D - 1) / 2) for ALU's II = 2
            dst = window[:, U_DST] % acc
            self.hazards += any(np.any(dst[k:] == dst[:-k]) for k in range(1, hazard_window + 1))
        return passes * ((n if is_gemm else 2 * n) + d - 1)
