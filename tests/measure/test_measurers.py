"""One conformance suite for every measurer."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ml2tuner.measure import MEASURERS, RESULT_COLUMNS, LiveMeasurer, ReplayMeasurer


def _make(name: str, tables):
    if name == "replay":
        return ReplayMeasurer(tables.measured)
    return LiveMeasurer(tables.layer, tables.target, tables.template)


@pytest.fixture(params=sorted(MEASURERS))
def measurer_name(request) -> str:
    return request.param


def _ids(tables, k: int = 12) -> list[int]:
    rng = np.random.default_rng(0)
    status = tables.measured["status"].astype(str)
    valid = tables.measured["config_id"][status == "valid"].to_numpy()
    failed = tables.measured["config_id"][status != "valid"].to_numpy()
    return [
        int(i)
        for i in np.concatenate(
            [rng.choice(valid, k // 2, replace=False), rng.choice(failed, k // 2, replace=False)]
        )
    ]


def test_results_in_request_order_with_typed_columns(measurer_name, tables):
    ids = _ids(tables)
    out = _make(measurer_name, tables).measure(ids)
    assert list(out.columns) == list(RESULT_COLUMNS)
    assert out["config_id"].tolist() == ids
    assert {c: str(t) for c, t in out.dtypes.items()} == {
        c: ("string" if t == "string" else t) for c, t in RESULT_COLUMNS.items()
    }


def test_valid_results_have_a_latency_and_failures_an_error_number(measurer_name, tables):
    out = _make(measurer_name, tables).measure(_ids(tables))
    valid = out["status"] == "valid"
    assert valid.any() and (~valid).any()
    assert (out.loc[valid, "latency_us"] > 0).all() and (out.loc[valid, "error_no"] == 0).all()
    assert (out.loc[~valid, "error_no"] > 0).all()


def test_agrees_with_the_measured_table(measurer_name, tables):
    ids = _ids(tables)
    out = _make(measurer_name, tables).measure(ids)
    expected = tables.measured.set_index("config_id").loc[ids].reset_index()
    for col in ("status", "error_no", "cycles"):
        assert out[col].tolist() == expected[col].tolist()
    np.testing.assert_allclose(out["latency_us"], expected["latency_us"], equal_nan=True)


def test_unknown_configuration_is_an_error_and_empty_request_is_empty(measurer_name, tables):
    m = _make(measurer_name, tables)
    with pytest.raises(KeyError):
        m.measure([len(tables.space) + 5])
    assert m.measure([]).empty


def test_replay_rejects_tables_without_the_contract_columns(nestc_tables):
    with pytest.raises(ValueError, match="lacks"):
        ReplayMeasurer(nestc_tables.measured.drop(columns=["error_no"]))
    with pytest.raises(ValueError, match="duplicate"):
        ReplayMeasurer(pd.concat([nestc_tables.measured.head(2)] * 2))
