"""AdjustCredit against billing's in-memory fakes (tests/support/fakes_billing.py): an order change
(issue 8, R7.2, R4.2) moves the order's hold to its new total, an increase within the customer's
limit only (R3.1); every change is answered once and again under the same id to a duplicate, and a
crash between the account's write and the customer's is repaired by the redelivery."""

from __future__ import annotations

import pytest

from services.billing.changes import adjust_credit
from services.billing.deps import Billing
from services.billing.domain import CreditCheckRunning, Customer, OrderAccount
from services.billing.domain.money import OWED
from services.billing.handlers import release_credit, reserve_credit
from services.billing.invoicing import issue_invoice
from services.billing.payments import record_payment
from shared import contracts as c
from shared.envelope import Envelope, reply_id
from tests.support.fakes import FakeBus
from tests.unit.billing.helpers import accounts, customers, delivered, uid


async def run(handler, env: Envelope, billing: Billing) -> None:  # type: ignore[no-untyped-def]
    await handler(env.message(), env, billing)


async def a_customer(billing: Billing, limit: int = 100_000, terms: str = "credit") -> str:
    customer_id = uid("CUST")
    await billing.customers.add(Customer(customer_id, "Shanghai Lamp Co., Ltd.", terms, limit))
    return customer_id


async def figures(billing: Billing, customer_id: str) -> tuple[int, int, int]:
    customer = await billing.customers.get(customer_id)
    assert customer is not None
    return customer.held, customer.receivable, customer.exposure


async def an_order(
    billing: Billing, bus: FakeBus, customer_id: str, amount: int = 30_000, **kw: object
) -> str:
    order_id = uid("SO")
    reserve = c.ReserveCredit(order_id=order_id, customer_id=customer_id, amount=amount, **kw)  # type: ignore[arg-type]
    await run(reserve_credit, delivered(reserve), billing)
    assert bus.types()[-1] == "CreditReserved"
    bus.published.clear()
    return order_id


def adjust(order_id: str, customer_id: str, amount: int, change_id: str | None = None) -> Envelope:
    return delivered(
        c.AdjustCredit(
            order_id=order_id, change_id=change_id or uid("CH"), customer_id=customer_id, amount=amount
        )
    )


async def account(billing: Billing, order_id: str) -> OrderAccount:
    loaded = await billing.accounts.load(order_id)
    assert loaded is not None
    return loaded.aggregate


async def test_a_decrease_gives_the_difference_back_to_the_customer_and_is_answered_accepted(billing, bus):
    customer_id = await a_customer(billing)
    order_id = await an_order(billing, bus, customer_id, 30_000)
    command = adjust(order_id, customer_id, 18_000)

    await run(adjust_credit, command, billing)

    [reply] = bus.published
    assert (reply.type, reply.message_id) == ("CreditAdjusted", reply_id(command, reply.message()))
    assert reply.payload | {"change_id": "-"} == {
        "order_id": order_id, "change_id": "-", "amount": 18_000, "accepted": True,
        "exposure": 18_000, "credit_limit": 100_000, "reason": "", "refunded": 0,
    }  # fmt: skip
    assert await figures(billing, customer_id) == (18_000, 0, 18_000)
    assert (await account(billing, order_id)).total == 18_000
    assert accounts(billing).docs[order_id]["outbox"] == {}


async def test_an_increase_within_the_limit_holds_more(billing, bus):
    customer_id = await a_customer(billing, limit=100_000)
    order_id = await an_order(billing, bus, customer_id, 30_000)

    await run(adjust_credit, adjust(order_id, customer_id, 100_000), billing)

    [reply] = bus.published
    assert (reply.payload["accepted"], reply.payload["amount"], reply.payload["exposure"]) == (
        True,
        100_000,
        100_000,
    )
    assert await figures(billing, customer_id) == (100_000, 0, 100_000)
    changed = await account(billing, order_id)
    assert (changed.state, changed.total, changed.held, changed.adjusting) == ("held", 100_000, 100_000, "")


async def test_an_increase_over_the_limit_is_refused_naming_exposure_increase_and_limit_and_nothing_moves(
    billing, bus
):
    customer_id = await a_customer(billing, limit=100_000)
    other = await an_order(billing, bus, customer_id, 50_000)
    order_id = await an_order(billing, bus, customer_id, 30_000)
    before = await account(billing, order_id)

    await run(adjust_credit, adjust(order_id, customer_id, 60_000), billing)

    [reply] = bus.published
    assert (reply.payload["accepted"], reply.payload["amount"]) == (False, 60_000)
    assert reply.payload["reason"] == (
        f"exposure 80000 + increase 30000 exceeds credit limit 100000 of customer {customer_id}"
    )
    assert (reply.payload["exposure"], reply.payload["credit_limit"]) == (80_000, 100_000)
    assert await figures(billing, customer_id) == (80_000, 0, 80_000)
    after = await account(billing, order_id)
    assert (
        (after.state, after.total, after.held)
        == ("held", 30_000, 30_000)
        == (before.state, before.total, before.held)
    )
    assert customers(billing).mark(customer_id, order_id) == after.mark(), "the fence's mark is written"
    assert (await account(billing, other)).held == 50_000


async def test_a_duplicate_is_answered_again_under_the_same_id_and_counts_once(billing, bus):
    customer_id = await a_customer(billing)
    order_id = await an_order(billing, bus, customer_id, 30_000)
    command = adjust(order_id, customer_id, 45_000)
    await run(adjust_credit, command, billing)
    writes = (customers(billing).writes, accounts(billing).writes)

    await run(adjust_credit, command, billing)  # the same delivery again
    await run(adjust_credit, adjust(order_id, customer_id, 45_000, command.message().change_id), billing)  # type: ignore[attr-defined]

    assert (customers(billing).writes, accounts(billing).writes) == writes
    first, again, resent = bus.published
    assert (again.message_id, again.payload) == (first.message_id, first.payload)
    assert resent.payload == first.payload, "sent again by the saga: the same answer, its own id"
    assert await figures(billing, customer_id) == (45_000, 0, 45_000)


async def test_a_refused_change_is_refused_again_to_a_duplicate_even_when_it_would_fit_now(billing, bus):
    customer_id = await a_customer(billing, limit=100_000)
    other = await an_order(billing, bus, customer_id, 60_000)
    order_id = await an_order(billing, bus, customer_id, 30_000)
    command = adjust(order_id, customer_id, 50_000)
    await run(adjust_credit, command, billing)
    await run(release_credit, delivered(c.ReleaseCredit(order_id=other)), billing)

    await run(adjust_credit, command, billing)

    refused, _, again = bus.published
    assert not refused.payload["accepted"] and (again.message_id, again.payload) == (
        refused.message_id,
        refused.payload,
    )
    assert await figures(billing, customer_id) == (30_000, 0, 30_000)


async def test_two_changes_in_sequence_each_move_the_hold_from_the_last(billing, bus):
    customer_id = await a_customer(billing, limit=100_000)
    order_id = await an_order(billing, bus, customer_id, 30_000)

    await run(adjust_credit, adjust(order_id, customer_id, 70_000), billing)
    await run(adjust_credit, adjust(order_id, customer_id, 20_000), billing)
    await run(adjust_credit, adjust(order_id, customer_id, 60_000), billing)

    assert [(e.payload["amount"], e.payload["accepted"]) for e in bus.published] == [
        (70_000, True), (20_000, True), (60_000, True),
    ]  # fmt: skip
    assert await figures(billing, customer_id) == (60_000, 0, 60_000)
    assert len((await account(billing, order_id)).changes) == 3


async def test_concurrent_increases_of_two_orders_of_one_customer_never_pass_the_limit(billing, bus):
    customer_id = await a_customer(billing, limit=100_000)
    mine = await an_order(billing, bus, customer_id, 30_000)
    theirs = await an_order(billing, bus, customer_id, 30_000)

    async def racing_change() -> None:  # holds 30,000 more between our read of the customer and our move
        await run(adjust_credit, adjust(theirs, customer_id, 60_000), billing)

    customers(billing).before_next_move.append(racing_change)
    await run(adjust_credit, adjust(mine, customer_id, 60_000), billing)

    assert [(e.correlation_id, e.payload["accepted"]) for e in bus.published] == [
        (theirs, True),
        (mine, False),
    ]
    assert "exposure 90000 + increase 30000 exceeds credit limit 100000" in bus.published[1].payload["reason"]
    assert await figures(billing, customer_id) == (90_000, 0, 90_000)


async def test_money_already_paid_counts_so_only_the_unpaid_increase_is_checked(billing, bus):
    customer_id = await a_customer(billing, limit=50_000)
    order_id = await an_order(billing, bus, customer_id, 40_000)
    await record_payment(billing, order_id, 30_000, uid("DEP"))
    bus.published.clear()
    assert await figures(billing, customer_id) == (10_000, 0, 10_000)

    await run(adjust_credit, adjust(order_id, customer_id, 90_000), billing)  # 60,000 unpaid: over 50,000
    await run(adjust_credit, adjust(order_id, customer_id, 75_000), billing)  # 45,000 unpaid: within it

    assert [e.payload["accepted"] for e in bus.published] == [False, True]
    assert await figures(billing, customer_id) == (45_000, 0, 45_000)


async def test_a_decrease_below_what_was_paid_refunds_the_excess_once(billing, bus):
    customer_id = await a_customer(billing)
    order_id = await an_order(billing, bus, customer_id, 40_000)
    await record_payment(billing, order_id, 40_000, uid("PAY"))  # paid in full ahead
    bus.published.clear()
    command = adjust(order_id, customer_id, 25_000)

    await run(adjust_credit, command, billing)
    await run(adjust_credit, command, billing)  # a redelivery

    first, again = bus.published
    assert first.message_id == again.message_id and first.payload["refunded"] == 15_000
    [record] = await billing.refunds.for_order(order_id)
    assert (record.amount, record.status) == (-15_000, OWED)  # finance pays it out (GET /refunds)
    assert (await account(billing, order_id)).paid_total == 25_000
    assert await figures(billing, customer_id) == (0, 0, 0)


async def test_a_release_after_changes_gives_back_the_adjusted_hold(billing, bus):
    customer_id = await a_customer(billing)
    order_id = await an_order(billing, bus, customer_id, 30_000)
    await run(adjust_credit, adjust(order_id, customer_id, 55_000), billing)
    bus.published.clear()

    await run(release_credit, delivered(c.ReleaseCredit(order_id=order_id)), billing)

    [released] = bus.published
    assert released.payload["amount"] == 55_000
    assert await figures(billing, customer_id) == (0, 0, 0)


async def test_an_invoice_after_a_change_turns_the_adjusted_hold_into_the_receivable(billing, bus):
    customer_id = await a_customer(billing)
    order_id = await an_order(billing, bus, customer_id, 30_000)
    await run(adjust_credit, adjust(order_id, customer_id, 22_600), billing)
    line = c.PricedLine(sku="LAMP-RED", quantity=2, unit_price=11_300, amount=22_600)
    invoice = c.IssueInvoice(order_id=order_id, customer_id=customer_id, lines=[line], total=22_600)

    await run(issue_invoice, delivered(invoice), billing)

    assert await figures(billing, customer_id) == (0, 22_600, 22_600)
    assert (await account(billing, order_id)).state == "invoiced"


async def test_terms_that_hold_no_credit_accept_any_change_and_hold_nothing(billing, bus):
    customer_id = await a_customer(billing, limit=0)
    order_id = await an_order(billing, bus, customer_id, 30_000, payment_terms="prepaid")

    await run(adjust_credit, adjust(order_id, customer_id, 900_000), billing)

    [reply] = bus.published
    assert (reply.payload["accepted"], reply.payload["amount"]) == (True, 900_000)
    assert (await account(billing, order_id)).total == 900_000
    assert await figures(billing, customer_id) == (0, 0, 0)


async def test_an_order_billing_holds_no_credit_for_is_refused_with_a_reason(billing, bus):
    customer_id = await a_customer(billing)
    released = await an_order(billing, bus, customer_id, 30_000)
    await run(release_credit, delivered(c.ReleaseCredit(order_id=released)), billing)
    bus.published.clear()

    await run(adjust_credit, adjust(uid("SO"), customer_id, 1_000), billing)
    await run(adjust_credit, adjust(released, customer_id, 1_000), billing)

    unknown, after_release = bus.published
    assert not unknown.payload["accepted"] and "holds no credit for order" in unknown.payload["reason"]
    assert not after_release.payload["accepted"] and "was released" in after_release.payload["reason"]
    assert await figures(billing, customer_id) == (0, 0, 0)


async def test_a_change_while_the_orders_credit_check_runs_is_retried_by_the_bus(billing, bus):
    customer_id = await a_customer(billing)
    checking = OrderAccount(uid("SO"), customer_id, total=30_000)
    checking.start_check(30_000, force=False)  # a crash left the check running, say
    await billing.accounts.add(checking)
    writes = accounts(billing).writes

    with pytest.raises(CreditCheckRunning):
        await run(adjust_credit, adjust(checking.order_id, customer_id, 10_000), billing)

    assert bus.published == [] and accounts(billing).writes == writes


async def crash_before_the_customers_write(billing: Billing, command: Envelope) -> None:
    """Handle ``command`` with the process dying as it moves the customer's figures."""
    move = customers(billing).move

    async def crash(*args: object, **kw: object) -> None:
        raise ConnectionError("the process died here")

    customers(billing).move = crash  # type: ignore[method-assign,assignment]
    with pytest.raises(ConnectionError):
        await run(adjust_credit, command, billing)
    customers(billing).move = move  # type: ignore[method-assign]


async def test_a_crash_between_a_decreases_account_write_and_the_customers_is_repaired_by_the_redelivery(
    billing, bus
):
    customer_id = await a_customer(billing)
    order_id = await an_order(billing, bus, customer_id, 30_000)
    command = adjust(order_id, customer_id, 10_000)
    await crash_before_the_customers_write(billing, command)
    assert await figures(billing, customer_id) == (30_000, 0, 30_000)  # the account is ahead
    assert (await account(billing, order_id)).held == 10_000

    await run(adjust_credit, command, billing)  # the broker redelivers the unacknowledged command

    [reply] = bus.published
    assert reply.message_id == reply_id(command, reply.message()) and reply.payload["accepted"]
    assert await figures(billing, customer_id) == (10_000, 0, 10_000)


async def test_a_crash_during_an_increases_check_is_taken_on_by_the_redelivery(billing, bus):
    customer_id = await a_customer(billing)
    order_id = await an_order(billing, bus, customer_id, 30_000)
    command = adjust(order_id, customer_id, 50_000)
    await crash_before_the_customers_write(billing, command)
    assert (await account(billing, order_id)).adjusting == command.message().change_id  # type: ignore[attr-defined]

    await run(adjust_credit, command, billing)

    [reply] = bus.published
    assert reply.payload["accepted"] and await figures(billing, customer_id) == (50_000, 0, 50_000)


async def test_a_duplicate_reserve_during_an_increases_check_is_answered_as_before_and_leaves_the_check(
    billing, bus
):
    customer_id = await a_customer(billing)
    reserve = delivered(c.ReserveCredit(order_id=uid("SO"), customer_id=customer_id, amount=30_000))
    order_id = reserve.correlation_id
    await run(reserve_credit, reserve, billing)

    async def duplicate_reserve() -> None:  # the account is checking the change's increase
        await run(reserve_credit, reserve, billing)

    customers(billing).before_next_move.append(duplicate_reserve)
    await run(adjust_credit, adjust(order_id, customer_id, 50_000), billing)

    reserved, again, changed = bus.published
    assert (again.message_id, again.payload) == (reserved.message_id, reserved.payload)
    assert (changed.type, changed.payload["accepted"]) == ("CreditAdjusted", True)
    assert await figures(billing, customer_id) == (50_000, 0, 50_000)


async def test_a_release_that_overtakes_an_increases_check_gives_back_the_old_hold_and_the_change_is_refused(
    billing, bus
):
    customer_id = await a_customer(billing)
    order_id = await an_order(billing, bus, customer_id, 30_000)

    async def release_meanwhile() -> None:
        await run(release_credit, delivered(c.ReleaseCredit(order_id=order_id)), billing)

    customers(billing).before_next_move.append(release_meanwhile)
    await run(adjust_credit, adjust(order_id, customer_id, 50_000), billing)

    released, changed = bus.published
    assert (released.type, released.payload["amount"]) == ("CreditReleased", 30_000)
    assert (changed.payload["accepted"], "released" in changed.payload["reason"]) == (False, True)
    assert await figures(billing, customer_id) == (0, 0, 0)
