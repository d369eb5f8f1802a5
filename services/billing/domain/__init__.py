"""Billing's pure domain: credit (R3.1), invoices and credit notes (R6). No I/O here."""

from .customer import PAYMENT_TERMS, CreditDecision, Customer, OrderCredit, Payment
from .errors import (
    AlreadyInvoiced,
    BillingError,
    CreditExceedsInvoice,
    InvoiceMismatch,
    PaymentConflict,
    UnknownOrder,
)
from .invoice import Invoice, InvoiceLine, included_tax, new_credit_note, new_invoice
from .numbering import CREDIT_NOTE_PREFIX, INVOICE_PREFIX, document_number, period_of

__all__ = [
    "CREDIT_NOTE_PREFIX",
    "INVOICE_PREFIX",
    "PAYMENT_TERMS",
    "AlreadyInvoiced",
    "BillingError",
    "CreditDecision",
    "CreditExceedsInvoice",
    "Customer",
    "Invoice",
    "InvoiceLine",
    "InvoiceMismatch",
    "OrderCredit",
    "Payment",
    "PaymentConflict",
    "UnknownOrder",
    "document_number",
    "included_tax",
    "new_credit_note",
    "new_invoice",
    "period_of",
]
