"""Static checks of the rule files and profiles (fast; the e2e test runs them for real)."""

from __future__ import annotations

import re

import yaml


def _rules(repo_root) -> dict[str, str]:
    blocks = {}
    for path in sorted((repo_root / "rules").glob("*.smk")):
        text = path.read_text(encoding="utf-8")
        for match in re.finditer(r"^rule (\w+):\n((?:[ \t]+.*\n|\n)*)", text, re.M):
            blocks[match.group(1)] = match.group(2)
    return blocks


def test_every_rule_declares_log_benchmark_threads_resources_env(repo_root):
    rules = _rules(repo_root)
    assert set(rules) == {
        "enumerate_space",
        "compile_space",
        "simulate_shard",
        "merge_measured",
        "train_models",
        "prior",
        "prior_pool",
        "tune",
        "simstats_models",
        "summary",
        "report",
        "simstats_report",
        "publish",
    }
    for name, body in rules.items():
        for directive in (
            "log:",
            "benchmark:",
            "threads:",
            "resources:",
            "mem_mb=",
            "runtime=",
            "conda:",
            "script:",
        ):
            assert directive in body, f"rule {name} lacks {directive}"
        assert "lambda" not in body, f"rule {name} uses a lambda"


def test_snakefile_is_thin(repo_root):
    text = (repo_root / "Snakefile").read_text(encoding="utf-8")
    assert "configfile:" in text and "min_version" in text
    assert re.findall(r"^rule (\w+):", text, re.M) == ["all"]
    assert "def " not in text


def test_profiles_name_existing_rules(repo_root):
    rules = set(_rules(repo_root))
    slurm = yaml.safe_load((repo_root / "profiles/slurm/config.yaml").read_text())
    assert slurm["executor"] == "slurm"
    assert {"mem_mb", "runtime"} <= set(slurm["default-resources"])
    assert set(slurm["set-resources"]) <= rules and set(slurm["set-threads"]) <= rules
    assert slurm["groups"] == ["tune=tuning"]
    default = yaml.safe_load((repo_root / "profiles/default/config.yaml").read_text())
    assert "executor" not in default


def test_conda_env_pins_every_dependency(repo_root):
    env = yaml.safe_load((repo_root / "envs/ml2tuner.yaml").read_text())
    pins = dict(dep.split("=", 1) for dep in env["dependencies"] if isinstance(dep, str))
    assert {"python", "numpy", "numba", "pandas", "pyarrow", "pyyaml", "jsonschema"} <= set(pins)
    assert all(re.fullmatch(r"\d+(\.\d+)+", version) for version in pins.values())
