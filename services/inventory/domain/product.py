"""Catalogue entries and the shortage value object that carries how a SKU is sourced (R4.2)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

from services.inventory.domain.errors import InvalidProduct, InvalidQuantity

Sourcing = Literal["make", "buy"]
Tracking = Literal["none", "batch", "serial"]


def _is_int(value: object) -> bool:
    # bool is an int subclass; a JSON true must never pass as a quantity or a price.
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class Product:
    """A SKU in the catalogue; ``unit_price`` is integer fen, never a float (API.md)."""

    sku: str
    name: str
    unit_price: int
    sourcing: Sourcing
    lead_time_days: int
    tracking: Tracking = "none"

    def __post_init__(self) -> None:
        problems: dict[str, str] = {}
        if not self.sku or not self.sku.strip():
            problems["sku"] = "must not be empty"
        if not self.name or not self.name.strip():
            problems["name"] = "must not be empty"
        if not _is_int(self.unit_price) or self.unit_price < 0:
            problems["unit_price"] = "must be a non-negative integer in fen"
        if self.sourcing not in get_args(Sourcing):
            problems["sourcing"] = "must be 'make' or 'buy'"
        if not _is_int(self.lead_time_days) or self.lead_time_days < 0:
            problems["lead_time_days"] = "must be a non-negative integer"
        if self.tracking not in get_args(Tracking):
            problems["tracking"] = "must be 'none', 'batch' or 'serial'"
        if problems:
            raise InvalidProduct("invalid product", problems)

    def shortage(self, quantity: int) -> Shortage:
        """What the warehouse reports when ``quantity`` units of this SKU cannot be reserved (R4.2)."""
        return Shortage(self.sku, quantity, self.sourcing, self.lead_time_days)


@dataclass(frozen=True)
class Shortage:
    """Units of a SKU that could not be reserved, with how to source them (make -> production)."""

    sku: str
    quantity: int
    sourcing: Sourcing
    lead_time_days: int

    def __post_init__(self) -> None:
        if not _is_int(self.quantity) or self.quantity <= 0:
            raise InvalidQuantity("a shortage is a positive quantity", {"quantity": str(self.quantity)})
