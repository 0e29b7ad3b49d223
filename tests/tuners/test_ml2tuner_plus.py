"""ml2tuner's prototype preset, and ml2tuner_plus: its options, its prior and no leakage."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from ml2tuner.measure import ReplayMeasurer
from ml2tuner.tuners import PriorModels, make_tuner, run_tuning, train_prior
from ml2tuner.tuners._ml2tuner_plus import PriorSource, in_scope, unit_identity

FAST = {"num_boost_round": 20}


def _source(tables, **layer_changes) -> PriorSource:
    """The test space's tables, presented as another unit (a layer of another shape or a
    target of another clock): the prior mechanism only sees the unit through its features."""
    layer = dataclasses.replace(tables.layer, **layer_changes) if layer_changes else tables.layer
    return PriorSource(tables.space, tables.compiled, tables.measured, layer, tables.target)


def _tuner(tables, seed=0, **options):
    options = {**FAST, **options}
    return make_tuner("ml2tuner_plus", tables.tuning_space(), seed=seed, options=options)


def test_prototype_preset_is_the_prototypes_loop(nestc_tables):
    space = nestc_tables.tuning_space()
    s = make_tuner("ml2tuner", space, options={"preset": "prototype"}).settings
    assert (s.batch_size, s.n_random, s.epsilon) == (5, 100, 0.0)
    given = make_tuner("ml2tuner", space, options={"preset": "prototype", "n_random": 50})
    assert given.settings.n_random == 50  # an option beside the preset wins
    with pytest.raises(ValueError, match="preset"):
        make_tuner("ml2tuner", space, options={"preset": "paper2"})
    log = run_tuning(
        make_tuner("ml2tuner", space, options={"preset": "prototype", **FAST}),
        ReplayMeasurer(nestc_tables.measured),
        110,
    )
    assert log["a_score"].iloc[:100].isna().all() and log["a_score"].iloc[100:].notna().all()


def test_with_every_idea_off_it_is_ml2tuner(nestc_tables):
    off = {"v_hidden": False, "a_scores_all": False, "prior": "none", "n_random": 16}
    off |= {"v_threshold": 0.5, "epsilon": 0.05}  # ml2tuner's
    plus = run_tuning(_tuner(nestc_tables, **off), ReplayMeasurer(nestc_tables.measured), 40)
    base = run_tuning(
        make_tuner("ml2tuner", nestc_tables.tuning_space(), options={**FAST, "n_random": 16}),
        ReplayMeasurer(nestc_tables.measured),
        40,
    )
    pd.testing.assert_frame_equal(
        plus.drop(columns="tuner_wall_s"), base.drop(columns="tuner_wall_s")
    )


def test_scopes_never_hold_the_tuned_unit():
    layer, target = (1.0, 2.0), (3.0,)
    tuned = (layer, target)
    other_layer, other_target = ((9.0, 2.0), target), (layer, (4.0,))
    for scope in ("none", "other-layers", "other-targets", "all"):
        assert not in_scope(scope, tuned, tuned)
    assert in_scope("other-layers", tuned, other_layer)
    assert not in_scope("other-layers", tuned, other_target)
    assert in_scope("other-targets", tuned, other_target)
    assert not in_scope("other-targets", tuned, other_layer)
    assert in_scope("all", tuned, other_layer) and in_scope("all", tuned, other_target)
    assert in_scope("all", tuned, ((9.0, 2.0), (4.0,)))


def test_a_prior_of_the_tuned_unit_is_refused(nestc_tables):
    tuner = _tuner(nestc_tables)
    leaked = train_prior([_source(nestc_tables)], tuner.settings)
    assert unit_identity(nestc_tables.layer, nestc_tables.target) in leaked.sources
    with pytest.raises(ValueError, match="unit being tuned"):
        tuner.warm_start(leaked)
    with pytest.raises(ValueError, match="option prior is none"):
        _tuner(nestc_tables, prior="none").warm_start(leaked)


def test_warm_start_filters_the_first_batch(nestc_tables, tmp_path):
    tuner = _tuner(nestc_tables, batch_size=4)
    prior = train_prior([_source(nestc_tables, h=28, w=28)], tuner.settings)
    reloaded = PriorModels.load(prior.save(tmp_path))
    assert reloaded.sources == prior.sources
    tuner.warm_start(reloaded)
    log = run_tuning(tuner, ReplayMeasurer(nestc_tables.measured), 8)
    # no random start: V and A chose the first batch, and V's probabilities are the prior's
    assert log[["v_prob", "a_score"]].notna().all().all()
    first = nestc_tables.tuning_space().full_x(tuner.space.rows(log["config_id"].iloc[:4]))
    np.testing.assert_allclose(log["v_prob"].iloc[:4], prior.models["V"].predict(first))


def test_prior_with_other_features_is_refused(nestc_tables):
    prior = train_prior([_source(nestc_tables, h=28)], _tuner(nestc_tables).settings)
    with pytest.raises(ValueError, match="other features|prior has models"):
        _tuner(nestc_tables, v_hidden=False).warm_start(prior)


def test_a_scores_only_compiled_configurations(nestc_tables):
    space = nestc_tables.tuning_space()
    log = run_tuning(
        _tuner(nestc_tables, n_random=8, epsilon=0.0),
        ReplayMeasurer(nestc_tables.measured),
        40,
    )
    chosen = space.rows(log["config_id"].iloc[8:])
    assert space.compile_ok[chosen].all()
