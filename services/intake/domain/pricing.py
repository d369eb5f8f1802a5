"""Prices at the door (R1.5, R2.2): nothing is sold below the price a person approved.

A line without a price gets the catalogue's. A price below the catalogue is the catalogue price on
a channel that does not negotiate (a storefront cannot discount itself: the client is told in the
history); on a channel that may (a sales rep, a distributor, an ERP: a setting), a discount up to
``max_discount_percent`` stands, and a deeper one (a free sample, a zero- or negative-margin deal)
waits for a manager with the margin shown. The thresholds are settings (screening.Policy).
"""

from __future__ import annotations

from dataclasses import dataclass

from services.intake.domain.order import Line
from services.intake.domain.screening import Policy


@dataclass(frozen=True)
class Priced:
    unit_price: int
    note: str = ""  # for the order's history: what the door did to the price, and why
    review: str = ""  # why a manager must approve the price (R2.2); empty when none must


def price(sku: str, given: int | None, listed: int, channel: str, policy: Policy) -> Priced:
    """The unit price one line is sold at, and what a person must know about it."""
    if given is None or given >= listed:
        return Priced(listed if given is None else given)
    off = (listed - given) * 100 / listed if listed else 0.0
    if channel not in policy.negotiating_channels:
        return Priced(listed, note=f"{sku}: unit price {given} replaced by the catalogue price {listed} "
                                   f"(the {channel} channel does not negotiate, R1.5)")  # fmt: skip
    what = f"{sku}: {given} is {off:.1f} % below the catalogue price {listed}"
    if off <= policy.max_discount_percent:
        return Priced(given, note=f"{what}, within the {channel} channel's {policy.max_discount_percent} %")
    review = f"{what}, margin {given - listed} per unit: a manager approves (R2.2)"
    return Priced(given, note=what, review=review)


def apply_prices(
    lines: list[Line], given: list[int | None], catalogue_prices: list[int], channel: str, policy: Policy
) -> tuple[list[str], list[str], bool]:
    """Set each line's price by the rules; the history notes, the review reasons, and whether a
    price undercut what the channel may give (flagged ``price_below_catalogue``, R1.6)."""
    notes, reviews, undercut = [], [], False
    for line, asked, listed in zip(lines, given, catalogue_prices, strict=True):
        priced = price(line.sku, asked, listed, channel, policy)
        undercut = undercut or (priced.unit_price != asked and asked is not None) or bool(priced.review)
        line.unit_price = priced.unit_price
        if priced.note:
            notes.append(priced.note)
        if priced.review:
            reviews.append(priced.review)
    return notes, reviews, undercut
