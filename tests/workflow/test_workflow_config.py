"""Config validation: defaults, user definitions, and one-line messages for bad values."""

from __future__ import annotations

import dataclasses

import pytest

from ml2tuner.space.templates import TEMPLATES
from ml2tuner.stages.tune import STRATEGIES
from ml2tuner.vta.target import PRESETS, Target
from ml2tuner.workflow.config import ConfigError, config_schema, load_config, load_config_file


def test_defaults_reproduce_the_papers_setting():
    cfg = load_config({})
    assert cfg.targets == ("zcu102",)
    assert cfg.layers == ("C2", "C4")
    assert cfg.templates == ("nestc",)
    assert sorted(cfg.strategies) == sorted(STRATEGIES)  # all of the tuners' registry
    assert cfg.seeds == tuple(range(10))
    assert cfg.budget > 0 and cfg.shard_size > 0
    assert cfg.model.objective == "reg:squarederror"  # offline models: RMSE is defined
    assert [u.path for u in cfg.units()] == ["zcu102/C2/nestc", "zcu102/C4/nestc"]


def test_repository_config_yaml_is_valid_and_equals_the_defaults(repo_root):
    assert load_config_file(repo_root / "config.yaml") == load_config({})


def test_user_defined_target_and_layer(tiny_config):
    tiny_config["target_definitions"]["fast"] = {"base": "zcu102", "clock_mhz": 500.0}
    tiny_config["targets"].append("fast")
    cfg = load_config(tiny_config)
    fast = cfg.resolved_targets["fast"]
    assert fast.clock_mhz == 500.0 and fast.log_acc_buff_size == PRESETS["zcu102"].log_acc_buff_size
    t1 = cfg.resolved_layers["T1"]
    assert (t1.n, t1.h, t1.ic, t1.oc, t1.kernel, t1.pad, t1.stride) == (1, 8, 16, 16, 3, 1, 1)


def test_model_string_target_is_accepted():
    cfg = load_config({"targets": ["zcu104_1x16_i8w8a32_15_15_18_17"]})
    assert cfg.resolved_targets["zcu104_1x16_i8w8a32_15_15_18_17"].clock_mhz == 333.0


def test_load_config_does_not_modify_its_input(tiny_config):
    before = repr(tiny_config)
    load_config(tiny_config)
    assert repr(tiny_config) == before


def test_shards_tile_the_space(tiny_config):
    cfg = load_config(tiny_config)
    bounds = cfg.shard_bounds(cfg.unit("tiny", "T1", "nestc"))
    assert bounds == [(0, 200), (200, 400), (400, 512)]


# Each bad value: (override, key named, bad value shown, what the allowed part must say)
BAD = {
    "unknown target": ({"targets": ["zcu999"]}, "targets[0]", "'zcu999'", "allowed pynq"),
    "unknown layer": ({"layers": ["C2", "C99"]}, "layers[1]", "'C99'", "allowed C2"),
    "wrong type": ({"budget": "many"}, "budget", "'many'", "allowed an integer"),
    "negative budget": ({"budget": -5}, "budget", "-5", "allowed an integer ≥ 1"),
    "unknown template": (
        {"templates": ["tvm"]},
        "templates[0]",
        "'tvm'",
        "allowed nestc, nestc_sweep, autotvm",
    ),
    "unknown strategy": (
        {"strategies": ["random", "grid"]},
        "strategies[1]",
        "'grid'",
        "allowed random, autotvm",
    ),
    "unknown key": ({"bugdet": 10}, "bugdet", "10", "allowed keys targets"),
    "list expected": ({"targets": "zcu102"}, "targets", "'zcu102'", "allowed a list"),
    "negative seed": ({"seeds": [0, -1]}, "seeds[1]", "-1", "allowed an integer ≥ 0"),
    "bad target field": (
        {"target_definitions": {"t": {"base": "zcu102", "axi_bits": 48}}},
        "target_definitions.t.axi_bits",
        "48",
        "allowed 32, 64",
    ),
    "layer missing a key": (
        {"layer_definitions": {"L": {"h": 8}}},
        "layer_definitions.L",
        "'w'",
        "required keys h, w",
    ),
    "layer does not fit target": (
        {
            "layers": ["L"],
            "layer_definitions": {"L": {"h": 8, "w": 8, "ic": 8, "oc": 16, "kernel": 3}},
        },
        "layers",
        "'L'",
        "multiples of the block 16",
    ),
    "unknown tuner settings": (
        {"tuner_settings": {"grid": {}}},
        "tuner_settings",
        "'grid'",
        "allowed random",
    ),
    "report option": (
        {"report": {"per_unit_figures": "sometimes"}},
        "report.per_unit_figures",
        "'sometimes'",
        "auto",
    ),
    "variant of an unknown tuner": (
        {"variants": {"proto": {"tuner": "grid"}}},
        "variants.proto.tuner",
        "'grid'",
        "allowed random",
    ),
    "variant named as a tuner": (
        {"variants": {"ml2tuner": {"tuner": "random"}}},
        "variants",
        "'ml2tuner'",
        "name the variant differently",
    ),
    "model setting out of range": (
        {"model": {"subsample": 1.5}},
        "model.subsample",
        "1.5",
        "allowed a number > 0 and ≤ 1",
    ),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_value_gives_one_line_naming_key_value_and_allowed(case):
    override, key, value, allowed = BAD[case]
    with pytest.raises(ConfigError) as info:
        load_config(override)
    message = str(info.value)
    assert "\n" not in message
    assert key in message and value in message and allowed in message, message


def test_schema_lists_the_registered_templates_strategies_and_target_fields():
    schema = config_schema()
    assert schema["properties"]["templates"]["items"]["enum"] == list(TEMPLATES)
    assert sorted(schema["$defs"]["tuner"]["enum"]) == sorted(STRATEGIES)
    target_props = set(schema["$defs"]["target"]["properties"]) - {"base"}
    assert target_props == {f.name for f in dataclasses.fields(Target)} - {"name"}
    assert schema["$defs"]["target"]["properties"]["base"]["enum"] == list(PRESETS)


def test_snakemake_validate_accepts_what_load_config_accepts(tiny_config):
    from snakemake.utils import validate

    from ml2tuner.workflow.config import SCHEMA_PATH

    validate(tiny_config, str(SCHEMA_PATH))
    assert tiny_config["model"]["seed"] == 0  # defaults filled in, as Snakemake does


def test_model_defaults_are_defined_once():
    """The paper's booster parameters and train_fraction: ModelSection's defaults, nowhere else."""
    from ml2tuner.models import PAPER_PARAMS, TrainSettings
    from ml2tuner.workflow.config import ModelSection

    assert load_config({}).model == ModelSection()
    assert dict(PAPER_PARAMS) == ModelSection().booster_params()
    assert TrainSettings().train_fraction == ModelSection().train_fraction
    model_schema = config_schema()["properties"]["model"]["properties"]
    for key in ("learning_rate", "max_depth", "alpha", "subsample", "colsample_bytree"):
        assert "default" not in model_schema[key], key
    assert "default" not in model_schema["train_fraction"]


def test_numbers_given_as_strings_by_snakemake_config_are_converted():
    # `snakemake --config 'seeds=[0,1]' budget=20` hands list items over as strings.
    cfg = load_config({"seeds": ["0", "1"], "budget": "20", "model": {"learning_rate": "0.2"}})
    assert cfg.seeds == (0, 1) and cfg.budget == 20 and cfg.model.learning_rate == 0.2
    with pytest.raises(ConfigError, match=r"seeds\[0\] = 'zero': wrong type"):
        load_config({"seeds": ["zero"]})


def test_a_variant_runs_its_tuner_with_its_own_budget_and_options():
    cfg = load_config(
        {
            "strategies": ["ml2tuner", "ml2tuner_prototype"],
            "budget": 50,
            "tuner_settings": {"ml2tuner": {"n_random": 8}},
            "variants": {
                "ml2tuner_prototype": {
                    "tuner": "ml2tuner",
                    "budget": 1000,
                    "settings": {"preset": "prototype"},
                }
            },
        }
    )
    own, variant = cfg.strategy("ml2tuner"), cfg.strategy("ml2tuner_prototype")
    assert (own.tuner, own.budget, dict(own.settings)) == ("ml2tuner", 50, {"n_random": 8})
    assert (variant.tuner, variant.budget) == ("ml2tuner", 1000)
    assert dict(variant.settings) == {"preset": "prototype"}  # not ml2tuner's tuner_settings
