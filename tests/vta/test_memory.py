"""The DRAM model of the timing simulator: one port with separate read and write channels,
several bursts in flight per DMA, fetch and uop loads as read masters (docs/timing-model.md,
"DRAM port"). Hand-built streams, each run by both simulators (``run_both`` holds them equal).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from test_sim import COLUMN, PYNQ, insn, run_both

from ml2tuner.vta.isa import (
    MEM_ACC,
    MEM_INP,
    MEM_OUT,
    MEM_WGT,
    OP_FINISH,
    OP_GEMM,
    OP_LOAD,
    OP_STORE,
)
from ml2tuner.vta.target import PRESETS, TargetError

# PYNQ: 8-byte channel, 16-byte instructions, latency 32, overhead 2, 16-beat bursts, 16 in
# flight. An INP/OUT element is 16 B (2 beats), an ACC element 64 B, a WGT element 256 B.
LATENCY = PYNQ.dram_latency_cycles


def test_a_store_does_not_wait_for_a_loads_beats():
    # Two 64-row transfers of 256 B rows (2048 beats each) issued one cycle apart by two
    # modules. Fetch: 3 instructions = 6 beats, done 38; dispatches at 38, 39, 40.
    load = insn(OP_LOAD, memory_type=MEM_INP, x_size=16, y_size=64, x_stride=16, push_next=1)
    store = insn(OP_STORE, memory_type=MEM_OUT, x_size=16, y_size=64, x_stride=16, push_prev=1)
    finish = insn(OP_FINISH, pop_prev=1, pop_next=1)
    both = run_both(PYNQ, [load, store, finish])
    # The load's DMA from 40 holds the read channel to 2088, done 2120; the store's DMA from
    # 41 has the write channel to itself: done 41 + 2048 + 32 = 2121. FINISH 2121 .. 2123.
    assert both.cycles == 41 + 2048 + LATENCY + 2
    assert both.counters["store_busy"] == 2 + 2048 + LATENCY
    # A second read of the same size (LOAD ACC, on the compute module) waits for the beats.
    acc = insn(OP_LOAD, memory_type=MEM_ACC, x_size=4, y_size=64, x_stride=4)
    reads = run_both(PYNQ, [load, acc, insn(OP_FINISH, pop_prev=1)])
    assert reads.cycles == 40 + 2 * 2048 + LATENCY + 2


@pytest.mark.parametrize(
    ("outstanding", "dma_cycles"),
    [
        (16, 8 * 2 + LATENCY),  # all 8 rows in flight: the latency once, then the beats
        (8, 8 * 2 + LATENCY),  # exactly enough
        (2, 3 * (2 + LATENCY) + 2 + 2 + LATENCY),  # pairs: rows 2k, 2k+1 wait for row 2k-2
        (1, 8 * (2 + LATENCY)),  # one at a time: the latency per row
    ],
)
def test_a_row_load_overlaps_latency_up_to_the_outstanding_limit(outstanding, dma_cycles):
    # 8 rows of one INP element (2 beats each). Fetch: 2 instructions = 4 beats, done 36;
    # the load starts at 36, its DMA at 38.
    rows = [
        insn(OP_LOAD, memory_type=MEM_INP, x_size=1, y_size=8, x_stride=1, push_next=1),
        insn(OP_FINISH, pop_prev=1),
    ]
    result = run_both(dataclasses.replace(PYNQ, dram_read_outstanding=outstanding), rows)
    assert result.cycles == 38 + dma_cycles + 2
    assert result.counters["dram_busy"] == 4 + 8 * 2


def test_weight_rows_wait_for_each_other():
    # VTA's HLS load pipelines the row loop of INP loads but not of WGT loads: 8 rows of
    # 256 B (32 beats) cost the latency once as INP, once per row as WGT.
    def load(mem: int, x: int) -> list:
        return [
            insn(OP_LOAD, memory_type=mem, x_size=x, y_size=8, x_stride=x, push_next=1),
            insn(OP_FINISH, pop_prev=1),
        ]

    assert run_both(PYNQ, load(MEM_INP, 16)).cycles == 38 + 8 * 32 + LATENCY + 2
    assert run_both(PYNQ, load(MEM_WGT, 1)).cycles == 38 + 8 * (32 + LATENCY) + 2


@pytest.mark.parametrize(("outstanding", "dma_cycles"), [(16, 8 * 2 + LATENCY), (1, 8 * 34)])
def test_store_rows_respect_the_write_outstanding_limit(outstanding, dma_cycles):
    rows = [
        insn(OP_STORE, memory_type=MEM_OUT, x_size=1, y_size=8, x_stride=1, push_prev=1),
        insn(OP_FINISH, pop_next=1),
    ]
    result = run_both(dataclasses.replace(PYNQ, dram_write_outstanding=outstanding), rows)
    assert result.cycles == 38 + dma_cycles + 2


def test_fetch_reads_on_the_read_channel_only():
    # 202 instructions: a 2048-beat transfer first, then 200 no-work GEMMs and FINISH. Fetch
    # reads 16 bursts x 16 beats x 8 B = 128 instructions at a time: the first group (256
    # beats) is done at 288 and dispatched 288 .. 415; the second (74 instructions, 148 beats)
    # is requested at 416. A store's beats are on the write channel and do not delay it; a
    # load's beats (290 .. 2338 on the read channel) do.
    noops = [insn(OP_GEMM, uop_bgn=0, uop_end=0, iter_out=1, iter_in=1)] * 200
    store = insn(OP_STORE, memory_type=MEM_OUT, x_size=16, y_size=64, x_stride=16)
    load = insn(OP_LOAD, memory_type=MEM_INP, x_size=16, y_size=64, x_stride=16)
    after_store = run_both(PYNQ, [store, *noops, insn(OP_FINISH)])
    after_load = run_both(PYNQ, [load, *noops, insn(OP_FINISH)])
    first_group, dispatches = 256 + LATENCY, 202
    assert after_store.counters["fetch_busy"] == first_group + 148 + LATENCY + dispatches
    assert after_load.counters["fetch_busy"] == first_group + (2338 - 416) + 148 + LATENCY + 202


def _synchronised_stream(rng: np.random.Generator):
    """Random loads and stores, each waited for by compute before FINISH starts."""
    rows = []
    for _ in range(int(rng.integers(1, 30))):
        x, y = int(rng.integers(1, 40)), int(rng.integers(1, 12))
        kind = rng.integers(0, 4)
        if kind < 2:  # LOAD INP/WGT on the load module, then compute takes its token
            mem = MEM_INP if kind == 0 else MEM_WGT
            rows.append(insn(OP_LOAD, memory_type=mem, x_size=x, y_size=y, x_stride=x, push_next=1))
            rows.append(insn(OP_GEMM, pop_prev=1))
        elif kind == 2:  # LOAD ACC on compute itself
            rows.append(insn(OP_LOAD, memory_type=MEM_ACC, x_size=x, y_size=y, x_stride=x))
        else:  # compute hands a token to a store and waits for its reply
            store = insn(OP_STORE, memory_type=MEM_OUT, x_size=x, y_size=y, x_stride=x)
            store[[COLUMN["pop_prev"], COLUMN["push_prev"]]] = 1
            rows += [insn(OP_GEMM, push_next=1), store, insn(OP_GEMM, pop_next=1)]
    rows.append(insn(OP_FINISH))
    return rows


@pytest.mark.parametrize("seed", range(12))
def test_cycles_never_beat_the_channels(seed):
    # Each channel carries one beat per cycle and every burst is done `latency` after its
    # beats, so a run that waits for all its transfers lasts at least each channel's beats
    # plus the latency, whatever the bursts and outstanding limits.
    rng = np.random.default_rng(seed)
    target = dataclasses.replace(
        PRESETS[str(rng.choice(["pynq", "zcu102"]))],
        dram_latency_cycles=int(rng.choice([0, 32, 200])),
        dram_burst_beats=int(rng.choice([1, 4, 16, 256])),
        dram_read_outstanding=int(rng.choice([1, 3, 16])),
        dram_write_outstanding=int(rng.choice([1, 3, 16])),
    )
    result = run_both(target, _synchronised_stream(rng))
    assert result.finished
    c, bus = result.counters, target.bus_bytes
    read_bytes = sum(c[f"{m}_load_nbytes"] for m in ("inp", "wgt", "acc", "uop"))
    read_bytes += c["fetch_bytes"]
    assert result.cycles >= read_bytes / bus + target.dram_latency_cycles
    if c["out_store_nbytes"]:
        assert result.cycles >= c["out_store_nbytes"] / bus + target.dram_latency_cycles
    assert c["dram_busy"] >= (read_bytes + c["out_store_nbytes"]) / bus


@pytest.mark.parametrize(
    "field", ["dram_burst_beats", "dram_read_outstanding", "dram_write_outstanding"]
)
def test_a_port_needs_at_least_one_beat_and_one_request_in_flight(field):
    with pytest.raises(TargetError, match=field):
        dataclasses.replace(PYNQ, **{field: 0})
