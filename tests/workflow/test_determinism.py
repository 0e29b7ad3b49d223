"""Determinism across processes: two separate `snakemake` runs of the tiny configuration, in two
folders, write the same tables (timing columns aside) and the same models.

In the spirit of Optuna's reproducible-in-another-process test: nothing may depend on the
process (hash seeds, thread scheduling, dictionary order, the clock). The in-process check of
one stage is tests/workflow/test_train_tune_stages.py::test_training_is_deterministic.
"""

from __future__ import annotations


def test_two_separate_runs_give_identical_tables(
    reference_run, tmp_path, workflow_copy, snakemake, same_results
):
    other = workflow_copy(tmp_path / "other")
    snakemake(other)
    same_results(reference_run, other)
