"""A job's log: expected errors as one line (stderr and log, exit 2), others with a traceback."""

from __future__ import annotations

import logging

import pytest

from ml2tuner.workflow import ConfigError, TableError, job_log


def test_an_expected_error_is_one_line_in_the_log_and_on_stderr(tmp_path, capsys):
    log = tmp_path / "logs" / "train_models" / "u.log"
    with pytest.raises(SystemExit) as exit_info, job_log(log):
        logging.getLogger("ml2tuner.stages.train").info("reading the tables")
        raise TableError("results/u/measured.parquet", "built for layer C4, expected C2")
    line = (
        "ml2tuner: results/u/measured.parquet: built for layer C4, expected C2; "
        "delete it and re-run"
    )
    assert exit_info.value.code == 2
    assert capsys.readouterr().err == line + "\n"
    text = log.read_text()
    assert "reading the tables" in text and text.rstrip().endswith(line)
    assert "Traceback" not in text


def test_a_config_error_is_expected_too(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info, job_log(tmp_path / "j.log"):
        raise ConfigError("budget = -5: out of range")
    assert exit_info.value.code == 2
    assert capsys.readouterr().err == "ml2tuner: budget = -5: out of range\n"


def test_an_unexpected_error_keeps_its_traceback_in_the_log(tmp_path):
    log = tmp_path / "j.log"
    with pytest.raises(ZeroDivisionError), job_log(log):
        1 / 0  # noqa: B018 (the failure under test)
    text = log.read_text()
    assert "Traceback" in text and "ZeroDivisionError" in text and "the job failed" in text
