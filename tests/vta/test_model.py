"""The VTA model end to end on drawn configurations: what issue 2 requires to hold.

For each workload and template, 50 configurations are drawn at random (fixed seed) and
measured; the functional simulator is the judge of the timing run's classification.
"""

from __future__ import annotations

import numpy as np
import pytest

from ml2tuner.space.templates import get_template
from ml2tuner.vta.compiler import compile_conv2d
from ml2tuner.vta.harness import run_compiled
from ml2tuner.vta.sim import simulate, simulate_reference
from ml2tuner.vta.target import PRESETS, parse_model_string
from ml2tuner.vta.workload import Conv2D

CASES = {
    "3x3-pad1": (Conv2D("t3x3", 1, 14, 14, 32, 32, 3, 1, 1), PRESETS["pynq"]),
    "1x1-stride2": (Conv2D("t1x1s2", 1, 14, 14, 32, 64, 1, 0, 2), PRESETS["pynq"]),
    "batch4-4x8": (
        Conv2D("tb4", 4, 8, 8, 16, 16, 3, 1, 1),
        parse_model_string("pynq_4x8_i8w8a32_15_16_16_18"),
    ),
    "3x3-stride2-zcu102": (Conv2D("t3x3s2", 1, 16, 16, 32, 32, 3, 1, 2), PRESETS["zcu102"]),
    # ACC shallower than INP: ALU source factors and the uop src_idx differ in width.
    "3x3-acc-shallower": (
        Conv2D("t3x3a", 1, 14, 14, 32, 32, 3, 1, 1),
        parse_model_string("pynq_1x16_i8w8a32_15_15_18_16"),
    ),
}
DRAWS = 50


def _drawn(case: str, template: str):
    workload, target = CASES[case]
    space = get_template(template).enumerate(workload, target)
    rng = np.random.default_rng(7)
    picks = rng.choice(len(space), size=min(DRAWS, len(space)), replace=False)
    return workload, target, [space[i] for i in picks]


_CACHE: dict = {}


def _results(case: str, template: str):
    """(compiled, measurement with functional check) for each drawn configuration."""
    key = (case, template)
    if key not in _CACHE:
        workload, target, configs = _drawn(case, template)
        rows = []
        for knobs in configs:
            compiled = compile_conv2d(workload, target, template, knobs)
            result = run_compiled(workload, target, compiled, functional=True, seed=1)
            rows.append((knobs, compiled, result))
        _CACHE[key] = (workload, target, rows)
    return _CACHE[key]


PARAMS = [(c, t) for c in CASES for t in ("nestc", "autotvm")]


@pytest.mark.parametrize(("case", "template"), PARAMS)
def test_classification_is_proven_by_the_functional_simulator(case, template):
    _, _, rows = _results(case, template)
    for knobs, _, result in rows:
        if result.status == "valid":
            assert result.output_matches_reference, knobs
        elif result.status == "wrong_answer":
            assert result.output_matches_reference is False, knobs


@pytest.mark.parametrize(("case", "template"), PARAMS)
def test_fast_and_reference_simulators_agree(case, template):
    _, target, rows = _results(case, template)
    for knobs, compiled, _ in rows:
        if compiled.program is None:
            continue
        fields, uops = compiled.program.decoded()
        fast = simulate(target, fields, uops, compiled.program.dram_elems)
        ref = simulate_reference(target, fields, uops, compiled.program.dram_elems)
        assert fast == ref, knobs


@pytest.mark.parametrize(("case", "template"), PARAMS)
def test_valid_runs_do_exactly_the_convolution_work(case, template):
    workload, target, rows = _results(case, template)
    for knobs, _, result in rows:
        if result.status != "valid":
            continue
        assert result.counters["gemm_counter"] * target.macs_per_gemm_op == workload.macs, knobs


@pytest.mark.parametrize(("case", "template"), PARAMS)
def test_latency_is_physically_plausible(case, template):
    workload, target, rows = _results(case, template)
    compulsory = (
        workload.n * workload.ic * workload.h * workload.w
        + workload.oc * workload.ic * workload.kernel**2
        + workload.n * workload.oc * workload.oh * workload.ow
    )  # int8 bytes
    for knobs, _, result in rows:
        if result.status != "valid":
            continue
        assert result.cycles >= result.counters["gemm_counter"], knobs
        assert result.cycles >= compulsory / target.bus_bytes, knobs
        assert result.latency_us == pytest.approx(result.cycles / target.clock_mhz)


@pytest.mark.parametrize(("case", "template"), PARAMS)
def test_races_come_from_steps_with_idle_threads_that_skip_their_tokens(case, template):
    # Issue 10: a lockstep step with fewer tiles than threads lets an active thread use an
    # idle one's WAR credit. TVM keeps the idle threads' token handshakes (no race); a plan
    # that did not would race exactly on its partial rounds (the nestc model has one thread).
    _, _, rows = _results(case, template)
    for knobs, compiled, result in rows:
        if compiled.program is None or result.error_kind not in ("", "sync_race"):
            continue
        plan = compiled.plan
        idle = plan.n_h % plan.threads_h != 0 or plan.n_co % plan.threads_co != 0
        assert (result.error_kind == "sync_race") == (idle and not plan.syncs_idle_threads), knobs


def test_drawn_spaces_show_several_outcomes():
    seen = set()
    for case, template in PARAMS:
        seen |= {r.status for _, _, r in _results(case, template)[2]}
    assert {"valid", "compile_error", "wrong_answer", "runtime_error"} <= seen


def test_a_field_that_wraps_gives_a_wrong_answer():
    # 300x300 planes: the autotvm input DMA for two channel blocks of one row needs a
    # channel stride of 90000 elements, more than the 16-bit x_stride field holds.
    workload = Conv2D("wide", 1, 300, 300, 32, 16, 1, 0, 1)
    target = PRESETS["pynq"]
    knobs = {
        "tile_b": [1, 1],
        "tile_h": [300, 1],
        "tile_w": [1, 300],
        "tile_ci": [1, 2],
        "tile_co": [1, 1],
        "oc_nthread": 1,
        "h_nthread": 1,
    }
    compiled = compile_conv2d(workload, target, "autotvm", knobs)
    result = run_compiled(workload, target, compiled, functional=True)
    assert compiled.program.field_overflows > 0
    assert (result.status, result.error_kind) == ("wrong_answer", "field_overflow")
    assert result.output_matches_reference is False
