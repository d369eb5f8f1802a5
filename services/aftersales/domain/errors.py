"""Why the return domain says no; the API maps these to 4xx responses."""

from __future__ import annotations

from shared.errors import DomainError


class AftersalesError(DomainError):
    """A business rule said no; ``status``, ``code`` and ``fields`` make the error body (shared.http)."""

    status = 422
    code = "aftersales_error"


class ReturnRefused(AftersalesError):
    """The request breaks the return policy and is refused at the door (R8.3 review)."""

    code = "return_refused"


class InvalidTransition(AftersalesError):
    """The return is not in a state where this action makes sense (a 409, not a retry)."""

    status = 409
    code = "invalid_state"


class UnknownOrder(ReturnRefused):
    """Intake has no such order: nothing to return (422, like any other refusal at the door)."""

    code = "unknown_order"


class ReturnNotFound(AftersalesError):
    """No return with that id (404)."""

    status = 404
    code = "not_found"


class IdempotencyKeyReused(AftersalesError):
    """The same Idempotency-Key came with a different request body (422)."""

    code = "idempotency_key_reused"
