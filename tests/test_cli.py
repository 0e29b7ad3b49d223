"""The command line: measure, targets, layers, and one-line errors with exit code 2."""

import json
import subprocess
import sys

import pytest

from ml2tuner.cli import main

C2_AUTOTVM = (
    '{"tile_b":[1,1],"tile_h":[7,8],"tile_w":[1,56],"tile_ci":[4,1],"tile_co":[2,2],'
    '"oc_nthread":2,"h_nthread":1}'
)


def test_measure_json_reports_status_latency_counters_hidden(capsys):
    assert (
        main(
            [
                "measure",
                "--target",
                "pynq",
                "--layer",
                "C2",
                "--template",
                "autotvm",
                "--knobs",
                C2_AUTOTVM,
                "--json",
            ]
        )
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert out["status"] == "valid" and out["error_no"] == 0
    assert out["cycles"] > out["counters"]["gemm_counter"] > 0
    assert out["latency_us"] == pytest.approx(out["cycles"] / 100)
    assert out["hidden"]["tile_co"] == 2 and "output_matches_reference" not in out


def test_measure_functional_on_a_model_string_and_shape(capsys):
    assert (
        main(
            [
                "measure",
                "--target",
                "pynq_4x8_i8w8a32_15_16_16_18",
                "--shape",
                "4,8,8,16,16,3,1,1",
                "--template",
                "nestc",
                "--knobs",
                '{"n_vthread":1,"tile_h":4,"tile_w":4}',
                "--functional",
                "--json",
            ]
        )
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert out["output_matches_reference"] is (out["status"] == "valid")


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--target", "nosuch", "--layer", "C2"], "unknown target 'nosuch'"),
        (["--target", "pynq", "--layer", "C99"], "unknown layer 'C99'"),
        (["--target", "pynq", "--shape", "1,8,8,20,16,3,1,1"], "multiples of the block 16"),
        (["--target", "pynq", "--shape", "1,8,8"], "expected 8 integers"),
    ],
)
def test_bad_input_is_one_line_exit_2(args, needle, capsys):
    code = main(
        [
            "measure",
            *args,
            "--template",
            "nestc",
            "--knobs",
            '{"n_vthread":1,"tile_h":4,"tile_w":4}',
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and needle in err and err.count("\n") == 1


@pytest.mark.parametrize(
    ("knobs", "needle"),
    [
        ('{"n_vthread":9,"tile_h":4,"tile_w":4}', "allowed 1..8"),
        ('{"n_vthread":1}', "missing tile_h, tile_w"),
        ('{"n_vthread":1,"tile_h":4,"tile_w":4,"x":1}', "unknown x"),
        ("not json", "not valid JSON"),
    ],
)
def test_knobs_outside_the_template_are_refused(knobs, needle, capsys):
    code = main(
        ["measure", "--target", "pynq", "--layer", "C2", "--template", "nestc", "--knobs", knobs]
    )
    err = capsys.readouterr().err
    assert code == 2 and needle in err and err.count("\n") == 1


def test_console_script_targets_and_layers():
    for command, needle in (("targets", "zcu102_1x16_i8w8a32_16_16_19_18"), ("layers", "C11")):
        done = subprocess.run(
            [sys.executable, "-m", "ml2tuner.cli", command],
            capture_output=True,
            text=True,
            check=True,
        )
        assert needle in done.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "ml2tuner.cli", "measure", "--target", "x"],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
