"""Business rule violations of logistics; the API answers them with 409."""

from __future__ import annotations


class LogisticsError(Exception):
    """Base of every logistics rule violation."""

    code = "logistics_error"


class InvalidTransition(LogisticsError):
    """A carrier event that does not fit the shipment's status (e.g. delivered after cancelled)."""

    code = "invalid_transition"


class CannotCancel(LogisticsError):
    """Goods already left: a cancellation is a return now (R7.1, R7.3)."""

    code = "already_dispatched"
