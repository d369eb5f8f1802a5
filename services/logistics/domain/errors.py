"""Business rule violations of logistics; the API answers them with 409."""

from __future__ import annotations

from shared.errors import DomainError


class LogisticsError(DomainError):
    """Base of every logistics rule violation; its status and code make the error body (shared.http)."""

    status = 409
    code = "logistics_error"


class InvalidTransition(LogisticsError):
    """A carrier event that does not fit the shipment's status (e.g. delivered after cancelled)."""

    code = "invalid_transition"


class CannotCancel(LogisticsError):
    """Goods already left: a cancellation is a return now (R7.1, R7.3)."""

    code = "already_dispatched"


class CannotHold(LogisticsError):
    """A shipment that cannot be held for a change of its order (R7.2): the goods left (the change
    is a return now, R7.3), or it is cancelled."""

    code = "cannot_hold"


class ShipmentNotFound(LogisticsError):
    """No booked shipment has this id."""

    status = 404
    code = "not_found"


class ConsigneeUnknown(LogisticsError):
    """Intake has no order for this shipment, so there is no phone to print (issue 7): a 404 that
    says so, never a packing list without the phone."""

    status = 404
    code = "not_found"
