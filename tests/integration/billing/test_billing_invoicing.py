"""Invoices and credit notes over the real broker and store (R6.1, R6.2)."""

from __future__ import annotations

import asyncio

import pytest

from shared.contracts import IssueCreditNote, PricedLine, ReserveCredit
from shared.envelope import reply_id
from tests.integration.billing.builders import a_customer, an_invoice_for, credit_of, uid

pytestmark = pytest.mark.integration


async def reserved_order(http, probe, *, limit: int = 100_000, amount: int = 11_300) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    customer_id, order_id = await a_customer(http, limit=limit), uid("SO")
    await probe.publish(ReserveCredit(order_id=order_id, customer_id=customer_id, amount=amount))
    await probe.wait_for("CreditReserved", order_id)
    return customer_id, order_id


async def test_an_invoice_carries_13_percent_vat_and_keeps_exposure_as_a_receivable(http, probe):
    customer_id, order_id = await reserved_order(http, probe)

    await probe.publish(an_invoice_for(order_id, customer_id, quantity=2, price=5_650))

    reply = (await probe.wait_for("InvoiceIssued", order_id))[0].payload
    assert (reply["total"], reply["tax"]) == (11_300, 1_300)
    assert reply["invoice_id"].startswith("INV") and len(reply["invoice_id"]) >= 12
    [invoice] = (await http.get("/invoices", params={"order_id": order_id})).json()
    assert (invoice["kind"], invoice["total"], invoice["tax"], invoice["lines"][0]["sku"]) == (
        "invoice",
        11_300,
        1_300,
        "LAMP-RED",
    )
    customer = await credit_of(http, customer_id)
    assert customer["exposure"] == 11_300
    assert customer["orders"][0]["receivable"] == 11_300 and customer["orders"][0]["held"] == 0


async def test_a_duplicate_issue_invoice_writes_one_invoice(http, probe):
    customer_id, order_id = await reserved_order(http, probe)
    command = an_invoice_for(order_id, customer_id)

    await probe.publish(command)
    await probe.publish(command)

    replies = await probe.wait_for("InvoiceIssued", order_id, count=2)
    assert len({r.payload["invoice_id"] for r in replies}) == 1
    assert len((await http.get("/invoices", params={"order_id": order_id})).json()) == 1


async def test_a_deposit_received_is_deducted_on_the_invoice(http, probe):
    customer_id, order_id = await reserved_order(http, probe)
    paid = await http.post("/payments", json={"order_id": order_id, "amount": 3_000, "reference": uid("DEP")})
    assert paid.status_code == 201

    await probe.publish(an_invoice_for(order_id, customer_id))

    await probe.wait_for("InvoiceIssued", order_id)
    [invoice] = (await http.get("/invoices", params={"order_id": order_id})).json()
    assert (invoice["deducted"], invoice["amount_due"]) == (3_000, 8_300)
    assert (await credit_of(http, customer_id))["exposure"] == 8_300


async def test_invoice_then_credit_note_totals_offset_and_exposure_falls(http, probe):
    customer_id, order_id = await reserved_order(http, probe)
    await probe.publish(an_invoice_for(order_id, customer_id))
    invoice_id = (await probe.wait_for("InvoiceIssued", order_id))[0].payload["invoice_id"]
    line = PricedLine(sku="LAMP-RED", quantity=2, unit_price=5_650, amount=11_300)
    command = IssueCreditNote(
        order_id=order_id, return_id=uid("RT"), customer_id=customer_id, lines=[line], total=11_300
    )

    # Two racing copies of one delivery (the same message id): each copy is answered, under one
    # reply id, and one credit note is written (ARCHITECTURE.md "Duplicates", issue 10).
    sent = await probe.publish(command)
    await probe.publish(command, envelope=sent)

    replies = await probe.wait_for("CreditNoteIssued", order_id, count=2)
    assert {r.message_id for r in replies} == {reply_id(sent, replies[0].message())}
    assert len({r.payload["credit_note_id"] for r in replies}) == 1
    documents = (await http.get("/invoices", params={"order_id": order_id})).json()
    assert [d["kind"] for d in documents] == ["invoice", "credit_note"]
    note = documents[1]
    assert note["original_invoice_id"] == invoice_id and note["invoice_id"].startswith("CN")
    assert (sum(d["total"] for d in documents), sum(d["tax"] for d in documents)) == (0, 0)
    assert (await credit_of(http, customer_id))["exposure"] == 0


async def test_an_invoice_whose_lines_do_not_add_up_is_parked_not_issued(http, probe):
    customer_id, order_id = await reserved_order(http, probe)
    command = an_invoice_for(order_id, customer_id).model_copy(update={"total": 1})

    await probe.publish(command)

    parked: list = []
    for _ in range(50):
        parked += [h for body, h in await probe.parked("billing") if order_id.encode() in body]
        if parked:
            break
        await asyncio.sleep(0.2)
    assert parked and "not the total 1" in str(parked[0]["x-error"])
    assert (await http.get("/invoices", params={"order_id": order_id})).json() == []
