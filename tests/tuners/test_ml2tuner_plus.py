"""ml2tuner's prototype preset, and ml2tuner_plus: its options, its prior and no leakage."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from ml2tuner.measure import ReplayMeasurer
from ml2tuner.tuners import PriorModels, make_tuner, run_tuning, train_prior
from ml2tuner.tuners._ml2tuner_plus import (
    PriorSource,
    calibrate_logistic,
    in_scope,
    rank_agreement,
    unit_identity,
)

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
    off |= {"batch_distance": 0, "stall_batches": 0}
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


def test_a_prior_from_an_iterator_equals_one_from_a_list(nestc_tables, tmp_path):
    # The prior job hands its sources over one at a time (a generator): the models, and the
    # sources they record for the leak check, must be those of the same sources as a list.
    tuner = _tuner(nestc_tables)
    sources = [_source(nestc_tables, h=28), _source(nestc_tables, h=28, w=28)]
    listed = train_prior(sources, tuner.settings)
    streamed = train_prior(iter(sources), tuner.settings)
    assert streamed.sources == listed.sources and len(listed.sources) == 2
    for role, model in listed.models.items():
        assert streamed.models[role].booster.save_raw() == model.booster.save_raw(), role
    with pytest.raises(ValueError, match="at least one source"):
        train_prior(iter([]), tuner.settings)


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


def test_calibration_keeps_a_confirmed_prior_and_drops_a_contradicted_one():
    rng = np.random.default_rng(0)
    margin = rng.normal(0, 4, 60)
    agrees = (margin > 0).astype(float)
    scale, _ = calibrate_logistic(margin, agrees)
    assert scale > 1  # the unit confirms the prior: it is trusted more, not less
    scale, shift = calibrate_logistic(margin, 1 - agrees)
    assert scale == 0  # contradicted: dropped (not flipped), V falls back to the base rate
    assert abs(1 / (1 + np.exp(-shift)) - 0.5) < 0.1
    few_scale, few_shift = calibrate_logistic(margin[:2], 1 - agrees[:2])
    assert few_scale > 0  # two rows do not yet outweigh the prior
    assert rank_agreement(margin, margin) == pytest.approx(1.0)
    assert rank_agreement(margin, -margin) == pytest.approx(-1.0)


def test_a_contradicted_prior_loses_its_say(nestc_tables):
    """A prior V that calls every invalid configuration valid and the reverse is weighed to
    nothing once the unit's measurements show it, and the tuner stops trusting it."""
    tuner = _tuner(nestc_tables, batch_size=4)
    flipped = nestc_tables.measured.copy()
    valid, wrong = flipped["status"] == "valid", flipped["status"] == "wrong_answer"
    flipped.loc[valid, "status"] = "wrong_answer"
    flipped.loc[wrong, "status"] = "valid"
    flipped["latency_us"] = flipped["latency_us"].fillna(1.0)
    source = PriorSource(
        nestc_tables.space,
        nestc_tables.compiled,
        flipped,
        dataclasses.replace(nestc_tables.layer, h=28),
        nestc_tables.target,
    )
    tuner.warm_start(train_prior([source], tuner.settings))
    log = run_tuning(tuner, ReplayMeasurer(nestc_tables.measured), 40)
    v_model = tuner.models["V"]
    assert v_model.scale < 0.2
    late = log.iloc[20:]
    assert (late["status"] == "valid").mean() > (log.iloc[:4]["status"] == "valid").mean()


def test_a_batch_is_spread_over_the_knobs(nestc_tables):
    space = nestc_tables.tuning_space()
    ranked = np.random.default_rng(0).permutation(space.n)  # a ranking with neighbours on top
    ranked = ranked[np.argsort(space.knob_x[ranked, 0], kind="stable")]
    batch = _tuner(nestc_tables, batch_distance=2)._pick(ranked, 5)
    knobs = space.knob_x[batch]
    assert all((knobs[i] != knobs[j]).sum() >= 2 for i in range(5) for j in range(i))
    assert batch[0] == ranked[0]  # A's best stays first
    plain = _tuner(nestc_tables, batch_distance=0)._pick(ranked, 5)
    np.testing.assert_array_equal(plain, ranked[:5])


def test_a_stalled_search_leaves_what_it_measured(nestc_tables):
    space = nestc_tables.tuning_space()
    options = {"n_random": 8, "stall_batches": 1, "batch_distance": 2}
    tuner = _tuner(nestc_tables, v_threshold_stalled=0.0, **options)
    measurer = ReplayMeasurer(nestc_tables.measured)
    explored = 0
    for _ in range(12):
        stalled = tuner.stalled >= 1 and len(tuner.hist_rows) >= 8
        seen = space.knob_x[tuner.hist_rows]
        rows = space.rows(tuner.propose(tuner.batch_size))
        if stalled:
            explored += 1
            free = np.flatnonzero(~tuner.taken & space.compile_ok)
            if ((space.knob_x[free][:, None, :] != seen).sum(axis=2) >= 2).all(axis=1).any():
                # A's best pick far from everything measured comes first
                assert (space.knob_x[rows[0]] != seen).sum(axis=1).min() >= 2
        tuner.observe(measurer.measure(space.config_ids[rows].tolist()))
    assert explored > 0
