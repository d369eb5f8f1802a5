"""Rule violations of the fulfillment domain; the API maps them to 4xx."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every fulfillment rule violation."""

    code = "invalid"

    def __init__(self, message: str, fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


class InvalidQuantity(DomainError):
    """Supply orders are for a positive number of units, with a non-negative lead time."""

    code = "invalid_quantity"


class SupplyOrderCancelled(DomainError):
    """A cancelled supply order cannot be completed (HTTP 409)."""

    code = "supply_order_cancelled"
