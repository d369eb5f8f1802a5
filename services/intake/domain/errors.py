"""Intake's domain errors; each carries the HTTP status and error code it answers with
(shared.http maps every service's DomainError the same way, API.md error body)."""

from __future__ import annotations

from shared.errors import DomainError as PlatformDomainError


class DomainError(PlatformDomainError):
    """Base of every intake domain error: a stable ``code``, a message and optional field errors."""

    code = "domain_error"


class OrderInvalid(DomainError):
    """The request failed the completeness or consistency checks (R1.4, R1.5)."""

    status = 422
    code = "validation_failed"  # the same code the platform gives schema errors (shared.http)

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__("the order failed validation", fields)


class OrderShipped(DomainError):
    """The goods have left: a cancellation is now a return (R7.3)."""

    code = "order_shipped"

    def __init__(self, message: str) -> None:
        super().__init__(message, {"returns": "POST /returns {order_id, lines, reason}"})  # the way on


class InvalidTransition(DomainError):
    """The order's status does not allow this action (e.g. approving an order not on hold)."""

    code = "invalid_transition"


class NotOnHold(InvalidTransition):
    """Only an order waiting for a person can be approved or rejected (R2.2, R3.1)."""

    code = "order_not_on_hold"


class OrderNotFound(DomainError):
    """No order has this number."""

    status = 404
    code = "not_found"


class IdempotencyKeyReused(DomainError):
    """The Idempotency-Key was first used with a different body: it cannot name two orders."""

    status = 422
    code = "idempotency_key_reused"


class ClaimedByAnother(DomainError):
    """Another reviewer holds the order's claim (R2.3); it expires, or they release it."""

    status = 409
    code = "claimed_by_another"


class TierRequired(DomainError):
    """The decision needs an approval tier the caller's role does not have (R2.2: manager, then
    general manager)."""

    status = 403
    code = "forbidden"


class ChangeNotPossible(DomainError):
    """The order cannot be changed now (issue 8, R7.2): its status says why; 409."""

    status = 409
    code = "change_not_possible"


class ChangeInProgress(DomainError):
    """Another change of the order is being applied: one at a time (issue 8); 409."""

    status = 409
    code = "change_in_progress"


class VersionConflict(DomainError):
    """The order changed since the caller read it (optimistic version, issue 8); read it again."""

    status = 409
    code = "version_conflict"


class MergeMismatch(DomainError):
    """Two orders can be merged only when every field matches (R1.8); ``fields`` names those that
    do not; 409."""

    status = 409
    code = "merge_mismatch"
