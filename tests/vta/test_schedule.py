"""Legal module interleavings: they respect the tokens, and they expose a data race that
program order hides (a hand-built stream and TVM's uneven virtual-thread split)."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest

from ml2tuner.vta import isa
from ml2tuner.vta.compiler import _Emitter, compile_plan
from ml2tuner.vta.fsim import run_functional
from ml2tuner.vta.harness import check_functional, classify
from ml2tuner.vta.isa import Program
from ml2tuner.vta.plan import plan_conv2d
from ml2tuner.vta.runtime import COMPUTE_STAGE, LOAD_STAGE, STORE_STAGE, stage_of
from ml2tuner.vta.schedule import MODULES, legal_order
from ml2tuner.vta.sim import simulate, simulate_reference
from ml2tuner.vta.target import PRESETS, parse_model_string
from ml2tuner.vta.workload import RESNET18, Conv2D

PYNQ = PRESETS["pynq"]
LOAD_FIRST = ("load", "store", "compute")
# FIFO popped / pushed per (stage, flag column), as VTA wires them.
POPS = {
    (LOAD_STAGE, isa.F_POP_NEXT): "c2l",
    (COMPUTE_STAGE, isa.F_POP_PREV): "l2c",
    (COMPUTE_STAGE, isa.F_POP_NEXT): "s2c",
    (STORE_STAGE, isa.F_POP_PREV): "c2s",
}
PUSHES = {
    (LOAD_STAGE, isa.F_PUSH_NEXT): "l2c",
    (COMPUTE_STAGE, isa.F_PUSH_PREV): "c2l",
    (COMPUTE_STAGE, isa.F_PUSH_NEXT): "c2s",
    (STORE_STAGE, isa.F_PUSH_PREV): "s2c",
}


def row(opcode: int, **values: int) -> np.ndarray:
    out = np.zeros(isa.NUM_FIELDS, dtype=np.int64)
    out[isa.F_OPCODE] = opcode
    for name, value in values.items():
        out[isa.FIELD_NAMES.index(name)] = value
    return out


def assert_legal(fields: np.ndarray, order: np.ndarray) -> None:
    """Each module's instructions in stream order, and no pop before its token was pushed."""
    stages = [stage_of(r) for r in fields]
    for stage in (LOAD_STAGE, COMPUTE_STAGE, STORE_STAGE):
        mine = [i for i in order if stages[i] == stage]
        assert (
            mine == sorted(mine)
            and mine == [i for i in range(len(fields)) if stages[i] == stage][: len(mine)]
        )
    tokens = dict.fromkeys(POPS.values(), 0)
    for i in order:
        for (stage, column), fifo in POPS.items():
            if stages[i] == stage and fields[i, column]:
                tokens[fifo] -= 1
                assert tokens[fifo] >= 0, f"instruction {i} popped {fifo} before a push"
        for (stage, column), fifo in PUSHES.items():
            if stages[i] == stage and fields[i, column]:
                tokens[fifo] += 1


def racy_stream(credits: int) -> np.ndarray:
    """Two inputs loaded one after the other into INP row 0, each multiplied into its own ACC
    row, both rows stored. With ``credits`` = 2 WAR credits for one buffer the second load
    need not wait for the first GEMM (the idle-thread pattern of issue 10)."""
    setup = [row(isa.OP_LOAD, memory_type=isa.MEM_UOP, x_size=2, y_size=1, push_prev=1)]
    setup += [row(isa.OP_LOAD, memory_type=isa.MEM_UOP, push_prev=1)] * (credits - 1)
    load_inp = {"opcode": isa.OP_LOAD, "memory_type": isa.MEM_INP, "y_size": 1, "x_size": 1}
    body = [
        row(isa.OP_LOAD, memory_type=isa.MEM_WGT, y_size=1, x_size=1, x_stride=1),
        row(**load_inp, dram_base=0, pop_next=1, push_next=1),
        row(isa.OP_GEMM, uop_bgn=0, uop_end=1, iter_out=1, iter_in=1, pop_prev=1, push_prev=1),
        row(**load_inp, dram_base=1, pop_next=1, push_next=1),
        row(isa.OP_GEMM, uop_bgn=1, uop_end=2, iter_out=1, iter_in=1, pop_prev=1, push_next=1),
        row(isa.OP_STORE, memory_type=isa.MEM_OUT, y_size=1, x_size=2, pop_prev=1, push_prev=1),
        row(isa.OP_LOAD, memory_type=isa.MEM_UOP, pop_next=1),
        row(isa.OP_FINISH),
    ]
    return np.array(setup + body)


RACY_UOPS = np.array([[0, 0, 0], [1, 0, 0]], dtype=np.int64)  # ACC row 0 / 1 from INP row 0
DRAM = {isa.MEM_UOP: 2, isa.MEM_INP: 2, isa.MEM_WGT: 1, isa.MEM_OUT: 2, isa.MEM_ACC: 0}


def run_racy(credits: int, order: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """(OUT after running the racy stream in ``order``, the two rows it should hold)."""
    rng = np.random.default_rng(3)
    inp = rng.integers(-8, 8, size=(2, 1, 16), dtype=np.int8)
    wgt = rng.integers(-8, 8, size=(1, 16, 16), dtype=np.int8)
    out = run_functional(
        PYNQ, racy_stream(credits), RACY_UOPS, inp=inp, wgt=wgt, out_elems=2, order=order
    ).out
    expected = np.stack([x.astype(np.int32) @ wgt[0].T.astype(np.int32) for x in inp])
    return out, expected.astype(np.int8)


@pytest.mark.parametrize("credits", [1, 2])
def test_a_spare_credit_lets_a_load_overwrite_an_input_before_it_is_read(credits):
    fields = racy_stream(credits)
    fast = simulate(PYNQ, fields, RACY_UOPS, DRAM)
    slow = simulate_reference(PYNQ, fields, RACY_UOPS, DRAM)
    assert fast == slow and np.array_equal(fast.order, slow.order)
    assert fast.finished
    assert fast.races == (credits - 1)  # the second LOAD INP vs the first GEMM
    out, expected = run_racy(credits, None)  # program order hides the race ...
    assert np.array_equal(out, expected)
    load_first = legal_order(fields, priority=LOAD_FIRST)
    assert_legal(fields, load_first)
    out, expected = run_racy(credits, load_first)  # ... the load module running ahead shows it
    assert np.array_equal(out, expected) == (credits == 1)
    if credits == 1:  # synchronised: every legal order computes the same
        for priority in itertools.permutations(MODULES):
            out, expected = run_racy(credits, legal_order(fields, priority=priority))
            assert np.array_equal(out, expected)


def test_random_orders_are_legal_and_end_at_finish():
    fields = racy_stream(2)
    finish = len(fields) - 1
    seen = set()
    for seed in range(30):
        order = legal_order(fields, seed=seed)
        assert_legal(fields, order)
        assert order[-1] == finish and sorted(order) == list(range(len(fields)))
        seen.add(tuple(order))
    assert len(seen) > 1  # the seed changes the interleaving


def test_a_full_fifo_blocks_the_pusher():
    fields = racy_stream(2)
    order = legal_order(fields, priority=LOAD_FIRST, dep_queue_depth=1)
    assert_legal(fields, order)
    # The second credit cannot be pushed before the load module took the first one.
    assert list(order).index(1) > list(order).index(3)


def test_an_unmatched_pop_stops_the_order():
    fields = np.array([row(isa.OP_LOAD, memory_type=isa.MEM_INP, pop_next=1), row(isa.OP_FINISH)])
    assert list(legal_order(fields, priority=LOAD_FIRST)) == [1]  # FINISH runs, the load never
    with pytest.raises(ValueError):
        legal_order(fields)


# TVM's conv2d on the 4x8 target with oc_nthread=2 over a single output-channel tile: every
# step has one idle virtual thread (issue 10's example).
UNEVEN = (
    Conv2D("tb4", 4, 8, 8, 16, 16, 3, 1, 1),
    parse_model_string("pynq_4x8_i8w8a32_15_16_16_18"),
    {
        "tile_b": [1, 1],
        "tile_h": [1, 8],
        "tile_w": [2, 4],
        "tile_ci": [2, 1],
        "tile_co": [1, 2],
        "oc_nthread": 2,
        "h_nthread": 1,
    },
)


@pytest.mark.parametrize("idle_threads_sync", [False, True])
def test_uneven_virtual_thread_split(idle_threads_sync):
    workload, target, knobs = UNEVEN
    plan = plan_conv2d(workload, target, "autotvm", knobs)
    assert plan.n_co == 1 and plan.threads_co == 2 and plan.syncs_idle_threads
    program = compile_plan(dataclasses.replace(plan, syncs_idle_threads=idle_threads_sync)).program
    fields, uops = program.decoded()
    run = simulate(target, fields, uops, program.dram_elems)
    status, kind, _ = classify(program, run, target)
    load_first = legal_order(fields, priority=LOAD_FIRST)
    assert_legal(fields, run.order)
    assert_legal(fields, load_first)
    epilogue = plan.epilogue
    assert check_functional(workload, target, program, 2, epilogue=epilogue)  # program order
    if idle_threads_sync:  # what TVM emits: no race, right under every order
        assert (status, run.races) == ("valid", 0)
        orders = [run.order, load_first] + [legal_order(fields, seed=s) for s in range(3)]
        assert check_functional(workload, target, program, 2, orders, epilogue=epilogue)
    else:  # the idle thread's credit lets a LOAD overwrite an input a GEMM has not read
        assert (status, kind) == ("wrong_answer", "sync_race")
        assert not check_functional(workload, target, program, 2, [load_first], epilogue=epilogue)


# NEST-C's virtual threads as ping-pong INP/WGT slots over the input-channel chunks of one
# accumulator tile (docs/nestc.md §1 (b)): C11's board schedule (2, 7, 7) on zcu102, whose 32
# input-channel blocks need weights reloaded per chunk, and a padded 3x3 layer with an odd
# number of chunks per tile (the slot must carry over from one tile to the next).
PING_PONG = [
    (RESNET18["C11"], PRESETS["zcu102"], {"n_vthread": 2, "tile_h": 7, "tile_w": 7}),
    (Conv2D("odd", 1, 10, 10, 48, 64, 3, 1, 1), PYNQ, {"n_vthread": 2, "tile_h": 5, "tile_w": 5}),
]


@pytest.mark.parametrize(("workload", "target", "knobs"), PING_PONG, ids=["C11", "odd"])
def test_ping_pong_slots_are_race_free_under_every_legal_order(workload, target, knobs):
    plan = plan_conv2d(workload, target, "nestc", knobs)
    if workload.name == "odd":  # force 3 chunks of one block per tile over 2 slots
        plan = dataclasses.replace(plan, tci=1, slots=2)
    assert (plan.threads, plan.slots) == (1, 2) and plan.n_ci >= 2
    program = compile_plan(plan).program
    fields, uops = program.decoded()
    loads = fields[
        (fields[:, isa.F_OPCODE] == isa.OP_LOAD) & (fields[:, isa.F_MEM_TYPE] == isa.MEM_INP)
    ]
    bases = sorted(set(loads[:, isa.F_SRAM_BASE].tolist()))
    assert {b // plan.inp_tile for b in bases} == {0, 1}  # chunks alternate over 2 regions
    run = simulate(target, fields, uops, program.dram_elems)
    assert classify(program, run, target)[0] == "valid" and run.races == 0
    orders = [run.order] + [
        legal_order(fields, priority=p) for p in itertools.permutations(MODULES)
    ]
    orders += [legal_order(fields, seed=s) for s in range(3)]
    for order in orders:
        assert_legal(fields, order)
    assert check_functional(workload, target, program, 5, orders, epilogue=plan.epilogue)


class _SlotRestartingEmitter(_Emitter):
    """The slot placement done wrong: every tile starts again at slot 0."""

    def _emit_step(self, tiles):
        self.chunk = 0
        super()._emit_step(tiles)


def test_slots_restarting_at_every_tile_race():
    # The judges can fail: with 3 chunks per tile over 2 slots, restarting the slots at each
    # tile gives chunk 0 of the next tile the slot of chunk 2, whose WAR credit it does not
    # wait for (it waits for chunk 1's): a load overwrites inputs a GEMM has not read.
    workload, target, knobs = PING_PONG[1]
    plan = dataclasses.replace(plan_conv2d(workload, target, "nestc", knobs), tci=1, slots=2)
    emitter = _SlotRestartingEmitter(plan)
    fields, uops, _ = emitter.run()
    program = Program(target, fields, uops, compile_plan(plan).program.dram_elems)
    fields, uops = program.decoded()
    run = simulate(target, fields, uops, program.dram_elems)
    assert run.races > 0
    load_first = legal_order(fields, priority=LOAD_FIRST)
    assert not check_functional(workload, target, program, 5, [load_first], epilogue=plan.epilogue)
