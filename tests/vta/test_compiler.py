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
    assert (h["tile_ci"], h["tile_co"], h["threads"]) == (4, 4, 2)
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
    small = compile_conv2d(
        RESNET18["C2"], ZCU, "nestc", {"n_vthread": 1, "tile_h": 8, "tile_w": 8}
    ).hidden
    big = compile_conv2d(
        RESNET18["C2"], ZCU, "nestc", {"n_vthread": 8, "tile_h": 16, "tile_w": 16}
    ).hidden
    assert (small["tile_co"], small["tile_ci"]) == (4, 4)
    assert big["tile_co"] < 4 or big["tile_ci"] < 4


def test_nestc_refuses_what_cannot_fit():
    # 8 threads x one 9x58 input window each = 4176 elements > 4096 on zcu102.
    result = compile_conv2d(
        RESNET18["C2"], ZCU, "nestc", {"n_vthread": 8, "tile_h": 7, "tile_w": 56}
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


@pytest.mark.parametrize("template", ["nestc", "autotvm"])
@pytest.mark.parametrize("layer", ["C2", "C4", "C11"])
def test_step_replay_emits_exactly_the_plain_stream(template, layer):
    wl, target = RESNET18[layer], ZCU
    space = get_template(template).enumerate(wl, target)
    picks = np.random.default_rng(3).choice(len(space), size=min(25, len(space)), replace=False)
    for index in picks:
        fast = compile_conv2d(wl, target, template, space[index], replay=True)
        plain = compile_conv2d(wl, target, template, space[index], replay=False)
        assert fast.error_kind == plain.error_kind
        if fast.program is not None:
            assert np.array_equal(fast.program.fields, plain.program.fields), space[index]
            assert np.array_equal(fast.program.uops, plain.program.uops)
