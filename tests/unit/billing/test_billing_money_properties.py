"""Properties of an order's money over random orders, payments and returns (issue 5, R6.1, R6.2):

- the books balance after every step: paid - refunded = invoiced - credited - receivable;
- once the customer has paid what is due, invoice total - credit notes = what the customer finally
  paid for (paid net of refunds), and nothing is owed either way;
- every document's net + tax = total, its lines' tax shares add up to its tax, and an invoice
  credited in full nets to 0 total and 0 tax.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from services.billing.domain import InvoiceLine, OrderAccount, Payment, new_credit_note, new_invoice
from shared.tax import tax_on_net

AT = datetime(2026, 5, 6, tzinfo=UTC)

lines_st = st.lists(st.tuples(st.integers(1, 5), st.integers(0, 50_000)), min_size=1, max_size=4).map(
    lambda raw: [InvoiceLine(f"SKU-{i}", q, p, q * p) for i, (q, p) in enumerate(raw)]
)
steps_st = st.lists(st.tuples(st.sampled_from(["pay", "return"]), st.floats(0, 1)), max_size=8)


def balanced(account: OrderAccount) -> None:
    assert account.receivable >= 0 and account.paid_total >= 0
    assert account.paid - account.refunded == account.invoiced - account.credited - account.receivable


def well_formed(document) -> None:  # type: ignore[no-untyped-def]
    assert document.net + document.tax == document.total
    assert sum(line.tax for line in document.lines) == document.tax


@settings(max_examples=300, deadline=None)
@given(
    lines=lines_st,
    discount_share=st.floats(0, 0.5),
    freight=st.integers(0, 2_000),
    gross=st.booleans(),
    rate=st.sampled_from([0, 600, 900, 1300]),
    deposit_share=st.floats(0, 1),
    steps=steps_st,
)
def test_invoices_credit_notes_payments_and_refunds_always_balance(
    lines, discount_share, freight, gross, rate, deposit_share, steps
):  # type: ignore[no-untyped-def]
    base_lines = sum(line.amount for line in lines)
    discount = int(base_lines * discount_share)
    base = base_lines - discount + freight
    total = base if gross else base + tax_on_net(base, rate)
    account = OrderAccount("SO1", "C1", total=total)
    account.start_check(total, force=False)
    account.settle_check(True, total, 10**12)
    clock = iter(AT + timedelta(minutes=i) for i in range(100))

    def pay(amount: int) -> None:
        if amount > 0:
            account.add_payment(Payment(f"TT-{len(account.payments)}", "SO1", amount, next(clock)))

    pay(int(total * deposit_share))  # a deposit before the invoice (R3.2)
    invoice = new_invoice("INV1", order_id="SO1", customer_id="C1", lines=lines, discount=discount,
                          freight=freight, total=total, tax_rate_bp=rate, paid=account.paid_total, at=AT,
                          prices_include_tax=gross)  # fmt: skip
    well_formed(invoice)
    assert (invoice.deducted, invoice.deducted + invoice.amount_due) == (account.paid_total, total)
    account.invoice(invoice.invoice_id, invoice.total)
    balanced(account)

    notes = []
    for kind, share in steps:
        if kind == "pay":
            pay(int(account.due * share))
        else:
            left = invoice.total + sum(n.total for n in notes)
            amount = left if share > 0.9 else int(left * share)  # the last return credits the rest
            note = new_credit_note(f"CN{len(notes)}", invoice, return_id=f"RT{len(notes)}",
                                   lines=[InvoiceLine("SKU-0", 1, amount, amount)],
                                   amount=amount, already_credited=-sum(n.total for n in notes),
                                   already_credited_tax=-sum(n.tax for n in notes), at=AT)  # fmt: skip
            well_formed(note)
            notes.append(note)
            account.credit(note.return_id or "", amount, next(clock))
        balanced(account)

    pay(account.due)  # the customer settles what is left
    balanced(account)
    assert account.receivable == 0 and account.due == 0
    assert invoice.total + sum(n.total for n in notes) == account.paid - account.refunded
    if invoice.total + sum(n.total for n in notes) == 0:
        assert invoice.tax + sum(n.tax for n in notes) == 0
    for refund in account.refunds.values():  # a refund never gives back more than its payment brought
        assert 0 < -refund.amount <= account.payments[refund.payment_id].amount
