"""Knob grid, AutoTVM's pieces (recall metric, SA), the driver's checks and the AutoTVM export."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ml2tuner.measure import ReplayMeasurer
from ml2tuner.space.templates import get_template
from ml2tuner.tuners import (
    SASettings,
    SimulatedAnnealingOptimizer,
    Tuner,
    TuningSpace,
    export_autotvm_jsonl,
    make_tuner,
    run_tuning,
)
from ml2tuner.tuners._autotvm import average_recall


def test_grid_groups_split_columns_into_template_knobs(autotvm_tables, nestc_tables):
    grid = autotvm_tables.tuning_space().grid
    assert grid.names == [
        "tile_b",
        "tile_h",
        "tile_w",
        "tile_ci",
        "tile_co",
        "oc_nthread",
        "h_nthread",
    ]
    assert int(np.prod(grid.dims)) == len(autotvm_tables.space)
    assert nestc_tables.tuning_space().grid.names == ["n_vthread", "tile_h", "tile_w"]


def test_grid_index_is_each_rows_knob_value(tables):
    """The template builds the grid from config_id; it must agree with the rows' knobs."""
    space = tables.tuning_space()
    values = get_template(tables.template).knob_values(tables.layer, tables.target)
    knobs = [json.loads(k) for k in tables.space.sort_values("config_id")["knobs_json"]]
    for j, name in enumerate(space.grid.names):
        ascending = sorted(values[name])
        found = [ascending[i] for i in space.grid.index[:, j]]
        assert found == [k[name] for k in knobs]


def test_grid_of_part_of_a_space_has_points_without_rows(nestc_tables):
    # even config_ids: n_vthread (first knob, radix 1) at 1, 3, 5, 7 only
    part = nestc_tables.space[nestc_tables.space["config_id"] % 2 == 0]
    space = TuningSpace(part, nestc_tables.layer, nestc_tables.target, template="nestc")
    assert np.array_equal(space.grid.rows_of_index(space.grid.index), np.arange(space.n))
    one_up = space.grid.index.copy()
    one_up[:, 0] += 1  # n_vthread 2, 4, 6, 8: not in the table
    assert (space.grid.rows_of_index(one_up[one_up[:, 0] < 8]) == -1).all()
    near = space.grid.neighbours(np.array([0]))  # only tile_h / tile_w steps exist
    assert near.size == 2 and (space.grid.index[near, 0] == space.grid.index[0, 0]).all()


def test_random_walk_changes_exactly_one_knob(tables):
    grid = tables.tuning_space().grid
    rng = np.random.default_rng(0)
    rows = rng.choice(len(grid.index), 64, replace=False)
    moved = grid.random_walk(rows, rng)
    changed = (grid.index[rows] != grid.index[moved]).sum(axis=1)
    assert (changed == 1).all()


def test_neighbours_are_one_step_away(nestc_tables):
    grid = nestc_tables.tuning_space().grid
    row = int(grid.rows_of_index(np.array([[2, 5, 5]]))[0])
    near = grid.neighbours(np.array([row]))
    diff = np.abs(grid.index[near] - grid.index[row])
    assert len(near) == 6 and (diff.sum(axis=1) == 1).all()


def test_average_recall_is_tvms_curve():
    labels = np.array([4.0, 3.0, 2.0, 1.0])
    # perfect order: curve[i] = i / (i + 1) (TVM's recall_curve counts ranks[:i])
    assert average_recall(labels, labels, 4) == pytest.approx(np.mean([0, 1 / 2, 2 / 3, 3 / 4]))
    assert average_recall(labels, -labels, 4) < average_recall(labels, labels, 4)


def test_simulated_annealing_finds_the_maxima_and_skips_exclusive(nestc_tables):
    space = nestc_tables.tuning_space()
    target = space.grid.index[100]
    score = -np.abs(space.grid.index - target).sum(axis=1).astype(float)
    score = score - score.min()  # non-negative, maximal (only) at row 100
    sa = SimulatedAnnealingOptimizer(space.grid, SASettings(), np.random.default_rng(0))
    best = sa.find_maximums(lambda r: score[r], 8, exclusive=set())
    assert best[0] == 100 and len(best) == 8
    assert 100 not in sa.find_maximums(lambda r: score[r], 8, exclusive={100})


def test_driver_rejects_a_tuner_that_repeats_itself(nestc_tables):
    class Repeating(Tuner):
        name = "repeating"

        def _propose(self, n):
            return np.arange(n)

        def propose(self, n):  # bypasses the base class's guard on purpose
            return self.space.config_ids[self._propose(n)].tolist()

    tuner = Repeating(nestc_tables.tuning_space(), seed=0)
    with pytest.raises(RuntimeError, match="twice"):
        run_tuning(tuner, ReplayMeasurer(nestc_tables.measured), 20)


def test_ml2tuner_needs_hidden_features(nestc_tables):
    with pytest.raises(ValueError, match="hidden"):
        make_tuner("ml2tuner", nestc_tables.tuning_space(with_hidden=False))


def test_export_autotvm_jsonl(autotvm_tables, tmp_path):
    t = autotvm_tables
    log = run_tuning(make_tuner("random", t.tuning_space(), seed=0), ReplayMeasurer(t.measured), 30)
    path = tmp_path / "run.jsonl"
    n = export_autotvm_jsonl(
        log,
        path,
        space=t.space,
        workload=t.layer,
        target=t.target,
        template="autotvm",
        timestamp=1.0e9,
    )
    records = [json.loads(line) for line in path.read_text().splitlines()]
    assert n == len(records) == 30
    for rec, row in zip(records, log.itertuples(), strict=True):
        assert rec["version"] == 0.2 and rec["input"][1] == "conv2d_packed.vta"
        assert rec["input"][0].endswith(t.target.model_string)
        assert rec["config"]["index"] == row.config_id
        assert rec["result"][1] == row.error_no
        if row.status == "valid":
            assert rec["result"][0][0] == pytest.approx(row.latency_us * 1e-6)
        else:
            assert rec["result"][0] == [1e9]
        names = [e[0] for e in rec["config"]["entity"]]
        assert names == [
            "tile_b",
            "tile_h",
            "tile_w",
            "tile_ci",
            "tile_co",
            "oc_nthread",
            "h_nthread",
        ]
        assert rec["config"]["entity"][1][1:] == ["sp", [-1, row.tile_h_inner]]


def test_ml2tuner_measures_what_v_rejects_only_when_too_few_pass_in_the_pool(autotvm_tables):
    """V filters out: a model pick V puts below its threshold happens only in a step where
    fewer than a batch of the whole unmeasured pool pass V (not just of P's shortlist)."""
    t = autotvm_tables
    tuner = make_tuner("ml2tuner", t.tuning_space(), seed=0, options={"epsilon": 0.0})
    threshold, propose = tuner.settings.v_threshold, tuner._propose
    steps = {"filtered": 0, "beyond the shortlist": 0}

    def checked_propose(n):
        if len(tuner.hist_rows) < tuner.settings.n_random or tuner.models["A"] is None:
            return propose(n)
        free = tuner.free_rows()
        passing = free[tuner._v_prob(free) >= threshold]
        shortlist, _ = tuner._candidates(n)
        chosen = propose(n)
        if len(passing) >= n:
            assert (tuner._v_prob(chosen) >= threshold).all()
            steps["filtered"] += 1
            steps["beyond the shortlist"] += not np.isin(chosen, shortlist).all()
        return chosen

    tuner._propose = checked_propose
    run_tuning(tuner, ReplayMeasurer(t.measured), 120)
    assert steps["filtered"] > 0 and steps["beyond the shortlist"] > 0, steps
