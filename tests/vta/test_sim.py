"""Timing simulator: hand-computed timings, tokens, deadlock, FIFO capacity, checks, and the
numba kernel held equal to the plain reference on random streams."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from ml2tuner.vta.isa import (
    FIELD_NAMES,
    MEM_ACC,
    MEM_INP,
    MEM_OUT,
    MEM_UOP,
    MEM_WGT,
    NUM_FIELDS,
    OP_ALU,
    OP_FINISH,
    OP_GEMM,
    OP_LOAD,
    OP_STORE,
)
from ml2tuner.vta.sim import (
    COUNTER_NAMES,
    SimResult,
    SimWorkspace,
    simulate,
    simulate_reference,
)
from ml2tuner.vta.target import PRESETS, Target

PYNQ = PRESETS["pynq"]  # 8-byte bus, 16-byte instructions, latency 32, overhead 2, D = 3
COLUMN = {name: col for col, name in enumerate(FIELD_NAMES)}
ROOMY_DRAM = {
    MEM_UOP: 1 << 16,
    MEM_INP: 1 << 20,
    MEM_WGT: 1 << 20,
    MEM_ACC: 1 << 20,
    MEM_OUT: 1 << 20,
}


def insn(opcode: int, **values: int) -> np.ndarray:
    row = np.zeros(NUM_FIELDS, dtype=np.int64)
    row[COLUMN["opcode"]] = opcode
    for name, value in values.items():
        row[COLUMN[name]] = value
    return row


def run_both(target: Target, rows, uops=((0, 0, 0),), dram=None, **kwargs) -> SimResult:
    """Run both implementations, check they agree, return the result."""
    fields = np.array(rows, dtype=np.int64).reshape(-1, NUM_FIELDS)
    uops = np.array(uops, dtype=np.int64).reshape(-1, 3)
    dram = ROOMY_DRAM if dram is None else dram
    fast = simulate(target, fields, uops, dram, **kwargs)
    slow = simulate_reference(target, fields, uops, dram, **kwargs)
    assert fast == slow
    np.testing.assert_array_equal(fast.order, slow.order)
    return fast


def test_hand_computed_load_compute_store():
    rows = [
        insn(OP_LOAD, memory_type=MEM_UOP, x_size=4, y_size=1),
        insn(OP_LOAD, memory_type=MEM_INP, x_size=4, y_size=2, x_stride=4, push_next=1),
        insn(OP_GEMM, pop_prev=1, uop_bgn=0, uop_end=4, iter_out=2, iter_in=1, push_next=1),
        insn(OP_STORE, memory_type=MEM_OUT, x_size=4, y_size=1, pop_prev=1, push_prev=1),
        insn(OP_FINISH, pop_next=1),
    ]
    uops = [(0, 0, 0), (1, 1, 1), (2, 2, 2), (3, 3, 3)]
    result = run_both(PYNQ, rows, uops)
    # Fetch: 5 x 16 B = 80 B = 10 beats, done 0 + 32 + 10 = 42 (read channel free at 10);
    #   dispatches at 42 (uop load), 43 (inp load), 44 (gemm), 45 (store), 46 (finish).
    # LOAD UOP starts 42: DMA at 44 of 16 B = 2 beats, done 44 + 32 + 2 = 78 (free at 46).
    # LOAD INP starts 43: DMA at 45, 2 rows of 64 B = 8 beats each, both in flight: row 0's
    #   beats wait for the channel until 46 (free 54), row 1's follow (54..62), done 62 + 32
    #   = 94. Pushes l2c at 94.
    # GEMM starts at the token, 94: 2 + 2 passes x (4 uops + 3 - 1) = 14, ends 108.
    # STORE starts 108: DMA at 110 of 64 B on the idle write channel, done 110 + 8 + 32 = 150;
    #   pushes s2c at 150. FINISH starts 150, ends 152.
    assert result.finished and not result.deadlock and not result.timed_out
    assert result.cycles == 152
    c = result.counters
    assert c["fetch_bytes"] == 80 and c["fetch_busy"] == 42 + 5
    assert c["load_busy"] == 94 - 43 and c["store_busy"] == 150 - 108
    assert c["compute_stall"] == (94 - 78) + (150 - 108)
    assert c["dram_busy"] == 10 + 2 + 8 + 8 + 8
    assert c["inp_load_nbytes"] == 128 and c["uop_load_nbytes"] == 16
    assert c["out_store_nbytes"] == 64 and c["gemm_counter"] == 8
    assert c["insn_count"] == 5 and c["compute_insns"] == 3
    assert (result.hazards, result.sram_overruns, result.dram_oob) == (0, 0, 0)


def test_token_orders_compute_after_load():
    big_load = insn(OP_LOAD, memory_type=MEM_INP, x_size=16, y_size=64, x_stride=16)
    gemm = insn(OP_GEMM, uop_bgn=0, uop_end=1, iter_out=1, iter_in=1)
    finish = insn(OP_FINISH)
    free = run_both(PYNQ, [big_load, gemm, finish])
    synced = run_both(
        PYNQ,
        [
            insn(OP_LOAD, **{**_fields(big_load), "push_next": 1}),
            insn(OP_GEMM, **{**_fields(gemm), "pop_prev": 1}),
            finish,
        ],
    )
    # Fetch done at 32 + 6 = 38, load dispatched at 38 starts 38, DMA from 40: 64 rows of
    # 256 B = 2 bursts of 16 beats each, back to back (16 bursts in flight cover the latency)
    # -> load ends 40 + 64 * 32 + 32.
    load_end = 40 + 64 * 32 + 32
    gemm_cycles = 2 + 1 * (1 + 3 - 1)
    assert synced.cycles == load_end + gemm_cycles + 2
    assert free.cycles < load_end  # without the token compute does not wait
    assert synced.counters["compute_stall"] >= load_end - 40


def _fields(row: np.ndarray) -> dict[str, int]:
    return {name: int(row[col]) for name, col in COLUMN.items() if name != "opcode" and row[col]}


def test_unmatched_pop_deadlocks():
    rows = [insn(OP_GEMM, pop_prev=1, uop_bgn=0, uop_end=1, iter_out=1, iter_in=1), insn(OP_FINISH)]
    result = run_both(PYNQ, rows)
    assert result.deadlock and not result.finished and not result.timed_out
    assert result.counters["insn_count"] == 0
    assert result.cycles == 32 + 4 + 2  # the time reached: fetch and both dispatches


def test_stream_without_finish_deadlocks():
    result = run_both(PYNQ, [insn(OP_GEMM, uop_bgn=0, uop_end=1, iter_out=1, iter_in=1)])
    assert result.deadlock and not result.finished


def test_dep_fifo_capacity_blocks_producer():
    rows = [insn(OP_LOAD, memory_type=MEM_INP, push_next=1) for _ in range(3)]  # no-ops
    rows.append(insn(OP_LOAD, memory_type=MEM_INP, x_size=16, y_size=16, x_stride=16, push_next=1))
    rows.append(insn(OP_GEMM, uop_bgn=0, uop_end=1, iter_out=1000, iter_in=1))  # long
    rows += [
        insn(OP_GEMM, pop_prev=1, uop_bgn=0, uop_end=1, iter_out=1, iter_in=1) for _ in range(4)
    ]
    rows.append(insn(OP_FINISH))
    roomy = run_both(PYNQ, rows)
    tight = run_both(dataclasses.replace(PYNQ, dep_queue_depth=2), rows)
    assert roomy.finished and tight.finished
    # Fetch: 10 instructions = 20 beats, done 52; dispatches at 52..61 (long GEMM at 56).
    # The long GEMM runs 56 .. 56 + 2 + 1000 * 3 = 3058; each small GEMM takes 2 + 3 = 5.
    long_end = 56 + 2 + 1000 * 3
    # Roomy: the no-ops run 52..58, the big load (16 rows of 32 beats, back to back) runs
    # 58 .. 60 + 512 + 32, long before the pops: 4 small GEMMs and FINISH after the long GEMM.
    assert roomy.cycles == long_end + 4 * 5 + 2
    # Tight: the third no-op's push waits for the first pop at 3058; only then does the big
    # load start, ending at 3058 + 2 + 512 + 32, where the fourth small GEMM gets its token.
    assert tight.cycles == long_end + 2 + 16 * 32 + 32 + 5 + 2
    zero = run_both(dataclasses.replace(PYNQ, dep_queue_depth=0), rows)
    assert zero.deadlock


def test_command_queue_depth_stalls_fetch():
    rows = [insn(OP_GEMM, uop_bgn=0, uop_end=1, iter_out=50, iter_in=1) for _ in range(8)]
    rows.append(insn(OP_FINISH))
    roomy = run_both(PYNQ, rows)
    tight = run_both(dataclasses.replace(PYNQ, cmd_queue_depth=1), rows)
    assert roomy.counters["fetch_stall"] == 0 and tight.counters["fetch_stall"] > 0
    assert roomy.cycles == tight.cycles  # compute-bound either way
    assert run_both(dataclasses.replace(PYNQ, cmd_queue_depth=0), rows).deadlock


def _gemm_over(uops, opcode=OP_GEMM, **extra):
    rows = [
        insn(OP_LOAD, memory_type=MEM_UOP, x_size=len(uops), y_size=1),
        insn(opcode, uop_bgn=0, uop_end=len(uops), iter_out=1, iter_in=1, **extra),
        insn(OP_FINISH),
    ]
    return run_both(PYNQ, rows, uops, {**ROOMY_DRAM, MEM_UOP: len(uops)})


@pytest.mark.parametrize(
    ("dsts", "opcode", "extra", "hazard"),
    [
        ((0, 1, 0), OP_GEMM, {}, 1),  # distance 2 < D = 3
        ((0, 1, 2, 0), OP_GEMM, {}, 0),  # distance 3: the write has landed
        ((5, 5), OP_GEMM, {"reset": 1}, 0),  # a reset writes zeros
        ((0, 1, 0), OP_ALU, {}, 0),  # ALU window is ceil((3 - 1) / 2) = 1
        ((7, 7), OP_ALU, {}, 1),
        ((7, 7), OP_ALU, {"use_imm": 1}, 1),
    ],
)
def test_hazard_detection(dsts, opcode, extra, hazard):
    result = _gemm_over([(d, 0, 0) for d in dsts], opcode, **extra)
    assert result.hazards == hazard and result.sram_overruns == 0


# The flags of the token from the first module to the second: (push on first, pop on second).
_TOKEN = {
    ("load", "compute"): ("push_next", "pop_prev"),
    ("compute", "load"): ("push_prev", "pop_next"),
    ("compute", "store"): ("push_next", "pop_prev"),
    ("store", "compute"): ("push_prev", "pop_next"),
}


def _module(row) -> str:
    opcode, mem = int(row[COLUMN["opcode"]]), int(row[COLUMN["memory_type"]])
    if opcode == OP_STORE:
        return "store"
    return "load" if opcode == OP_LOAD and mem in (MEM_INP, MEM_WGT) else "compute"


def _race_stream(first, second, ordered: bool):
    """UOP load, ``first``, ``second`` and FINISH; when ``ordered``, a token from the first
    instruction's module to the second's orders them."""
    rows = [insn(OP_LOAD, memory_type=MEM_UOP, x_size=2, y_size=1), first.copy(), second.copy()]
    if ordered:
        push, pop = _TOKEN[_module(first), _module(second)]
        rows[1][COLUMN[push]] = rows[2][COLUMN[pop]] = 1
    rows.append(insn(OP_FINISH))
    return rows


_GEMM = insn(OP_GEMM, uop_bgn=0, uop_end=2, iter_out=2, iter_in=1, src_factor_out=8)
_ALU = insn(OP_ALU, uop_bgn=0, uop_end=2, iter_out=1, iter_in=1, use_imm=1)


@pytest.mark.parametrize(
    ("first", "second", "races"),
    [
        # GEMM reads INP rows 4..13 (uop src 4/5, two passes 8 apart), WGT row 0, writes OUT 0..1.
        (insn(OP_LOAD, memory_type=MEM_INP, sram_base=12, y_size=1, x_size=3), _GEMM, 1),
        (insn(OP_LOAD, memory_type=MEM_INP, sram_base=14, y_size=1, x_size=3), _GEMM, 0),
        (insn(OP_LOAD, memory_type=MEM_INP, sram_base=0, y_size=2, x_size=2), _GEMM, 0),
        (insn(OP_LOAD, memory_type=MEM_WGT, sram_base=0, y_size=1, x_size=1), _GEMM, 1),
        (insn(OP_LOAD, memory_type=MEM_WGT, sram_base=1, y_size=1, x_size=1), _GEMM, 0),
        # Padding rows are written too: 1 + 1 + 1 rows of width 4 from row 2 reach row 13.
        (
            insn(
                OP_LOAD,
                memory_type=MEM_INP,
                sram_base=2,
                y_size=1,
                x_size=2,
                y_pad_0=1,
                y_pad_1=1,
                x_pad_0=1,
                x_pad_1=1,
            ),
            _GEMM,
            1,
        ),
        # A region that wraps past the end of the SRAM overlaps rows at its start.
        (
            insn(OP_LOAD, memory_type=MEM_INP, sram_base=PYNQ.inp_depth - 1, y_size=1, x_size=6),
            _GEMM,
            1,
        ),
        (insn(OP_STORE, memory_type=MEM_OUT, sram_base=1, y_size=1, x_size=4), _GEMM, 1),
        (insn(OP_STORE, memory_type=MEM_OUT, sram_base=2, y_size=1, x_size=4), _ALU, 0),
        (insn(OP_STORE, memory_type=MEM_OUT, sram_base=0, y_size=1, x_size=1), _ALU, 1),
        # LOAD ACC runs on the compute module: same module as the GEMM, never a race.
        (insn(OP_LOAD, memory_type=MEM_ACC, sram_base=0, y_size=1, x_size=2), _GEMM, 0),
    ],
)
@pytest.mark.parametrize("reverse", [False, True])
def test_race_detection(first, second, races, reverse):
    uops = [(0, 4, 0), (1, 5, 0)]
    a, b = (second, first) if reverse else (first, second)
    free = run_both(PYNQ, _race_stream(a, b, ordered=False), uops)
    assert free.finished and free.races == races
    if races:
        assert run_both(PYNQ, _race_stream(a, b, ordered=True), uops).races == 0


def test_reset_gemm_reads_nothing_shared():
    reset = insn(OP_GEMM, uop_bgn=0, uop_end=2, iter_out=1, iter_in=1, reset=1)
    load = insn(OP_LOAD, memory_type=MEM_INP, sram_base=0, y_size=1, x_size=8)
    store = insn(OP_STORE, memory_type=MEM_OUT, sram_base=0, y_size=1, x_size=1)
    assert run_both(PYNQ, _race_stream(load, reset, ordered=False), [(0, 4, 0)] * 2).races == 0
    assert run_both(PYNQ, _race_stream(store, reset, ordered=False), [(0, 4, 0)] * 2).races == 1


def test_tokens_order_across_a_chain_of_modules():
    # A GEMM reads INP row 0, a later LOAD overwrites it. No token goes from the GEMM to the
    # load module directly; the chain GEMM -c2s-> STORE -s2c-> compute no-op -c2l-> LOAD
    # orders them all the same (happens-before is transitive).
    rows = [
        insn(OP_LOAD, memory_type=MEM_UOP, x_size=1, y_size=1),
        insn(OP_GEMM, uop_bgn=0, uop_end=1, iter_out=1, iter_in=1, push_next=1),
        insn(OP_STORE, memory_type=MEM_OUT, pop_prev=1, push_prev=1),
        insn(OP_LOAD, memory_type=MEM_UOP, pop_next=1, push_prev=1),
        insn(OP_LOAD, memory_type=MEM_INP, y_size=1, x_size=1, pop_next=1),
        insn(OP_FINISH),
    ]
    assert run_both(PYNQ, rows, [(0, 0, 0)]).races == 0
    rows[3][COLUMN["push_prev"]] = rows[4][COLUMN["pop_next"]] = 0  # break the last link
    assert run_both(PYNQ, rows, [(0, 0, 0)]).races == 1


def test_hazard_sees_reloaded_uops():
    safe, unsafe = [(0, 0, 0), (1, 0, 0)], [(3, 0, 0), (3, 0, 0)]
    gemm = insn(OP_GEMM, uop_bgn=0, uop_end=2, iter_out=2, iter_in=2)
    rows = [
        insn(OP_LOAD, memory_type=MEM_UOP, x_size=2, y_size=1),
        gemm,
        insn(OP_LOAD, memory_type=MEM_UOP, dram_base=2, x_size=2, y_size=1),
        gemm,
        gemm,
        insn(OP_FINISH),
    ]
    assert run_both(PYNQ, rows, safe + unsafe).hazards == 2


@pytest.mark.parametrize(
    ("row", "overruns", "oob"),
    [
        (
            insn(
                OP_GEMM,
                uop_bgn=0,
                uop_end=1,
                iter_out=2,
                iter_in=1,
                dst_factor_out=PYNQ.acc_depth - 1,
                dst_factor_in=5,
            ),
            0,
            0,
        ),  # dst 0 + 1 * 2047 stays inside
        (
            insn(
                OP_GEMM,
                uop_bgn=0,
                uop_end=1,
                iter_out=2,
                iter_in=2,
                dst_factor_out=PYNQ.acc_depth - 1,
                dst_factor_in=1,
            ),
            1,
            0,
        ),  # 2047 + 1 = 2048
        (insn(OP_GEMM, uop_bgn=0, uop_end=1, iter_out=3, iter_in=1, wgt_factor_out=512), 1, 0),
        (insn(OP_ALU, uop_bgn=0, uop_end=1, iter_out=3, iter_in=1, src_factor_out=1500), 1, 0),
        (
            insn(
                OP_ALU, uop_bgn=0, uop_end=1, iter_out=3, iter_in=1, src_factor_out=1500, use_imm=1
            ),
            0,
            0,
        ),  # with an immediate the ALU reads no ACC[src]
        (
            insn(
                OP_GEMM,
                uop_bgn=PYNQ.uop_depth - 1,
                uop_end=PYNQ.uop_depth + 1,
                iter_out=1,
                iter_in=1,
            ),
            1,
            0,
        ),  # the uop index wraps
        (
            insn(
                OP_LOAD,
                memory_type=MEM_INP,
                sram_base=PYNQ.inp_depth - 10,
                x_size=2,
                y_size=2,
                x_stride=2,
                x_pad_0=1,
                x_pad_1=1,
                y_pad_0=1,
            ),
            1,
            0,
        ),  # 3 rows x 4 = 12 > 10
        (
            insn(
                OP_LOAD,
                memory_type=MEM_INP,
                sram_base=PYNQ.inp_depth - 12,
                x_size=2,
                y_size=2,
                x_stride=2,
                x_pad_0=1,
                x_pad_1=1,
                y_pad_0=1,
            ),
            0,
            0,
        ),
        (
            insn(
                OP_LOAD,
                memory_type=MEM_WGT,
                sram_base=PYNQ.wgt_depth - 4,
                x_size=2,
                y_size=2,
                x_stride=2,
                x_pad_0=1,
            ),
            1,
            0,
        ),  # WGT loads pad too: 2 rows x 3 = 6 > 4
        (insn(OP_LOAD, memory_type=MEM_ACC, dram_base=95, x_size=2, y_size=2, x_stride=4), 0, 1),
        (insn(OP_LOAD, memory_type=MEM_ACC, dram_base=94, x_size=2, y_size=2, x_stride=4), 0, 0),
        (
            insn(
                OP_LOAD,
                memory_type=MEM_UOP,
                sram_base=PYNQ.uop_depth - 1,
                dram_base=99,
                x_size=2,
                y_size=1,
            ),
            1,
            1,
        ),
        (
            insn(
                OP_STORE,
                memory_type=MEM_OUT,
                sram_base=PYNQ.acc_depth - 3,
                x_size=2,
                y_size=2,
                x_stride=2,
            ),
            1,
            0,
        ),
        (insn(OP_STORE, memory_type=MEM_OUT, dram_base=200, x_size=0, y_size=2), 0, 0),  # no-op
    ],
)
def test_overrun_and_oob_detection(row, overruns, oob):
    dram = {mem: 100 for mem in (MEM_UOP, MEM_INP, MEM_WGT, MEM_ACC, MEM_OUT)}
    result = run_both(PYNQ, [row, insn(OP_FINISH)], dram=dram)
    assert (result.sram_overruns, result.dram_oob) == (overruns, oob)


def test_large_rows_split_into_bursts():
    # One WGT row of 16 x 256 B = 512 beats: 32 bursts of 16 beats.
    rows = [
        insn(OP_LOAD, memory_type=MEM_WGT, x_size=16, y_size=1, push_next=1),
        insn(OP_FINISH, pop_prev=1),
    ]
    result = run_both(PYNQ, rows)
    # Fetch: 2 instructions = 4 beats, done 36; the load starts 36, its DMA at 38. With 16
    # bursts in flight the beats stream back to back and the latency is paid once.
    assert result.cycles == 36 + 2 + 512 + 32 + 2
    assert result.counters["dram_busy"] == 4 + 512
    # One burst in flight: each of the 32 bursts pays the latency.
    serial = run_both(dataclasses.replace(PYNQ, dram_read_outstanding=1), rows)
    assert serial.cycles == 36 + 2 + 32 * (16 + 32) + 2


def test_timeout():
    rows = [insn(OP_GEMM, uop_bgn=0, uop_end=1, iter_out=100, iter_in=1), insn(OP_FINISH)]
    result = run_both(PYNQ, rows, max_cycles=100)
    assert result.timed_out and not result.finished and not result.deadlock
    assert result.cycles == 100
    assert run_both(PYNQ, rows, max_cycles=1000).finished


# ---- random token-balanced streams: numba == reference --------------------------------

POPS = {
    "load": [("pop_next", "c2l")],
    "compute": [("pop_prev", "l2c"), ("pop_next", "s2c")],
    "store": [("pop_prev", "c2s")],
}
PUSHES = {
    "load": [("push_next", "l2c")],
    "compute": [("push_prev", "c2l"), ("push_next", "c2s")],
    "store": [("push_prev", "s2c")],
}


def random_target(rng: np.random.Generator) -> Target:
    base = PRESETS[str(rng.choice(["pynq", "ultra96", "zcu102"]))]
    small = rng.random() < 0.3  # small buffers make wrap-around and overruns common
    return dataclasses.replace(
        base,
        log_uop_buff_size=8 if small else base.log_uop_buff_size,
        log_acc_buff_size=12 if small else base.log_acc_buff_size,
        cmd_queue_depth=int(rng.choice([1, 4, 512, 512])),
        dep_queue_depth=int(rng.choice([1, 3, 255, 255])),
        dram_latency_cycles=int(rng.choice([0, 1, 32, 200])),
        # Short bursts and few outstanding ones make the outstanding limit bind.
        dram_burst_beats=int(rng.choice([1, 2, 16, 256])),
        dram_read_outstanding=int(rng.choice([1, 2, 16])),
        dram_write_outstanding=int(rng.choice([1, 2, 16])),
        insn_overhead_cycles=int(rng.integers(0, 4)),
        rmw_distance=int(rng.integers(1, 6)),
    )


def random_stream(
    rng: np.random.Generator, target: Target, length: int, *, unbalanced: float = 0.0
):
    """A random stream whose pops (but with probability ``unbalanced``) match earlier pushes.

    Returns ``(fields, uops, dram_elems)``.
    """
    n_uops = int(rng.integers(1, 300))
    uops = np.column_stack(
        [
            rng.integers(0, 6, n_uops),
            rng.integers(0, target.inp_depth, n_uops),
            rng.integers(0, target.wgt_depth, n_uops),
        ]
    )
    dram = {MEM_UOP: n_uops, MEM_INP: 4000, MEM_WGT: 400, MEM_ACC: 1000, MEM_OUT: 4000}
    outstanding = dict.fromkeys(("l2c", "c2l", "c2s", "s2c"), 0)
    limit = min(200, target.dep_queue_depth)  # tokens pushed but not yet popped, per FIFO
    kinds = ["inp", "wgt", "uop", "acc", "gemm", "alu", "store", "noop", "odd"]
    weights = np.array([12, 6, 5, 2, 30, 12, 10, 8, 1], dtype=float)
    rows = []
    for _ in range(length):
        kind = kinds[rng.choice(len(kinds), p=weights / weights.sum())]
        row, module = _random_insn(rng, kind, n_uops, target)
        for name, fifo in POPS[module]:
            if (outstanding[fifo] and rng.random() < 0.6) or rng.random() < unbalanced:
                row[COLUMN[name]] = 1
                outstanding[fifo] = max(0, outstanding[fifo] - 1)
        for name, fifo in PUSHES[module]:
            if rng.random() < 0.4 and outstanding[fifo] < limit:
                row[COLUMN[name]] = 1
                outstanding[fifo] += 1
        rows.append(row)
    rows.append(
        insn(OP_FINISH, pop_prev=int(outstanding["l2c"] > 0), pop_next=int(outstanding["s2c"] > 0))
    )
    return np.array(rows), uops, dram


def _random_insn(rng: np.random.Generator, kind: str, n_uops: int, target: Target):
    def small(hi: int) -> int:
        return int(rng.integers(0, hi))

    if kind in ("inp", "wgt", "acc", "noop"):
        mem = {"inp": MEM_INP, "wgt": MEM_WGT, "acc": MEM_ACC, "noop": MEM_INP}[kind]
        x = 0 if kind == "noop" else small(300) if rng.random() < 0.05 else small(20) + 1
        row = insn(
            OP_LOAD,
            memory_type=mem,
            sram_base=small(target.inp_depth),
            dram_base=small(3000),
            x_size=x,
            y_size=small(6) + (kind != "noop"),
            x_stride=x + small(4),
            y_pad_0=small(3),
            y_pad_1=small(3),
            x_pad_0=small(3),
            x_pad_1=small(3),
        )
        return row, "compute" if mem == MEM_ACC else "load"
    if kind == "uop":
        return insn(
            OP_LOAD,
            memory_type=MEM_UOP,
            sram_base=small(target.uop_depth),
            dram_base=small(n_uops + 5),
            x_size=small(40),
            y_size=1,
        ), "compute"
    if kind in ("gemm", "alu"):
        bgn = small(target.uop_depth)
        if rng.random() < 0.8:
            bgn = small(60)
        return insn(
            OP_GEMM if kind == "gemm" else OP_ALU,
            reset=int(rng.random() < 0.2),
            uop_bgn=bgn,
            uop_end=bgn + small(12) - 1,
            iter_out=small(5),
            iter_in=small(4),
            dst_factor_out=small(300),
            dst_factor_in=small(8),
            src_factor_out=small(300),
            src_factor_in=small(8),
            wgt_factor_out=small(200),
            wgt_factor_in=small(8),
            alu_opcode=small(5),
            use_imm=small(2),
            imm=small(100),
        ), "compute"
    if kind == "store":
        x = small(30) + 1
        return insn(
            OP_STORE,
            memory_type=MEM_OUT,
            sram_base=small(target.acc_depth),
            dram_base=small(4000),
            x_size=x,
            y_size=small(5),
            x_stride=x + small(3),
        ), "store"
    # An opcode the hardware ignores, or a LOAD of the OUT memory: routed to compute.
    if rng.random() < 0.5:
        return insn(int(rng.integers(5, 8))), "compute"
    return insn(OP_LOAD, memory_type=MEM_OUT, x_size=4, y_size=4), "compute"


def random_run(seed: int):
    """``(target, fields, uops, dram, max_cycles)`` of random stream ``seed`` (a stream of 1 to
    400 instructions; every fourth unbalanced, every fifth with a short timeout)."""
    rng = np.random.default_rng(seed)
    target = random_target(rng)
    fields, uops, dram = random_stream(
        rng, target, int(rng.integers(1, 400)), unbalanced=0.01 if seed % 4 == 0 else 0.0
    )
    max_cycles = int(rng.integers(100, 20_000)) if seed % 5 == 0 else None
    return target, fields, uops, dram, max_cycles


@pytest.mark.parametrize("seed", range(60))
def test_numba_equals_reference_on_random_streams(seed):
    target, fields, uops, dram, max_cycles = random_run(seed)
    fast = simulate(target, fields, uops, dram, max_cycles=max_cycles)
    slow = simulate_reference(target, fields, uops, dram, max_cycles=max_cycles)
    assert fast == slow
    np.testing.assert_array_equal(fast.order, slow.order)
    assert set(fast.counters) == set(COUNTER_NAMES)
    assert fast.finished + fast.deadlock + fast.timed_out == 1


def test_a_reused_workspace_simulates_as_a_fresh_one():
    # Streams of every length and outcome, one after the other through one table (grown in
    # between): nothing a stream left in its rows may show in a later run.
    workspace = SimWorkspace()
    for seed in range(40):
        target, fields, uops, dram, max_cycles = random_run(seed)
        reused = simulate(target, fields, uops, dram, max_cycles=max_cycles, workspace=workspace)
        fresh = simulate(target, fields, uops, dram, max_cycles=max_cycles)
        assert reused == fresh
        np.testing.assert_array_equal(reused.order, fresh.order)
    assert len(workspace.table) < 400


def test_random_streams_cover_all_outcomes():
    outcomes = set()
    for seed in range(60):
        target, fields, uops, dram, max_cycles = random_run(seed)
        r = simulate(target, fields, uops, dram, max_cycles=max_cycles)
        outcomes |= {
            ("finished", r.finished),
            ("deadlock", r.deadlock),
            ("timed_out", r.timed_out),
            ("hazards", r.hazards > 0),
            ("overruns", r.sram_overruns > 0),
            ("oob", r.dram_oob > 0),
            ("races", r.races > 0),
        }
    assert all(
        (name, True) in outcomes
        for name in ("finished", "deadlock", "timed_out", "hazards", "overruns", "oob", "races")
    )


@pytest.mark.parametrize("seed", range(20))
def test_balanced_streams_within_fifo_capacity_never_deadlock(seed):
    # Every pop matches an earlier push and at most dep_queue_depth tokens are outstanding in
    # stream order, so the earliest unfinished instruction can always start.
    rng = np.random.default_rng(1000 + seed)
    target = random_target(rng)
    fields, uops, dram = random_stream(rng, target, 300)
    result = simulate(target, fields, uops, dram)
    assert result.finished and not result.deadlock


def test_empty_stream():
    result = run_both(PYNQ, np.zeros((0, NUM_FIELDS), dtype=np.int64))
    assert result.deadlock and result.cycles == 0 and result.counters["insn_count"] == 0
