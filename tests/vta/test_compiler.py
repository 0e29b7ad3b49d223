"""The compiler's decisions and checks, and the shape of the streams it emits."""

import numpy as np
import pytest

from ml2tuner.space.templates import get_template
from ml2tuner.vta import isa
from ml2tuner.vta.compiler import HIDDEN_FEATURES, compile_conv2d
from ml2tuner.vta.runtime import stage_of
from ml2tuner.vta.target import PRESETS
from ml2tuner.vta.workload import RESNET18, Conv2D

PYNQ, ZCU = PRESETS["pynq"], PRESETS["zcu102"]


def _knobs(h=(7, 8), w=(1, 56), ci=(4, 1), co=(2, 2), oc=1, hn=1):
    return {
        "tile_b": [1, 1],
        "tile_h": list(h),
        "tile_w": list(w),
        "tile_ci": list(ci),
        "tile_co": list(co),
        "oc_nthread": oc,
        "h_nthread": hn,
    }


def _token_counts(fields):
    """Pushes and pops per dependency queue (load->compute, compute->load, ...)."""
    counts = {"l2c": [0, 0], "c2l": [0, 0], "c2s": [0, 0], "s2c": [0, 0]}
    for row in fields:
        stage = stage_of(row)
        if stage == 1:
            counts["l2c"][0] += row[isa.F_PUSH_NEXT]
            counts["c2l"][1] += row[isa.F_POP_NEXT]
        elif stage == 2:
            counts["c2l"][0] += row[isa.F_PUSH_PREV]
            counts["c2s"][0] += row[isa.F_PUSH_NEXT]
            counts["l2c"][1] += row[isa.F_POP_PREV]
            counts["s2c"][1] += row[isa.F_POP_NEXT]
        else:
            counts["s2c"][0] += row[isa.F_PUSH_PREV]
            counts["c2s"][1] += row[isa.F_POP_PREV]
    return counts


@pytest.mark.parametrize(
    "knobs",
    [
        {"n_vthread": 1, "tile_h": 14, "tile_w": 14},
        {"n_vthread": 3, "tile_h": 5, "tile_w": 9},
        {"n_vthread": 8, "tile_h": 2, "tile_w": 56},
    ],
)
def test_dependency_tokens_balance_and_finish_ends_the_stream(knobs):
    compiled = compile_conv2d(RESNET18["C2"], ZCU, "nestc", knobs)
    fields = compiled.program.fields
    for queue, (pushes, pops) in _token_counts(fields).items():
        assert pushes == pops, queue
    assert fields[-1, isa.F_OPCODE] == isa.OP_FINISH
    assert not fields[-1, [isa.F_POP_PREV, isa.F_POP_NEXT]].any()  # FINISH may not pop


def test_hidden_features_are_complete_for_a_compiled_config():
    compiled = compile_conv2d(
        RESNET18["C2"], ZCU, "nestc", {"n_vthread": 2, "tile_h": 14, "tile_w": 14}
    )
    assert set(compiled.hidden) == set(HIDDEN_FEATURES)
    h = compiled.hidden
    # 4 input-channel blocks fit one chunk, so the second virtual thread has no chunk to
    # ping-pong with: one slot.
    assert (h["tile_ci"], h["tile_co"], h["threads"], h["slots"]) == (4, 4, 1, 1)
    assert h["n_alu"] == 16 * 4  # per tile: the bias ADD, SHR, MIN, MAX
    assert h["weight_resident"] == 1 and h["gemm_uops"] == 4 * 9 * 4
    assert h["n_gemm"] == 16 * 1 + 16  # one GEMM per tile and chunk, one reset per tile
    assert h["n_insn"] == len(compiled.program)


def test_padded_3x3_needs_tile_ci_inner_1_in_tvm():
    refused = compile_conv2d(RESNET18["C2"], PYNQ, "autotvm", _knobs(ci=(2, 2)))
    assert (refused.error_stage, refused.error_kind) == ("compile", "dma_pattern")
    accepted = compile_conv2d(RESNET18["C2"], PYNQ, "autotvm", _knobs(ci=(4, 1)))
    assert accepted.program is not None


def test_1x1_channel_chunks_need_foldable_input_tiles():
    c4 = RESNET18["C4"]  # 56x56 -> 28x28, stride 2: input rows are never full width
    assert (
        compile_conv2d(c4, PYNQ, "autotvm", _knobs(h=(14, 2), w=(2, 14), ci=(2, 2))).error_kind
        == "dma_pattern"
    )
    assert (
        compile_conv2d(
            c4, PYNQ, "autotvm", _knobs(h=(28, 1), w=(2, 14), ci=(2, 2), co=(4, 2))
        ).program
        is not None
    )


def test_store_must_be_2d():
    wl = RESNET18["C2"]
    assert (
        compile_conv2d(wl, PYNQ, "autotvm", _knobs(h=(7, 8), w=(2, 28), co=(2, 2))).error_kind
        == "dma_pattern"
    )
    assert (
        compile_conv2d(wl, PYNQ, "autotvm", _knobs(h=(7, 8), w=(2, 28), co=(4, 1))).program
        is not None
    )


def test_buffer_capacity_counts_virtual_threads():
    wl = RESNET18["C2"]
    one = compile_conv2d(wl, PYNQ, "autotvm", _knobs(h=(2, 28), w=(1, 56), co=(4, 1)))
    two = compile_conv2d(wl, PYNQ, "autotvm", _knobs(h=(2, 28), w=(1, 56), co=(4, 1), hn=2))
    assert one.program is not None  # 30x58 input rows fit 2048 once...
    assert two.error_kind == "buffer_capacity"  # ...not twice


def test_verify_dep_refuses_kernels_repeating_a_destination():
    # 3x3 kernel, one output row and channel block per uop block: kh-consecutive uops
    # write the same accumulator element.
    result = compile_conv2d(
        RESNET18["C2"], PYNQ, "autotvm", _knobs(h=(56, 1), w=(1, 56), co=(4, 1))
    )
    assert (result.error_stage, result.error_kind) == ("runtime", "verify_dep")


def test_nestc_derives_channel_tiling_from_the_buffers():
    # C11's weights (9216 blocks) do not fit zcu102's WGT buffer (2048): each chunk's weights
    # are loaded into one slot per virtual thread, so more threads mean smaller chunks.
    def hidden(n_vthread):
        knobs = {"n_vthread": n_vthread, "tile_h": 7, "tile_w": 7}
        return compile_conv2d(RESNET18["C11"], ZCU, "nestc", knobs).hidden

    one, two, eight = hidden(1), hidden(2), hidden(8)
    assert one["weight_resident"] == 0
    assert (one["tile_co"], one["tile_ci"], one["slots"]) == (32, 4, 1)  # 32*4*9 <= 2048
    assert (two["tile_co"], two["tile_ci"], two["slots"]) == (32, 2, 2)  # 2 x 32*2*9
    assert (eight["tile_co"], eight["tile_ci"], eight["slots"]) == (16, 1, 8)  # 8 x 16*1*9
    assert one["threads"] == two["threads"] == eight["threads"] == 1


def test_nestc_refuses_what_cannot_fit():
    # One 42x58 input window of a single channel block = 2436 elements > 2048 on pynq.
    result = compile_conv2d(
        RESNET18["C2"], PYNQ, "nestc", {"n_vthread": 1, "tile_h": 40, "tile_w": 56}
    )
    assert (result.error_stage, result.error_kind) == ("compile", "buffer_capacity")
    assert np.isnan(result.hidden["n_insn"])


def test_remainder_tiles_cover_the_output_exactly():
    wl = Conv2D("odd", 1, 13, 11, 16, 16, 3, 1, 1)
    compiled = compile_conv2d(wl, PYNQ, "nestc", {"n_vthread": 2, "tile_h": 5, "tile_w": 4})
    f = compiled.program.fields
    stores = f[(f[:, isa.F_OPCODE] == isa.OP_STORE) & (f[:, isa.F_X_SIZE] > 0)]
    assert int((stores[:, isa.F_Y_SIZE] * stores[:, isa.F_X_SIZE]).sum()) == 13 * 11


def test_config_ids_are_stable_and_invertible():
    tpl = get_template("autotvm")
    space = tpl.enumerate(RESNET18["C2"], PYNQ)
    assert len(space) == tpl.size(RESNET18["C2"], PYNQ) == 8 * 8 * 3 * 3 * 2 * 2
    for index in (0, 1, 77, len(space) - 1):
        assert tpl.config_id(space[index], RESNET18["C2"], PYNQ) == index
    assert space[1]["tile_h"] != space[0]["tile_h"]  # the first-defined knob varies fastest


def _alu_passes(fields):
    """(alu opcode, use_imm, imm) of each ALU instruction, in stream order."""
    alu = fields[fields[:, isa.F_OPCODE] == isa.OP_ALU]
    return [tuple(int(v) for v in r[[isa.F_ALU_OP, isa.F_USE_IMM, isa.F_IMM]]) for r in alu]


def test_nestc_epilogue_adds_the_bias_then_clips_to_int8():
    wl = RESNET18["C7"]
    compiled = compile_conv2d(wl, ZCU, "nestc", {"n_vthread": 2, "tile_h": 7, "tile_w": 14})
    f = compiled.program.fields
    n_tiles = compiled.hidden["n_tiles_h"] * compiled.hidden["n_tiles_w"]
    shift = wl.epilogue_shift
    passes = [(isa.ALU_ADD, 0, 0), (isa.ALU_SHR, 1, shift), (isa.ALU_MIN, 1, 127)]
    assert _alu_passes(f) == (passes + [(isa.ALU_MAX, 1, -128)]) * n_tiles
    bias = f[(f[:, isa.F_OPCODE] == isa.OP_LOAD) & (f[:, isa.F_MEM_TYPE] == isa.MEM_ACC)]
    assert len(bias) == n_tiles  # one ACC load of the tile's bias rows per tile
    assert (bias[:, isa.F_X_SIZE] == compiled.hidden["tile_co"]).all()
    assert compiled.program.dram_elems[isa.MEM_ACC] == wl.oc // ZCU.block


def test_autotvm_epilogue_shifts_then_adds_the_bias_then_clips_at_zero():
    # TVM's ResNet-18 conv2d task: right_shift, add bias, clip [0, 127] (tune_conv2d.py).
    wl = RESNET18["C2"]
    compiled = compile_conv2d(wl, PYNQ, "autotvm", _knobs())
    f = compiled.program.fields
    n_tiles = compiled.hidden["n_tiles_h"] * compiled.hidden["n_tiles_w"]
    n_tiles *= compiled.hidden["n_tiles_co"]
    passes = [(isa.ALU_SHR, 1, wl.epilogue_shift), (isa.ALU_ADD, 0, 0), (isa.ALU_MIN, 1, 127)]
    assert _alu_passes(f) == (passes + [(isa.ALU_MAX, 1, 0)]) * n_tiles
    bias = f[(f[:, isa.F_OPCODE] == isa.OP_LOAD) & (f[:, isa.F_MEM_TYPE] == isa.MEM_ACC)]
    assert len(bias) == n_tiles


def test_sweep_entries_beyond_the_output_run_as_the_clipped_configuration():
    tpl, wl = get_template("nestc"), RESNET18["C11"]
    assert tpl.size(wl, ZCU) == 8 * 7 * 7
    knobs = {"n_vthread": 3, "tile_h": 56, "tile_w": 9}  # in NEST-C's sweep, not in our space
    clipped = {"n_vthread": 3, "tile_h": 7, "tile_w": 7}
    assert tpl.program_key(knobs, wl, ZCU) == tpl.program_key(clipped, wl, ZCU)
    assert tpl.program_key(knobs, wl, ZCU) != tpl.program_key({**clipped, "tile_w": 6}, wl, ZCU)
    big, small = (compile_conv2d(wl, ZCU, "nestc", k).program for k in (knobs, clipped))
    assert np.array_equal(big.fields, small.fields) and np.array_equal(big.uops, small.uops)


@pytest.mark.parametrize("layer", ["C4", "C11"])
def test_nestc_sweep_is_run_sh_and_each_entry_is_its_clipped_program(layer):
    wl, sweep, nestc = RESNET18[layer], get_template("nestc_sweep"), get_template("nestc")
    assert sweep.size(wl, ZCU) == 8 * 56 * 56  # run.sh: 1..8 x 1..56 x 1..56 on every layer
    entries = sweep.enumerate(wl, ZCU)
    counts = {}
    for knobs in entries:
        key = sweep.program_key(knobs, wl, ZCU)
        counts[key] = counts.get(key, 0) + 1
    # every program of the clipped space, visited once per tile value that clips to it
    assert sorted(counts) == sorted(nestc.program_key(k, wl, ZCU) for k in nestc.enumerate(wl, ZCU))
    spill_h, spill_w = 56 - wl.oh + 1, 56 - wl.ow + 1
    assert counts[(2, wl.oh, wl.ow)] == spill_h * spill_w and counts[(2, 1, 1)] == 1
    rng = np.random.default_rng(0)
    for i in rng.choice(len(entries), 12, replace=False):
        knobs = entries[i]
        v, th, tw = sweep.program_key(knobs, wl, ZCU)
        got = compile_conv2d(wl, ZCU, "nestc_sweep", knobs)
        want = compile_conv2d(wl, ZCU, "nestc", {"n_vthread": v, "tile_h": th, "tile_w": tw})
        assert got.hidden == want.hidden and got.error_kind == want.error_kind
        if want.program is not None:
            assert np.array_equal(got.program.fields, want.program.fields)
            assert np.array_equal(got.program.uops, want.program.uops)
