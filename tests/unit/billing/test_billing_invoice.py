"""Invoices, VAT and credit notes (R6.1, R6.2)."""

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from services.billing.domain import (
    CreditExceedsInvoice,
    InvoiceLine,
    InvoiceMismatch,
    document_number,
    included_tax,
    new_credit_note,
    new_invoice,
)
from shared.tax import tax_on_net

AT = datetime(2024, 5, 6, 10, 0, tzinfo=UTC)
LINES = [InvoiceLine("LAMP-RED", 2, 5_000, 10_000), InvoiceLine("SHADE", 1, 1_300, 1_300)]


def an_invoice(paid: int = 0, total: int = 11_800, discount: int = 500, freight: int = 1_000):
    return new_invoice(
        "INV202405001",
        order_id="SO1",
        customer_id="C1",
        lines=LINES,
        discount=discount,
        freight=freight,
        total=total,
        tax_rate_bp=1_300,
        paid=paid,
        at=AT,
    )


@pytest.mark.parametrize(
    ("total", "rate", "tax"),
    [(11_300, 1_300, 1_300), (100, 1_300, 12), (0, 1_300, 0), (1_000, 600, 57), (-11_300, 1_300, -1_300)],
)
def test_tax_is_the_vat_contained_in_a_tax_inclusive_total(total, rate, tax):
    assert included_tax(total, rate) == tax


def test_tax_rounds_half_up():
    # 113 * 1300 / 11300 = 13.0; 565 * 1300 / 11300 = 65.0; 5 * 1300 / 11300 = 0.575 -> 1
    assert included_tax(5, 1_300) == 1
    assert included_tax(4, 1_300) == 0
    assert included_tax(1, 10_000) == 1, "an exact half (0.5) rounds up"
    assert included_tax(-1, 10_000) == -1


def test_an_invoice_carries_tax_and_the_discount_and_freight_as_separate_items():
    invoice = an_invoice()

    assert (invoice.kind, invoice.total, invoice.tax) == ("invoice", 11_800, included_tax(11_800, 1_300))
    assert (invoice.discount, invoice.freight, invoice.amount_due) == (500, 1_000, 11_800)


def test_deposits_already_received_are_shown_as_deducted():
    invoice = an_invoice(paid=3_000)

    assert (invoice.deducted, invoice.amount_due) == (3_000, 8_800)


def test_an_invoice_whose_lines_do_not_add_up_is_refused():
    with pytest.raises(InvoiceMismatch):
        an_invoice(total=11_801)


def test_a_credit_note_is_a_negative_entry_that_offsets_its_invoice():
    invoice = an_invoice()

    note = new_credit_note(
        "CN202405001",
        invoice,
        return_id="RT1",
        lines=LINES,
        amount=11_800,
        already_credited=0,
        at=AT,
    )

    assert note.kind == "credit_note" and note.original_invoice_id == invoice.invoice_id
    assert (invoice.total + note.total, invoice.tax + note.tax) == (0, 0)
    assert all(line.amount < 0 for line in note.lines)


def test_credit_notes_never_exceed_what_is_left_of_the_invoice():
    invoice = an_invoice()

    with pytest.raises(CreditExceedsInvoice):
        new_credit_note(
            "CN2",
            invoice,
            return_id="RT2",
            lines=[],
            amount=2_000,
            already_credited=10_000,
            at=AT,
        )


def test_document_numbers_are_prefix_month_and_serial():
    assert document_number("INV", AT, 1) == "INV202405001"
    assert document_number("CN", AT, 1234) == "CN2024051234"


def test_an_invoice_of_net_prices_adds_the_tax_once_and_its_total_is_the_gross():
    lines = [InvoiceLine("LAMP-RED", 3, 333, 999), InvoiceLine("SHADE", 1, 1, 1)]
    tax = tax_on_net(1_000, 1_300)

    invoice = new_invoice(
        "INV1",
        order_id="SO1",
        customer_id="C1",
        lines=lines,
        discount=0,
        freight=0,
        total=1_000 + tax,
        tax_rate_bp=1_300,
        paid=0,
        at=AT,
        prices_include_tax=False,
    )

    assert (invoice.net, invoice.tax, invoice.total, invoice.prices_include_tax) == (1_000, 130, 1_130, False)
    assert [line.tax for line in invoice.lines] == [130, 0]  # shares by largest remainder, summing up


def test_a_net_invoice_whose_total_is_not_net_plus_tax_is_refused():
    with pytest.raises(InvoiceMismatch, match="1000 net, with 130 VAT 1130, not the total 1000"):
        new_invoice(
            "INV1",
            order_id="SO1",
            customer_id="C1",
            lines=[InvoiceLine("A", 1, 1_000, 1_000)],
            discount=0,
            freight=0,
            total=1_000,
            tax_rate_bp=1_300,
            paid=0,
            at=AT,
            prices_include_tax=False,
        )


def test_line_tax_shares_add_up_to_the_documents_tax():
    invoice = an_invoice()

    assert sum(line.tax for line in invoice.lines) == invoice.tax
    assert invoice.net + invoice.tax == invoice.total


def test_credit_notes_that_credit_an_invoice_in_parts_net_to_exactly_zero_tax():
    invoice = new_invoice(
        "INV1",
        order_id="SO1",
        customer_id="C1",
        lines=[InvoiceLine("A", 3, 1_001, 3_003)],
        discount=0,
        freight=0,
        total=3_003,
        tax_rate_bp=1_300,
        paid=0,
        at=AT,
    )
    notes = []
    for return_id, amount in (("RT1", 1_001), ("RT2", 1_001), ("RT3", 1_001)):
        notes.append(
            new_credit_note(
                f"CN-{return_id}",
                invoice,
                return_id=return_id,
                lines=[InvoiceLine("A", 1, 1_001, 1_001)],
                amount=amount,
                already_credited=-sum(n.total for n in notes),
                already_credited_tax=-sum(n.tax for n in notes),
                at=AT,
            )
        )

    assert invoice.total + sum(n.total for n in notes) == 0
    assert invoice.tax + sum(n.tax for n in notes) == 0, "the last note takes the rest of the tax"
    assert all(n.net + n.tax == n.total for n in notes)


def test_a_credit_note_keeps_the_invoices_type_basis_and_currency():
    invoice = replace(an_invoice(), invoice_type="vat_special", prices_include_tax=False, currency="CNY")

    note = new_credit_note("CN1", invoice, return_id="RT1", lines=[], amount=100, already_credited=0, at=AT)

    assert (note.invoice_type, note.prices_include_tax, note.currency) == ("vat_special", False, "CNY")
