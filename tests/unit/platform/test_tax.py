"""The one VAT rounding rule (shared/tax.py, R6.1): half away from zero, once per document."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from shared.tax import allocate, div_half_away, gross_of, tax_in_gross, tax_on_net


def test_half_away_from_zero_both_signs() -> None:
    assert div_half_away(5, 10) == 1
    assert div_half_away(4, 10) == 0
    assert div_half_away(-5, 10) == -1
    assert div_half_away(-4, 10) == 0


def test_thirteen_percent_of_a_gross_and_a_net_price() -> None:
    # 113.00 gross holds 13.00 VAT; 100.00 net gets 13.00 added.
    assert tax_in_gross(11_300, 1300) == 1_300
    assert tax_on_net(10_000, 1300) == 1_300
    assert gross_of(10_000, 1300, prices_include_tax=False) == 11_300
    assert gross_of(11_300, 1300, prices_include_tax=True) == 11_300
    # 1 fen net: 0.13 fen of tax rounds to nothing; 4 fen: 0.52 rounds up to 1.
    assert tax_on_net(1, 1300) == 0
    assert tax_on_net(4, 1300) == 1


@given(st.integers(-10**9, 10**9), st.lists(st.integers(0, 10**6), min_size=1, max_size=20))
def test_allocation_adds_up_exactly_and_follows_the_sign(total: int, weights: list[int]) -> None:
    parts = allocate(total, weights)
    assert sum(parts) == total
    assert all((p >= 0) if total >= 0 else (p <= 0) for p in parts)


@given(st.integers(0, 10**10), st.integers(0, 3000))
def test_a_credit_of_the_whole_amount_mirrors_its_tax(gross: int, rate: int) -> None:
    assert tax_in_gross(-gross, rate) == -tax_in_gross(gross, rate)
    assert tax_on_net(-gross, rate) == -tax_on_net(gross, rate)
