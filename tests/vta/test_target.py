import pytest

from ml2tuner.vta.target import PRESETS, Target, TargetError, get_target, parse_model_string


def test_default_depths_match_vta():
    t = PRESETS["pynq"]
    assert (t.inp_depth, t.wgt_depth, t.acc_depth, t.uop_depth) == (2048, 1024, 2048, 8192)
    assert (t.inp_elem_bytes, t.wgt_elem_bytes, t.acc_elem_bytes) == (16, 256, 64)
    assert t.macs_per_gemm_op == 256 and t.model_string == "pynq_1x16_i8w8a32_15_15_18_17"


def test_zcu102_is_nestc_bitstream():
    assert PRESETS["zcu102"].model_string == "zcu102_1x16_i8w8a32_16_16_19_18"


def test_model_string_sets_every_parameter():
    t = parse_model_string("pynq_4x8_i8w8a32_15_16_16_18")
    assert (t.batch, t.block) == (4, 8)
    assert (t.inp_elem_bytes, t.wgt_elem_bytes, t.acc_elem_bytes) == (32, 64, 128)
    assert (t.inp_depth, t.wgt_depth, t.acc_depth) == (2048, 1024, 2048)
    assert t.clock_mhz == 100 and t.axi_bits == 64


@pytest.mark.parametrize(
    "text", ["nosuch", "pynq_3x16_i8w8a32_15_15_18_17", "mars_1x16_i8w8a32_15_15_18_17"]
)
def test_bad_target_names_are_refused(text):
    with pytest.raises(TargetError):
        get_target(text)


def test_user_defined_target():
    t = get_target("mine", {"mine": {"log_block": 3, "clock_mhz": 200, "axi_bits": 128}})
    assert isinstance(t, Target) and t.block == 8 and t.clock_mhz == 200
