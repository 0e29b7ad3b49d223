"""LiveMeasurer on several simulator processes: the results of one, in request order."""

from __future__ import annotations

import pandas as pd
import pytest

from ml2tuner.measure import LiveMeasurer


def test_parallel_batch_equals_one_process_in_request_order(nestc_tables):
    status = nestc_tables.measured["status"].astype(str)
    valid = nestc_tables.measured["config_id"][status == "valid"].head(3).tolist()
    failed = nestc_tables.measured["config_id"][status != "valid"].head(3).tolist()
    ids = [valid[2], failed[0], valid[0], failed[2], valid[1], failed[1]]  # mixed, unsorted
    args = (nestc_tables.layer, nestc_tables.target, nestc_tables.template)
    serial = LiveMeasurer(*args).measure(ids)
    with LiveMeasurer(*args, n_workers=2) as parallel:
        out = parallel.measure(ids)
        again = parallel.measure(list(reversed(ids)))  # cached: no second run, still in order
    pd.testing.assert_frame_equal(out, serial)
    assert out["config_id"].tolist() == ids
    assert again["config_id"].tolist() == list(reversed(ids))
    assert parallel._pool is None  # the processes stop with the block


def test_needs_at_least_one_worker(nestc_tables):
    with pytest.raises(ValueError, match="n_workers"):
        LiveMeasurer(nestc_tables.layer, nestc_tables.target, "nestc", n_workers=0)
