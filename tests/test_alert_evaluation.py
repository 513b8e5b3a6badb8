"""The first pass over many sources at once finds out of bounds exactly the sources that a rule
applies to by its scope: a rule for one source or one site says nothing of the others."""

import numpy as np

from alerts.evaluation import out_of_bounds
from alerts.models import AlertRule

SOURCES = np.array(["SN-1", "SN-2", "SN-3"], dtype=object)
SITES = np.array(["lyon", "lyon", "brest"], dtype=object)
# (lowest, highest, latest) per source: every cell at 3.7 V somewhere in the batch, none now
CELLS = {"cell_voltage_max": (np.array([3.3, 3.3, 3.3]), np.array([3.7, 3.7, 3.7]), np.array([3.3, 3.3, 3.3]))}


def rule(**fields) -> AlertRule:
    return AlertRule(metric="cell_voltage_max", operator=">", threshold=3.65, **fields)


def test_a_general_rule_finds_every_source_whose_highest_figure_breaks_it():
    assert out_of_bounds([rule(scope="all")], CELLS, source_ids=SOURCES, site_ids=SITES).tolist() == [True] * 3


def test_a_rule_for_one_source_finds_that_source_only():
    found = out_of_bounds([rule(scope="source", scope_source_id="SN-2")], CELLS, source_ids=SOURCES, site_ids=SITES)
    assert found.tolist() == [False, True, False]


def test_a_rule_for_one_site_finds_its_sources_only():
    found = out_of_bounds([rule(scope="site", scope_site_id="lyon")], CELLS, source_ids=SOURCES, site_ids=SITES)
    assert found.tolist() == [True, True, False]


def test_a_missing_figure_is_never_out_of_bounds():
    figures = {"cell_voltage_max": (np.full(3, np.nan), np.full(3, np.nan), np.full(3, np.nan))}
    assert out_of_bounds([rule(scope="all")], figures, source_ids=SOURCES, site_ids=SITES).tolist() == [False] * 3
