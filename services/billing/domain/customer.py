"""A customer's terms and the running totals that its orders put against the credit limit (R3.1).

Exposure is credit held for open orders plus invoiced receivables not yet paid. Since issue 5 the
per-order figures live in each order's own ``OrderAccount`` (account.py); the customer keeps only
the sums, moved one order at a time by the order's ``Mark`` (services/billing/exposure.py explains
why this stays exact under concurrency and redelivery without multi-document transactions).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from shared.terms import PAYMENT_TERMS

Taxpayer = Literal["general", "small_scale"]
TAXPAYERS: tuple[str, ...] = ("general", "small_scale")
VAT_SPECIAL, VAT_ORDINARY = "vat_special", "vat_ordinary"

__all__ = ["PAYMENT_TERMS", "TAXPAYERS", "VAT_ORDINARY", "VAT_SPECIAL", "Customer", "invoice_type_for"]


@dataclass
class Customer:
    """Credit terms of one customer, its tax identity (R6.1) and the sums of its orders' marks."""

    customer_id: str
    name: str
    payment_terms: str
    credit_limit: int
    taxpayer: str = "small_scale"
    tax_number: str = ""
    held: int = 0  # credit reserved for orders not yet invoiced
    receivable: int = 0  # invoiced and not yet paid
    unapplied: int = 0  # money of the customer not applied to an order (none is taken yet: 0)
    version: int = 0

    @property
    def exposure(self) -> int:
        return self.held + self.receivable

    @property
    def available_credit(self) -> int:
        return max(0, self.credit_limit - self.exposure)

    def terms(self) -> tuple[str, str, int, str, str]:
        """What a PUT sets: a PUT with the same terms writes nothing."""
        return (self.name, self.payment_terms, self.credit_limit, self.taxpayer, self.tax_number)

    def update_terms(
        self,
        name: str,
        payment_terms: str,
        credit_limit: int,
        taxpayer: str | None = None,
        tax_number: str | None = None,
    ) -> None:
        """Change name, terms and tax identity; holds already taken stay as they are."""
        self.name, self.payment_terms, self.credit_limit = name, payment_terms, credit_limit
        if taxpayer is not None:
            self.taxpayer = taxpayer
        if tax_number is not None:
            self.tax_number = tax_number


def invoice_type_for(customer: Customer | None, special_for: str = "general") -> str:
    """The invoice type by rule (R6.1): a VAT special invoice for a taxpayer of the ``special_for``
    class (a setting, ``general`` by default) that gave a tax number, an ordinary one otherwise."""
    if customer is not None and customer.taxpayer == special_for and customer.tax_number.strip():
        return VAT_SPECIAL
    return VAT_ORDINARY
