"""What billing's handler tests share: the fakes behind a ``Billing``, ids, and a delivered command."""

from __future__ import annotations

import uuid

from services.billing.deps import Billing
from shared import contracts as c
from shared.envelope import Envelope, new_envelope
from tests.support.fakes_billing import FakeCustomerStore, FakeInvoiceStore, FakeOrderAccountStore


def customers(billing: Billing) -> FakeCustomerStore:
    assert isinstance(billing.customers, FakeCustomerStore)
    return billing.customers


def accounts(billing: Billing) -> FakeOrderAccountStore:
    assert isinstance(billing.accounts, FakeOrderAccountStore)
    return billing.accounts


def invoices(billing: Billing) -> FakeInvoiceStore:
    assert isinstance(billing.invoices, FakeInvoiceStore)
    return billing.invoices


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def delivered(message: c.Message) -> Envelope:
    """The command as the bus hands it to billing, sent by intake."""
    return new_envelope(message, producer="intake")
