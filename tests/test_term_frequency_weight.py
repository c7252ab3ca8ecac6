"""How a value's frequency weighs at a term-frequency level (pure arithmetic, no database)."""

from __future__ import annotations

import math

import pytest

from linkage.model import MIN_TERM_FREQUENCY, term_frequency_weight


def test_the_exact_level_weighs_by_the_values_own_frequency():
    # u of the reference level is the average; a value's own frequency replaces it.
    assert term_frequency_weight(0.9, 2e-4, 2e-4, 1e-5) == pytest.approx(math.log2(0.9 / 1e-5))


def test_a_fuzzy_level_at_an_average_value_keeps_its_own_weight():
    assert term_frequency_weight(0.06, 3e-4, 2e-4, 2e-4) == pytest.approx(math.log2(0.06 / 3e-4))


def test_a_fuzzy_level_moves_as_the_exact_level_would():
    rare, common = 1e-5, 6e-3
    exact_shift = term_frequency_weight(0.9, 2e-4, 2e-4, rare) - term_frequency_weight(0.9, 2e-4, 2e-4, common)
    fuzzy_shift = term_frequency_weight(0.06, 3e-4, 2e-4, rare) - term_frequency_weight(0.06, 3e-4, 2e-4, common)
    assert fuzzy_shift == pytest.approx(exact_shift) == pytest.approx(math.log2(common / rare))
    # A typo in `Müller` is weaker than the level's average, one in a name three people bear stronger.
    assert term_frequency_weight(0.06, 3e-4, 2e-4, common) < math.log2(0.06 / 3e-4) < term_frequency_weight(0.06, 3e-4, 2e-4, rare)


def test_an_unseen_value_is_counted_as_seen_once_in_a_billion():
    assert term_frequency_weight(0.9, 2e-4, 2e-4, 0.0) == term_frequency_weight(0.9, 2e-4, 2e-4, MIN_TERM_FREQUENCY)
