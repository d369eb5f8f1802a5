"""Rule violations of the inventory domain; the API maps them to 4xx, handlers to parked messages."""

from __future__ import annotations

from shared.errors import DomainError as PlatformDomainError


class DomainError(PlatformDomainError):
    """Base of every inventory rule violation; ``fields`` names the offending inputs (shared.http)."""

    status = 422
    code = "invalid"


class InvalidProduct(DomainError):
    """A catalogue entry that breaks a rule (empty name, negative price, unknown sourcing...)."""

    code = "invalid_product"


class InvalidQuantity(DomainError):
    """Quantities are non-negative integers (API.md conventions)."""

    code = "invalid_quantity"


class BelowReserved(DomainError):
    """A stock count that would leave fewer units on hand than are already promised (R4.1)."""

    code = "below_reserved"


class InvalidTransition(DomainError):
    """A reservation asked to move from a state that does not allow it."""

    status = 409
    code = "invalid_transition"
