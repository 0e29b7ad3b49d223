"""Features, P/V/A training and evaluation, metrics, hyper-parameter search."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ml2tuner.models import (
    FEATURE_SETS,
    SearchSettings,
    TrainSettings,
    XGBModel,
    feature_table,
    roc_auc,
    search_hyperparameters,
    top_k_recall,
    train_models,
)
from ml2tuner.models.features import category_code


@pytest.fixture(scope="module")
def trained(nestc_tables):
    t = nestc_tables
    return train_models(
        t.space,
        t.compiled,
        t.measured,
        t.layer,
        t.target,
        TrainSettings(train_fraction=0.3, seed=0),
    )


def test_feature_sets_differ_only_by_hidden_features(nestc_tables):
    t = nestc_tables
    table = feature_table(t.space, t.layer, t.target, t.compiled)
    config = FEATURE_SETS["config"].columns(table)
    full = FEATURE_SETS["config+hidden"].columns(table)
    assert config == full[: len(config)]
    assert {c[:2] for c in full[len(config) :]} == {"h_"}
    assert {"k_n_vthread", "k_tile_h", "k_tile_w", "l_ic", "t_axi_bits"} <= set(config)
    assert table["h_fold_rule"].notna().all()  # strings became codes


def test_string_features_get_stable_codes():
    assert category_code("largest") == category_code("largest") < 2**24
    assert category_code("largest") != category_code("outermost")
    assert np.isnan(category_code(""))


def test_v_beats_the_majority_class_baseline(trained):
    v = trained.metrics.set_index("model").loc["V"]
    assert v["accuracy"] > v["majority_accuracy"]
    assert v["roc_auc"] > 0.8


def test_a_uses_hidden_features_that_p_does_not_see(trained):
    features = {m: json.loads(f) for m, f in trained.metrics.set_index("model")["features"].items()}
    assert not any(f.startswith("h_") for f in features["P"] + features["V"])
    used = trained.models["A"].booster.get_score(importance_type="weight")
    assert any(name.startswith("h_") for name in used)


def test_metrics_table_reports_heldout_errors(trained):
    m = trained.metrics.set_index("model")
    for role in ("P", "A"):
        assert 0 < m.loc[role, "rmse"] < 1 and m.loc[role, "n_test"] > 0
        assert 0 <= m.loc[role, "top_k_recall"] <= 1
    assert np.isnan(m.loc["V", "rmse"])
    assert set(trained.split["split"]) == {"train", "test"}


def test_model_round_trips_through_json(trained, tmp_path, nestc_tables):
    t = nestc_tables
    table = feature_table(t.space, t.layer, t.target, t.compiled)
    model = trained.models["A"]
    x = table[model.feature_names].to_numpy(np.float32)
    model.save(tmp_path / "A.json")
    loaded = XGBModel.load(tmp_path / "A.json")
    assert loaded.feature_names == model.feature_names
    assert loaded.settings == model.settings
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))


def test_roc_auc_and_top_k_recall_on_known_cases():
    assert roc_auc(np.array([0, 0, 1, 1]), np.array([0.1, 0.2, 0.3, 0.4])) == 1.0
    assert roc_auc(np.array([0, 1, 0, 1]), np.array([0.5, 0.5, 0.5, 0.5])) == 0.5
    assert top_k_recall(np.array([1.0, 2, 3, 4]), np.array([4.0, 3, 2, 1]), 2) == 0.0
    assert top_k_recall(np.array([1.0, 2, 3, 4]), np.array([0.0, 0, 5, 6]), 2) == 1.0


def test_optuna_study_resumes_from_its_journal(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.random((60, 3))
    y = x[:, 0] + 0.1 * rng.random(60)
    journal = tmp_path / "journal.log"
    kwargs = dict(objective="reg:squarederror", journal_path=journal, study_name="L/P")
    first = search_hyperparameters(x, y, settings=SearchSettings(n_trials=3, seed=1), **kwargs)
    assert len(first.trials) == 3
    assert first.trials["params_eta"].iloc[0] == pytest.approx(0.1)  # the paper's setting
    again = search_hyperparameters(x, y, settings=SearchSettings(n_trials=5, seed=1), **kwargs)
    assert len(again.trials) == 5
    assert again.trials["value"].iloc[:3].tolist() == first.trials["value"].tolist()
    same = search_hyperparameters(x, y, settings=SearchSettings(n_trials=5, seed=1), **kwargs)
    assert len(same.trials) == 5  # nothing left to do
    assert same.best_params["value"].iloc[0] == again.trials["value"].min()


def test_training_with_a_search_records_params_and_history(nestc_tables, tmp_path):
    t = nestc_tables
    result = train_models(
        t.space,
        t.compiled,
        t.measured,
        t.layer,
        t.target,
        TrainSettings(train_fraction=0.2, search=SearchSettings(n_trials=2)),
        journal_path=tmp_path / "j.log",
        study_prefix="pynq/T/nestc/",
    )
    assert result.best_params["model"].tolist() == ["P", "V", "A"]
    assert set(result.trials["study"]) == {"pynq/T/nestc/P", "pynq/T/nestc/V", "pynq/T/nestc/A"}
    assert len(result.trials) == 6


def test_an_interrupted_study_marks_its_running_trial_failed_and_completes(tmp_path):
    import optuna
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    journal = tmp_path / "journal.log"
    storage = JournalStorage(JournalFileBackend(str(journal)))
    study = optuna.create_study(study_name="L/V", storage=storage, direction="minimize")
    study.ask()  # a trial the "killed" process never finished
    rng = np.random.default_rng(0)
    x = rng.random((40, 2))
    y = (x[:, 0] > 0.5).astype(float)
    result = search_hyperparameters(
        x,
        y,
        objective="binary:logistic",
        journal_path=journal,
        study_name="L/V",
        settings=SearchSettings(n_trials=2),
    )
    states = result.trials["state"].tolist()
    assert states == ["FAIL", "COMPLETE", "COMPLETE"]
