"""Business rule violations of billing; handlers turn them into replies or 4xx answers.

Every refusal of a payment has its own code and says the state it refused in (issue 5, R3.3).
"""

from __future__ import annotations

from shared.errors import DomainError


class BillingError(DomainError):
    """Base of every billing rule violation; its status and code make the error body (shared.http)."""

    status = 422
    code = "billing_error"


class UnknownOrder(BillingError):
    """Money arrived for an order billing has never seen a credit request for."""

    status = 404
    code = "not_found"


class UnknownRefund(BillingError):
    status = 404
    code = "not_found"


class PaymentConflict(BillingError):
    """The same payment reference was used for a different order, amount or currency."""

    status = 409
    code = "payment_conflict"


class Overpayment(BillingError):
    """A payment would take what was received for the order over what the order costs."""

    status = 409
    code = "overpayment"


class OrderClosed(BillingError):
    """The order's credit was released or its money refunded (cancelled, rejected): no more payments."""

    status = 409
    code = "order_closed"


class CreditCheckRunning(BillingError):
    """The order's credit check is being decided this moment; the same request a little later works."""

    status = 409
    code = "credit_check_running"


class CurrencyMismatch(BillingError):
    """Money in another currency than the order's (R3.3)."""

    code = "currency_mismatch"


class InvoiceMismatch(BillingError):
    """Line amounts, discount and freight do not add up to the invoiced total (R1.5)."""

    code = "invoice_mismatch"


class CreditExceedsInvoice(BillingError):
    """Credit notes may offset an invoice, never more than it (R6.2)."""

    code = "credit_exceeds_invoice"


class AlreadyInvoiced(BillingError):
    """An order gets exactly one invoice; corrections are credit notes (R6.2)."""

    status = 409
    code = "already_invoiced"
