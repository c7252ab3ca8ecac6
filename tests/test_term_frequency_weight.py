"""How a value's frequency weighs at a term-frequency level (pure arithmetic, no database)."""

from __future__ import annotations

import math

import pytest

from linkage.model import MIN_TERM_FREQUENCY, term_frequency_references, term_frequency_weight
from linkage.settings import GERMAN_SETTINGS

U_EXACT_FIRST, U_EXACT_LAST = 4e-3, 2e-4


def test_the_exact_level_weighs_by_the_values_own_frequency():
    # u of the reference level is the average; a value's own frequency replaces it.
    assert term_frequency_weight(0.9, U_EXACT_LAST, [(U_EXACT_LAST, 1e-5)]) == pytest.approx(math.log2(0.9 / 1e-5))


def test_a_value_the_model_never_saw_keeps_the_levels_weight():
    assert term_frequency_weight(0.9, U_EXACT_LAST, [(U_EXACT_LAST, None)]) == pytest.approx(math.log2(0.9 / U_EXACT_LAST))


def test_a_fuzzy_level_at_an_average_value_keeps_its_own_weight():
    assert term_frequency_weight(0.06, 3e-4, [(U_EXACT_LAST, U_EXACT_LAST)]) == pytest.approx(math.log2(0.06 / 3e-4))


def test_a_fuzzy_level_moves_as_the_exact_level_would():
    rare, common = 1e-5, 6e-3

    def shift(m, u):
        return term_frequency_weight(m, u, [(U_EXACT_LAST, rare)]) - term_frequency_weight(m, u, [(U_EXACT_LAST, common)])

    assert shift(0.06, 3e-4) == pytest.approx(shift(0.9, U_EXACT_LAST)) == pytest.approx(math.log2(common / rare))
    # A typo in `Müller` is weaker than the level's average, one in a name three people bear stronger.
    assert (term_frequency_weight(0.06, 3e-4, [(U_EXACT_LAST, common)]) < math.log2(0.06 / 3e-4)
            < term_frequency_weight(0.06, 3e-4, [(U_EXACT_LAST, rare)]))


def test_a_swap_of_two_names_weighs_by_both():
    # Both rarer than average: more than the level's weight by both names' adjustments.
    first, last = 1e-4, 1e-5
    weight = term_frequency_weight(0.008, 3e-7, [(U_EXACT_FIRST, first), (U_EXACT_LAST, last)])
    assert weight == pytest.approx(math.log2(0.008 / 3e-7) + math.log2(U_EXACT_FIRST / first) + math.log2(U_EXACT_LAST / last))


def test_an_unseen_frequency_of_zero_counts_as_once_in_a_billion():
    assert (term_frequency_weight(0.9, U_EXACT_LAST, [(U_EXACT_LAST, 0.0)])
            == term_frequency_weight(0.9, U_EXACT_LAST, [(U_EXACT_LAST, MIN_TERM_FREQUENCY)]))


def test_every_column_is_measured_against_the_level_that_weighs_by_it_alone():
    u = {c.name: [0.1 + i for i in range(len(c.levels))] for c in GERMAN_SETTINGS.comparisons}
    references = term_frequency_references(GERMAN_SETTINGS, u)
    exact = {name: u[name][GERMAN_SETTINGS.gamma_of(name, "exact")] for name in ("first_name", "last_name")}
    assert references == {"first_name_std": exact["first_name"], "last_name_std": exact["last_name"]}
