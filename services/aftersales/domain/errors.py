"""Why the return domain says no; the API maps these to 4xx responses."""

from __future__ import annotations


class AftersalesError(Exception):
    """A business rule said no; ``code`` and ``fields`` go into the error body as they are."""

    code = "aftersales_error"

    def __init__(self, message: str, *, code: str | None = None, fields: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.code = code or self.code
        self.fields = fields or {}


class ReturnRefused(AftersalesError):
    """The request breaks the return policy and is refused at the door (R8.3 review)."""

    code = "return_refused"


class InvalidTransition(AftersalesError):
    """The return is not in a state where this action makes sense (a 409, not a retry)."""

    code = "invalid_state"


class UnknownOrder(ReturnRefused):
    """Intake has no such order: nothing to return (422, like any other refusal at the door)."""

    code = "unknown_order"


class ReturnNotFound(AftersalesError):
    """No return with that id (404)."""

    code = "not_found"


class IdempotencyKeyReused(AftersalesError):
    """The same Idempotency-Key came with a different request body (422)."""

    code = "idempotency_key_reused"
