"""The counting pass: hand-computed counts, and the timing simulator's counters of the same name."""

from __future__ import annotations

import numpy as np
import pytest

from ml2tuner.space.templates import get_template
from ml2tuner.vta.compiler import compile_conv2d
from ml2tuner.vta.counting import STATISTIC_NAMES, count_stream
from ml2tuner.vta.isa import (
    FIELD_NAMES,
    MEM_INP,
    MEM_OUT,
    MEM_UOP,
    NUM_FIELDS,
    OP_ALU,
    OP_FINISH,
    OP_GEMM,
    OP_LOAD,
    OP_STORE,
    layout_for,
)
from ml2tuner.vta.sim import COUNTER_NAMES, simulate
from ml2tuner.vta.target import PRESETS, parse_model_string
from ml2tuner.vta.workload import Conv2D

SHARED = sorted(set(STATISTIC_NAMES) & set(COUNTER_NAMES))


def _insn(opcode: int, **values: int) -> np.ndarray:
    row = np.zeros(NUM_FIELDS, dtype=np.int64)
    row[FIELD_NAMES.index("opcode")] = opcode
    for name, value in values.items():
        row[FIELD_NAMES.index(name)] = value
    return row


def test_counts_of_a_hand_built_stream():
    target = PRESETS["pynq"]  # INP element 16 B, OUT 16 B, uop 4 B
    fields = np.array(
        [
            _insn(OP_LOAD, memory_type=MEM_UOP, x_size=6, y_size=1),
            # 3 rows of 5 elements, padded by 1 on every side: 5x7 = 35 on chip, 15 loaded
            _insn(OP_LOAD, memory_type=MEM_INP, x_size=5, y_size=3, push_next=1, **_pads(1)),
            _insn(OP_LOAD, memory_type=MEM_INP, x_size=0, y_size=3),  # a no-op
            _insn(OP_GEMM, reset=1, uop_bgn=0, uop_end=2, iter_out=3, iter_in=1, pop_prev=1),
            _insn(OP_GEMM, uop_bgn=0, uop_end=4, iter_out=2, iter_in=5, push_next=1),
            _insn(OP_ALU, uop_bgn=4, uop_end=6, iter_out=1, iter_in=3, use_imm=1),
            _insn(OP_STORE, memory_type=MEM_OUT, x_size=4, y_size=2, pop_prev=1, push_prev=1),
            _insn(OP_FINISH, pop_next=1),
        ]
    )
    c = count_stream(target, fields)
    assert c["uop_load_nbytes"] == 6 * 4 and c["n_load_uop"] == 1
    assert c["inp_load_nbytes"] == 15 * 16 and c["inp_rows"] == 3 and c["n_load_inp"] == 1
    assert c["pad_elems"] == 35 - 15
    assert c["n_noop"] == 1
    assert (c["reset_counter"], c["n_reset"]) == (6, 1)
    assert (c["gemm_counter"], c["n_gemm"], c["gemm_uops"]) == (40, 1, 4)
    assert (c["alu_counter"], c["n_alu"], c["n_alu_imm"], c["alu_uops"]) == (6, 1, 1, 2)
    assert (c["out_store_nbytes"], c["out_rows"], c["n_store"]) == (8 * 16, 2, 1)
    assert (c["load_insns"], c["compute_insns"], c["store_insns"], c["insn_count"]) == (2, 5, 1, 8)
    assert (c["tokens_l2c"], c["tokens_c2s"], c["tokens_c2l"], c["tokens_s2c"]) == (1, 1, 0, 1)
    assert c["fetch_bytes"] == 8 * layout_for(target).insn_bits // 8


def _pads(n: int) -> dict[str, int]:
    return {name: n for name in ("y_pad_0", "y_pad_1", "x_pad_0", "x_pad_1")}


CASES = {
    "pynq-3x3": (Conv2D("t3x3", 1, 14, 14, 32, 32, 3, 1, 1), PRESETS["pynq"]),
    "zcu102-1x1s2": (Conv2D("t1x1s2", 1, 14, 14, 32, 64, 1, 0, 2), PRESETS["zcu102"]),
    "batch4-4x8": (
        Conv2D("tb4", 4, 8, 8, 16, 16, 3, 1, 1),
        parse_model_string("pynq_4x8_i8w8a32_15_16_16_18"),
    ),
}


@pytest.mark.parametrize("template", ["nestc", "autotvm"])
@pytest.mark.parametrize("case", list(CASES))
def test_shared_counters_equal_the_timing_simulators(case, template):
    workload, target = CASES[case]
    space = get_template(template).enumerate(workload, target)
    picks = np.random.default_rng(3).choice(len(space), size=min(25, len(space)), replace=False)
    compared = 0
    for i in picks:
        program = compile_conv2d(workload, target, template, space[i]).program
        if program is None:  # refused before it ran: nothing to count
            continue
        fields, uops = program.decoded()
        run = simulate(target, fields, uops, program.dram_elems)
        if not run.finished:  # a deadlocked or timed-out run stops counting part way
            continue
        counted = count_stream(target, fields)
        assert {n: counted[n] for n in SHARED} == {n: run.counters[n] for n in SHARED}
        compared += 1
    assert compared >= 5, "too few drawn configurations ran to compare"
    assert len(SHARED) >= 13  # every fsim profiler counter and the per-module instruction counts
