"""Rule violations of the fulfillment domain; the API maps them to 4xx."""

from __future__ import annotations

from shared.errors import DomainError as PlatformDomainError


class DomainError(PlatformDomainError):
    """Base of every fulfillment rule violation; its status and code make the error body (shared.http)."""

    status = 422
    code = "invalid"


class InvalidQuantity(DomainError):
    """Supply orders are for a positive number of units, with a non-negative lead time."""

    code = "invalid_quantity"


class SupplyOrderCancelled(DomainError):
    """A cancelled supply order cannot be completed (HTTP 409)."""

    status = 409
    code = "supply_order_cancelled"


class SupplyOrderCompleted(DomainError):
    """A completed supply order cannot start production again (HTTP 409)."""

    status = 409
    code = "supply_order_completed"


class NotProduction(DomainError):
    """Only a production order has a production to start; a purchase order is bought (HTTP 409)."""

    status = 409
    code = "not_production"


class SupplyOrderNotFound(DomainError):
    """No supply order with that id."""

    status = 404
    code = "not_found"
