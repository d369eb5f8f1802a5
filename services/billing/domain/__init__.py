"""Billing's pure domain: credit (R3.1), per-order accounts (R3.3, R7.1), invoices and credit notes
(R6). No I/O here."""

from .account import CHECKING, HELD, INVOICED, NEW, REFUSED, RELEASED, SKIPPED, CreditChange, OrderAccount
from .customer import PAYMENT_TERMS, TAXPAYERS, VAT_ORDINARY, VAT_SPECIAL, Customer, invoice_type_for
from .errors import (
    AlreadyInvoiced,
    BillingError,
    CreditCheckRunning,
    CreditExceedsInvoice,
    CurrencyMismatch,
    InvoiceMismatch,
    OrderClosed,
    Overpayment,
    PaymentConflict,
    UnknownOrder,
    UnknownRefund,
)
from .invoice import Invoice, InvoiceLine, included_tax, new_credit_note, new_invoice
from .money import NO_MARK, OWED, PAID_OUT, REFUND_PREFIX, Mark, Payment, Refund, RefundRecord, refund_id
from .numbering import CREDIT_NOTE_PREFIX, INVOICE_PREFIX, document_number, period_of

__all__ = [
    "CHECKING",
    "CREDIT_NOTE_PREFIX",
    "HELD",
    "INVOICED",
    "INVOICE_PREFIX",
    "NEW",
    "NO_MARK",
    "OWED",
    "PAID_OUT",
    "PAYMENT_TERMS",
    "REFUND_PREFIX",
    "REFUSED",
    "RELEASED",
    "SKIPPED",
    "TAXPAYERS",
    "VAT_ORDINARY",
    "VAT_SPECIAL",
    "AlreadyInvoiced",
    "BillingError",
    "CreditChange",
    "CreditCheckRunning",
    "CreditExceedsInvoice",
    "CurrencyMismatch",
    "Customer",
    "Invoice",
    "InvoiceLine",
    "InvoiceMismatch",
    "Mark",
    "OrderAccount",
    "OrderClosed",
    "Overpayment",
    "Payment",
    "PaymentConflict",
    "Refund",
    "RefundRecord",
    "UnknownOrder",
    "UnknownRefund",
    "document_number",
    "included_tax",
    "invoice_type_for",
    "new_credit_note",
    "new_invoice",
    "period_of",
    "refund_id",
]
