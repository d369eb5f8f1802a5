"""Catalogue entries and the shortage value object that carries how a SKU is sourced (R4.2).

A product may be *custom* (R2.2: an order of it waits for a manager) and may be a *bundle* (R1.9):
a set of components, each a plain product with a per-bundle quantity. A bundle is sold and
invoiced under its own SKU and price but has no stock of its own: orders reserve, supply and
ship its components (intake expands the line at placement).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, Literal, get_args

from services.inventory.domain.errors import InvalidProduct, InvalidQuantity

Sourcing = Literal["make", "buy"]
Tracking = Literal["none", "batch", "serial"]


def _is_int(value: object) -> bool:
    # bool is an int subclass; a JSON true must never pass as a quantity or a price.
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class Component:
    """One part of a bundle: ``quantity`` units of the plain product ``sku`` per bundle (R1.9)."""

    sku: str
    quantity: int


@dataclass(frozen=True)
class Product:
    """A SKU in the catalogue; ``unit_price`` is integer fen, never a float (API.md)."""

    sku: str
    name: str
    unit_price: int
    sourcing: Sourcing
    lead_time_days: int
    tracking: Tracking = "none"
    custom: bool = False  # made to the customer's order: a manager approves the order (R2.2)
    components: tuple[Component, ...] = ()  # a bundle's parts (R1.9); empty for a plain product

    @property
    def is_bundle(self) -> bool:
        return bool(self.components)

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
        if not isinstance(self.custom, bool):
            problems["custom"] = "must be true or false"
        problems.update(self._component_problems())
        if problems:
            raise InvalidProduct("invalid product", problems)

    def _component_problems(self) -> dict[str, str]:
        """What is wrong with the bundle's components on their own (the catalogue: check_bundle)."""
        problems: dict[str, str] = {}
        seen: set[str] = set()
        for i, part in enumerate(self.components):
            if not isinstance(part.sku, str) or not part.sku.strip():
                problems[f"components.{i}.sku"] = "must not be empty"
            elif part.sku == self.sku:
                problems[f"components.{i}.sku"] = "a bundle cannot contain itself"
            elif part.sku in seen:
                problems[f"components.{i}.sku"] = f"{part.sku} is named twice; give its quantity once"
            seen.add(part.sku)
            if not _is_int(part.quantity) or part.quantity <= 0:
                problems[f"components.{i}.quantity"] = "must be a positive integer"
        return problems

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


def check_bundle(
    product: Product,
    catalogue: Mapping[str, Product],
    *,
    bundles_containing: Collection[str] = (),
    stock: Mapping[str, Any] | None = None,
) -> None:
    """The rules of a bundle that need the rest of the catalogue (R1.9); InvalidProduct if broken.

    ``catalogue`` holds the components that exist; ``bundles_containing`` the bundles that list
    ``product`` as a component (it must then stay a plain product: bundles do not nest);
    ``stock`` the product's stock document (a bundle has no stock of its own).
    """
    if not product.is_bundle:
        return
    problems: dict[str, str] = {}
    for i, part in enumerate(product.components):
        known = catalogue.get(part.sku)
        if known is None:
            problems[f"components.{i}.sku"] = f"unknown product {part.sku}; PUT /products/{part.sku} first"
        elif known.is_bundle:
            problems[f"components.{i}.sku"] = f"{part.sku} is a bundle itself; components are plain products"
    if bundles_containing:
        names = ", ".join(sorted(bundles_containing))
        problems["components"] = f"{product.sku} is a component of {names}; a component cannot be a bundle"
    elif stock and (stock.get("on_hand") or stock.get("reserved")):
        held = f"on hand {stock.get('on_hand', 0)}, reserved {stock.get('reserved', 0)}"
        problems["components"] = (
            f"{product.sku} has stock ({held}); a bundle has no stock of its own: count it to 0 first"
        )
    if problems:
        raise InvalidProduct("invalid bundle", problems)
