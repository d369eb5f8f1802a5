"""Money in and out over the real broker and store (issue 5, R3.3, R7.1, R6.2): payments announced
once, every bad payment refused with its own code, refunds recorded as new negative entries,
answered again to a duplicate, and paid out by a person."""

from __future__ import annotations

import pytest

from shared.contracts import RefundPayments, ReleaseCredit, ReserveCredit
from shared.envelope import reply_id
from tests.integration.billing.builders import a_customer, credit_of, uid
from tests.support.barriers import handled, synced

pytestmark = pytest.mark.integration


async def reserved_order(http, probe, *, amount: int = 30_000, **kw) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    customer_id, order_id = await a_customer(http, limit=1_000_000), uid("SO")
    await probe.publish(ReserveCredit(order_id=order_id, customer_id=customer_id, amount=amount, **kw))
    await probe.wait_for("CreditReserved", order_id)
    return customer_id, order_id


async def pay(http, order_id: str, amount: int, reference: str | None = None, **kw):  # type: ignore[no-untyped-def]
    body = {"order_id": order_id, "amount": amount, "reference": reference or uid("TT"), **kw}
    return await http.post("/payments", json=body)


async def test_a_payment_is_announced_once_with_what_was_paid_so_far_and_who_recorded_it(http, probe):
    customer_id, order_id = await reserved_order(http, probe, amount=30_000, payment_terms="deposit")
    reference = uid("DEP")

    first = await pay(http, order_id, 9_000, reference)
    again = await pay(http, order_id, 9_000, reference)
    second = await pay(http, order_id, 6_000)
    await synced(probe)

    assert (first.status_code, again.status_code, again.headers.get("Idempotent-Replayed")) == (
        201,
        201,
        "true",
    )
    assert again.json() | {"paid_total": 9_000, "due": 21_000} == first.json()
    announced = probe.matching("PaymentReceived", order_id)
    assert [(e.payload["amount"], e.payload["paid_total"]) for e in announced] == [
        (9_000, 9_000),
        (6_000, 15_000),
    ]
    assert {(e.payload["by"], e.payload["currency"]) for e in announced} == {("test.admin", "CNY")}
    customer = await credit_of(http, customer_id)
    assert (customer["held"], customer["receivable"], customer["exposure"]) == (15_000, 0, 15_000)
    assert (customer["unapplied"], customer["available"]) == (0, 1_000_000 - 15_000)
    account = (await http.get(f"/billing/orders/{order_id}")).json()
    assert (account["paid_total"], account["due"], account["payment_terms"]) == (15_000, 15_000, "deposit")
    assert [p["payment_id"] for p in account["payments"]] == [reference, second.json()["payment_id"]]


@pytest.mark.parametrize(
    ("change", "status", "code", "field"),
    [
        ({"amount": 30_001}, 409, "overpayment", "amount"),
        ({"currency": "USD"}, 422, "currency_mismatch", "currency"),
        ({"amount": 0}, 422, "validation_failed", "amount"),
        ({"amount": -5}, 422, "validation_failed", "amount"),
        ({"currency": "yuan"}, 422, "validation_failed", "currency"),
    ],
)
async def test_a_payment_the_order_cannot_take_is_refused_with_its_own_code(
    http, probe, change, status, code, field
):
    _, order_id = await reserved_order(http, probe, amount=30_000)

    response = await pay(http, order_id, 1_000, **change) if "amount" not in change else await pay(
        http, order_id, change["amount"], **{k: v for k, v in change.items() if k != "amount"}
    )  # fmt: skip
    await synced(probe)

    assert response.status_code == status, response.text
    assert (response.json()["error"]["code"], set(response.json()["error"]["fields"])) == (code, {field})
    assert probe.matching("PaymentReceived", order_id) == []


async def test_a_payment_for_an_order_billing_never_saw_is_not_found(http, probe):
    order_id = uid("SO")

    response = await pay(http, order_id, 100)
    await synced(probe)

    assert (response.status_code, response.json()["error"]["code"]) == (404, "not_found")
    assert probe.matching("PaymentReceived", order_id) == []


async def test_a_reference_used_for_another_order_or_amount_is_refused(http, probe):
    _, order_id = await reserved_order(http, probe)
    _, other = await reserved_order(http, probe)
    reference = uid("TT")
    assert (await pay(http, order_id, 1_000, reference)).status_code == 201

    for response in (await pay(http, order_id, 2_000, reference), await pay(http, other, 1_000, reference)):
        assert (response.status_code, response.json()["error"]["code"]) == (409, "payment_conflict")
        assert "reference" in response.json()["error"]["fields"]
    await synced(probe)
    assert (
        len(probe.matching("PaymentReceived", order_id)) == 1
        and probe.matching("PaymentReceived", other) == []
    )


async def test_a_cancelled_order_takes_no_payment(http, probe, stack):
    _, order_id = await reserved_order(http, probe)
    release = await probe.publish(ReleaseCredit(order_id=order_id))
    await handled(stack, "billing", release)

    response = await pay(http, order_id, 1_000)
    await synced(probe)

    assert (response.status_code, response.json()["error"]["code"]) == (409, "order_closed")
    assert "released" in response.json()["error"]["message"]
    assert probe.matching("PaymentReceived", order_id) == []


async def test_refund_payments_records_negative_entries_answers_a_duplicate_again_and_closes_the_order(
    http, probe, stack
):
    customer_id, order_id = await reserved_order(http, probe, amount=30_000)
    deposit = (await pay(http, order_id, 9_000, uid("DEP"))).json()

    command = await probe.publish(RefundPayments(order_id=order_id, reason="cancelled by the customer"))
    await probe.publish(command.message(), envelope=command)  # the very same delivery again

    replies = await probe.wait_for("PaymentsRefunded", order_id, count=2)
    await handled(stack, "billing", command, count=2)
    assert {r.message_id for r in replies} == {reply_id(command, replies[0].message())}
    assert {(r.payload["amount"], len(r.payload["refund_ids"])) for r in replies} == {(9_000, 1)}
    [refund] = (await http.get("/refunds", params={"order_id": order_id})).json()
    assert (refund["amount"], refund["payment_id"], refund["status"]) == (
        -9_000,
        deposit["payment_id"],
        "owed",
    )
    assert refund["refund_id"] == replies[0].payload["refund_ids"][0]
    account = (await http.get(f"/billing/orders/{order_id}")).json()
    assert (account["paid"], account["refunded"], account["paid_total"], account["closed"]) == (
        9_000, 9_000, 0, "refunded",
    )  # fmt: skip
    assert account["payments"][0]["amount"] == 9_000, "the payment is never edited (R6.2)"
    refused = await pay(http, order_id, 1_000)
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "order_closed")
    await probe.publish(ReleaseCredit(order_id=order_id))
    await probe.wait_for("CreditReleased", order_id)
    assert (await credit_of(http, customer_id))["exposure"] == 0


async def test_refund_payments_for_an_order_with_nothing_paid_answers_nothing_refunded(probe):
    order_id = uid("SO")

    await probe.publish(RefundPayments(order_id=order_id))

    [reply] = await probe.wait_for("PaymentsRefunded", order_id)
    assert (reply.payload["amount"], reply.payload["refund_ids"]) == (0, [])


async def test_a_refund_is_paid_out_once_with_who_and_when_and_leaves_the_owed_list(http, probe):
    _, order_id = await reserved_order(http, probe)
    await pay(http, order_id, 9_000)
    await probe.publish(RefundPayments(order_id=order_id))
    [reply] = await probe.wait_for("PaymentsRefunded", order_id)
    refund_id = reply.payload["refund_ids"][0]

    paid = await http.post(f"/refunds/{refund_id}/paid-out")
    again = await http.post(f"/refunds/{refund_id}/paid-out")

    assert (paid.status_code, paid.json()["status"], paid.json()["paid_out_by"]) == (
        200,
        "paid_out",
        "test.admin",
    )
    assert again.json() == paid.json()
    owed = (await http.get("/refunds", params={"order_id": order_id, "status": "owed"})).json()
    assert owed == [] and (await http.post("/refunds/RF-nobody/paid-out")).status_code == 404


async def test_an_erp_key_sees_only_its_customers_orders_and_refunds(stack, probe, http):
    _, order_id = await reserved_order(http, probe)
    async with stack.client("billing", as_="erp_other") as other:
        assert (await other.get(f"/billing/orders/{order_id}")).status_code == 404
        assert (await other.get("/refunds", params={"order_id": order_id})).json() == []
        assert (await pay(other, order_id, 100)).status_code == 404


async def test_customers_take_every_payment_term_and_its_aliases_and_refuse_others(http):
    customer_id = uid("CUST")
    body = {"name": "Lamp Co.", "payment_terms": "T/T", "credit_limit": 0, "taxpayer": "general",
            "tax_number": "91310000MA1FL8XQ30"}  # fmt: skip

    stored = await http.put(f"/customers/{customer_id}", json=body)
    refused = await http.put(f"/customers/{customer_id}", json={**body, "payment_terms": "L/C at sight"})

    assert (stored.status_code, stored.json()["payment_terms"], stored.json()["invoice_type"]) == (
        201, "tt", "vat_special",
    )  # fmt: skip
    assert (refused.status_code, set(refused.json()["error"]["fields"])) == (422, {"payment_terms"})
    for term in ("prepaid", "deposit", "lc", "monthly", "credit"):
        answer = await http.put(f"/customers/{customer_id}", json={**body, "payment_terms": term})
        assert (answer.status_code, answer.json()["payment_terms"]) == (200, term)
