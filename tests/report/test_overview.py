"""The claim heatmaps and the per-unit figure option."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from ml2tuner.report.build import FIGURES, figure_names, per_unit_figures
from ml2tuner.report.claims import PAPER_CLAIMS
from ml2tuner.report.overview import claim_heatmap, plot_claim_heatmap
from ml2tuner.report.results import UnitKey
from ml2tuner.report.stats import VERDICTS


def _claims() -> pd.DataFrame:
    rows = []
    for template in ("nestc", "autotvm"):
        for target, layer, verdict, ratio in (
            ("pynq", "C2", "supported", 0.1),
            ("zcu102", "C2", "contradicted", 0.9),
            ("pynq", "C10", "inconclusive", math.inf),
        ):
            rows.append(
                dict(
                    target=target,
                    layer=layer,
                    template=template,
                    claim="samples_only",
                    ratio=ratio,
                    ci_low=ratio / 2,
                    ci_high=ratio * 2,
                    verdict=verdict,
                )
            )
    return pd.DataFrame(rows)


def test_heatmap_cells_hold_each_units_verdict_and_interval():
    heatmap = claim_heatmap(_claims(), "samples_only")
    assert [p.template for p in heatmap.panels] == ["nestc", "autotvm"]
    panel = heatmap.panels[0]
    # rows in the natural order of the layer names, whatever order the units came in
    shuffled = claim_heatmap(_claims().iloc[::-1], "samples_only").panels[1]
    assert panel.layers == shuffled.layers == ("C2", "C10")
    assert panel.targets == ("pynq", "zcu102")
    expected = [["supported", "contradicted"], ["inconclusive", None]]
    for i, row in enumerate(expected):
        for j, verdict in enumerate(row):
            assert panel.verdict[i, j] == (VERDICTS.index(verdict) if verdict else -1)
    assert panel.text[0][0] == "0.1\n[0.05–0.2]" and panel.text[1][0].startswith("∞")
    assert panel.text[1][1] == ""  # zcu102 C10 was not run
    assert len(plot_claim_heatmap(heatmap).axes) == 2


@pytest.mark.parametrize("claim", PAPER_CLAIMS)
def test_heatmap_title_fits_the_narrowest_figure(claim):
    one_unit = _claims().iloc[:1].assign(claim=claim)
    fig = plot_claim_heatmap(claim_heatmap(one_unit, claim))
    fig.canvas.draw()
    title = fig.get_suptitle()
    assert PAPER_CLAIMS[claim].quote in title.replace("\n", " ")
    extent = fig._suptitle.get_window_extent()
    assert 0 <= extent.x0 and extent.x1 <= fig.bbox.width


@pytest.mark.parametrize(
    ("option", "n_units", "drawn"),
    [(None, 4, True), (None, 5, False), ("auto", 2, True), (True, 100, True), (False, 1, False)],
)
def test_per_unit_figures_by_default_only_for_a_few_units(option, n_units, drawn):
    assert per_unit_figures(option, n_units) is drawn


def test_per_unit_figure_names_follow_the_option():
    units = [UnitKey("pynq", "C2", "nestc")]
    overview = [stem for stem, f in FIGURES.items() if not f.per_unit]
    assert figure_names(units, per_unit=False) == overview
    names = figure_names(units, per_unit=True)
    assert names[: len(overview)] == overview
    assert names[-2:] == ["validity_pynq_C2_nestc", "status"]
    with pytest.raises(ValueError, match="per_unit_figures"):
        per_unit_figures("sometimes", 3)
    assert np.all([f.per_unit for stem, f in FIGURES.items() if stem not in overview])
