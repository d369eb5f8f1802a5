"""At-least-once delivery with exactly-once effects: duplicates, races, crashes and poison."""

from __future__ import annotations

import asyncio
import re

import pytest

from tests.support.api import Shop
from tests.support.barriers import eventually, handled_for_orders, parked_until, quiet
from tests.support.probe import BusProbe
from tests.support.stack import Stack

DOWNTIME_S = 1.0  # how long a killed service stays down while the others keep publishing to it


async def snapshot(shop: Shop, order_id: str, customer: str, sku: str) -> dict:
    order = await shop.order(order_id)
    return {
        "status": order["status"],
        "stock": await shop.stock(sku),
        "exposure": (await shop.credit(customer))["exposure"],
        "invoices": sorted((i["kind"], i["total"]) for i in await shop.invoices(order_id)),
        "shipments": [(s["shipment_id"], s["status"]) for s in await shop.shipments(order_id)],
        "supply": [(s["supply_order_id"], s["status"]) for s in await shop.supply_orders(order_id)],
    }


def intake_ids(probe: BusProbe, order_id: str) -> set[str]:
    """The ids of every message the saga (intake) sent about the order."""
    return {e.message_id for e in probe.seen if e.correlation_id == order_id and e.producer == "intake"}


async def redeliver_every_command(stack: Stack, probe: BusProbe, order_id: str) -> int:
    """Publish each command the saga sent for the order again, byte for byte, and wait until every
    duplicate, every reply it caused and everything those caused in turn was handled."""
    commands = [e for e in probe.seen if e.correlation_id == order_id and e.routing_key.startswith("cmd.")]
    for envelope in commands:
        await probe.publish(envelope.message(), envelope=envelope)
    await quiet(stack, probe, order_id, within=60)  # each copy handled by its service, nothing pending
    return len(commands)


async def test_every_command_of_a_completed_order_delivered_twice_changes_nothing(
    shop: Shop, probe: BusProbe, e2e_stack: Stack
):
    customer = await shop.customer()
    sku = await shop.product(on_hand=1, sourcing="buy")
    order_id = (await shop.place(customer, [(sku, 2)]))["order_id"]
    supply = await shop.wait_supply_orders(order_id)
    await shop.complete_supply(supply[0]["supply_order_id"])
    await shop.deliver(order_id)
    await quiet(e2e_stack, probe, order_id)  # the last replies (StockCommitted ...) are in too
    before = await snapshot(shop, order_id, customer, sku)
    sent_before = [
        e.type for e in probe.seen if e.correlation_id == order_id and e.routing_key.startswith("cmd.")
    ]

    count = await redeliver_every_command(e2e_stack, probe, order_id)

    sent_after = [
        e.type for e in probe.seen if e.correlation_id == order_id and e.routing_key.startswith("cmd.")
    ]
    assert count >= 7  # credit, stock, supply, receive, shipment, commit, invoice
    assert {"ReserveCredit", "ReserveStock", "RaiseSupply", "ReceiveSupply", "CreateShipment", "CommitStock",
            "IssueInvoice"} <= set(sent_before)  # fmt: skip
    assert len(sent_after) == 2 * len(sent_before)  # only our duplicates: the saga sent nothing new
    assert await snapshot(shop, order_id, customer, sku) == before


async def test_commands_redelivered_after_a_cancellation_do_not_redo_what_was_undone(
    shop: Shop, probe: BusProbe, e2e_stack: Stack
):
    customer = await shop.customer()
    sku = await shop.product(on_hand=1, sourcing="make")
    order_id = (await shop.place(customer, [(sku, 3)]))["order_id"]
    await shop.wait_supply_orders(order_id)
    await shop.cancel(order_id)
    await shop.wait_status(order_id, "cancelled")
    await quiet(e2e_stack, probe, order_id)
    before = await snapshot(shop, order_id, customer, sku)
    sent_before = intake_ids(probe, order_id)

    await redeliver_every_command(e2e_stack, probe, order_id)  # ReserveStock now arrives after ReleaseStock

    assert await snapshot(shop, order_id, customer, sku) == before
    assert before["stock"]["reserved"] == 0 and before["exposure"] == 0
    assert intake_ids(probe, order_id) == sent_before  # the saga sent nothing new: copies keep their ids


async def test_thirty_concurrent_orders_for_ten_units_never_oversell(shop: Shop):
    customer = await shop.customer(credit_limit=100_000_000)
    sku = await shop.product(on_hand=10)

    placed = await asyncio.gather(*(shop.place(customer, [(sku, 1)]) for _ in range(30)))
    finals = await asyncio.gather(
        *(shop.wait_status(o["order_id"], "ready_to_ship", "awaiting_stock", within=90) for o in placed)
    )

    assert len({o["order_id"] for o in placed}) == 30  # R1.3: no collisions under concurrency
    assert sorted(o["status"] for o in finals).count("ready_to_ship") == 10
    assert sorted(o["status"] for o in finals).count("awaiting_stock") == 20
    stock = await shop.stock(sku)
    assert (stock["on_hand"], stock["reserved"], stock["available"]) == (10, 10, 0)  # R4.1


@pytest.mark.parametrize("victim", ["inventory", "intake", "billing"])
async def test_a_service_killed_mid_saga_is_restarted_and_every_order_completes_with_one_reservation(
    shop: Shop, e2e_stack: Stack, victim: str
):
    customer = await shop.customer()
    sku = await shop.product(on_hand=20)

    placed = await asyncio.gather(*(shop.place(customer, [(sku, 2)]) for _ in range(5)))
    ids = [o["order_id"] for o in placed]
    # Kill it once its part of the saga has begun (it handled a first delivery of these orders).
    await eventually(lambda: handled_for_orders(e2e_stack, victim, ids), what=f"{victim} at work",
                     interval=0.02)  # fmt: skip
    e2e_stack.kill(victim)  # SIGKILL: no clean-up, unacked deliveries come back
    await asyncio.sleep(DOWNTIME_S)  # a fault's length, not a wait for anything: the rest carries on
    e2e_stack.restart(victim)
    ready = await asyncio.gather(
        *(shop.wait_status(o["order_id"], "ready_to_ship", within=60) for o in placed)
    )

    stock = await shop.stock(sku)
    assert all(o["status"] == "ready_to_ship" for o in ready)
    assert (stock["on_hand"], stock["reserved"], stock["available"]) == (20, 10, 10)
    done = await shop.deliver(placed[0]["order_id"])
    assert done["status"] == "completed"
    assert (await shop.stock(sku))["reserved"] == 8


async def test_a_malformed_message_is_parked_and_the_service_keeps_serving(shop: Shop, probe: BusProbe):
    await probe.parked("inventory")  # start from an empty parking queue
    await probe.publish_raw("cmd.inventory.ReserveStock", b'{"this is": "not an envelope"')
    customer = await shop.customer()
    sku = await shop.product(on_hand=1)

    order_id = (await shop.place(customer, [(sku, 1)]))["order_id"]
    await shop.wait_status(order_id, "ready_to_ship")
    parked = await parked_until(probe, "inventory", 1)

    assert len(parked) == 1
    body, headers = parked[0]
    assert body == b'{"this is": "not an envelope"'
    assert re.search("malformed envelope", str(headers["x-error"]))
