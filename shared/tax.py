"""VAT arithmetic in integer minor units (R6.1, R1.2): the one rounding rule every service uses.

Rules (docs/ARCHITECTURE.md "Money"):
- Tax is computed once per document (invoice or credit note) on its taxable total, never summed
  from rounded line taxes; lines show their share of that tax, allocated by largest remainder so
  the shares add up to the document's tax exactly.
- Rounding is half away from zero to the minor unit (fen), so a credit note of a whole invoice
  has exactly the invoice's tax with the sign turned.
- Prices are either gross (tax included, the default for consumer channels) or net (tax added):
  ``tax_in_gross`` splits a gross amount, ``tax_on_net`` adds to a net one.
Rates are basis points: 1300 is 13 %.
"""

from __future__ import annotations

from collections.abc import Sequence

BP = 10_000


def div_half_away(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half away from zero (denominator > 0)."""
    q, r = divmod(abs(numerator), denominator)
    if 2 * r >= denominator:
        q += 1
    return q if numerator >= 0 else -q


def tax_on_net(net: int, rate_bp: int) -> int:
    """The VAT to add to a net amount."""
    return div_half_away(net * rate_bp, BP)


def tax_in_gross(gross: int, rate_bp: int) -> int:
    """The VAT contained in a gross (tax-included) amount."""
    return div_half_away(gross * rate_bp, BP + rate_bp)


def gross_of(amount: int, rate_bp: int, prices_include_tax: bool) -> int:
    """What the customer pays for ``amount`` priced gross (itself) or net (plus its tax)."""
    return amount if prices_include_tax else amount + tax_on_net(amount, rate_bp)


def allocate(total: int, weights: Sequence[int]) -> list[int]:
    """Split ``total`` over ``weights`` in proportion, by largest remainder: the parts add up to
    ``total`` exactly (line shares of a document's tax). All weights 0: everything to the first."""
    if not weights:
        return []
    whole = sum(weights)
    if whole == 0:
        return [total] + [0] * (len(weights) - 1)
    sign = -1 if total < 0 else 1
    magnitude = abs(total)
    exact = [magnitude * w for w in weights]
    parts = [e // whole for e in exact]
    left = magnitude - sum(parts)
    by_remainder = sorted(range(len(weights)), key=lambda i: (-(exact[i] % whole), i))
    for i in by_remainder[:left]:
        parts[i] += 1
    return [sign * p for p in parts]
