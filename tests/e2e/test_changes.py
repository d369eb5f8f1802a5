"""Changing an accepted order through all six services (issue 8, R7.2, R4.2): an amendment moves
credit, stock and supply by the difference only, the preview changes nothing, a line cancel gives
back exactly that line, the short part of a line can be closed, production that started refuses
a change, a booked order's shipment is held and booked again (also with logistics, intake or
billing killed mid-way), and a refused change books it again as it was.

Most orders wait for stock (``waiting_order``: one line of a product with nothing on hand, its
supply order open, so ``awaiting_stock``); the booked ones (``booked_order``) are ready to ship
with their carrier booked (domain/changes.py).
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from tests.support.api import Shop
from tests.support.barriers import eventually, handled_for_orders
from tests.support.probe import BusProbe
from tests.support.stack import Stack


def lines(*pairs: tuple[str, int]) -> list[dict[str, Any]]:
    return [{"sku": sku, "quantity": qty} for sku, qty in pairs]


async def waiting_order(
    shop: Shop, *, short_sourcing: str = "buy", b_on_hand: int = 2
) -> tuple[str, str, str, str]:
    """A customer's order of 1 short unit of A (supply raised) and 2 of B (reserved): awaiting_stock."""
    customer = await shop.customer()
    a = await shop.product(on_hand=0, price=12_000, sourcing=short_sourcing)
    b = await shop.product(on_hand=b_on_hand, price=10_000)
    order_id = (await shop.place(customer, [(a, 1), (b, 2)]))["order_id"]
    await shop.wait_status(order_id, "awaiting_stock")
    await shop.wait_until(order_id, lambda o: bool(o.get("supply_orders")))  # intake knows A's supply
    return customer, a, b, order_id


async def post_change(shop: Shop, order_id: str, path: str, body: dict[str, Any]) -> httpx.Response:
    return await shop.as_("storefront")["intake"].post(f"/orders/{order_id}/{path}", json=body)


async def ended(shop: Shop, order_id: str) -> dict[str, Any]:
    """The order once its last change was applied or refused (what the caller polls for)."""
    return await shop.wait_until(
        order_id, lambda o: bool(o["changes"]) and o["changes"][-1]["status"] in ("applied", "refused")
    )


def supply_of(supply: list[dict[str, Any]]) -> list[tuple[str, int, str]]:
    return sorted((s["sku"], s["quantity"], s["status"]) for s in supply)


async def test_an_amendment_from_2_to_5_with_3_short_raises_supply_for_the_3_only(shop: Shop):
    customer, a, b, order_id = await waiting_order(shop)
    order = await shop.order(order_id)
    body = {"lines": lines((a, 1), (b, 5)), "reason": "the customer wants 5", "version": order["version"]}

    # The preview says what would happen and changes nothing.
    preview = await shop.ok(await post_change(shop, order_id, "changes/preview", body))
    assert preview["stock"] == [
        {
            "sku": b,
            "before": 2,
            "after": 5,
            "reserve": 3,
            "available_now": 0,
            "would_be_short": 3,
            "supply": "raise or enlarge supply for 3 units",
        }
    ]
    assert preview["credit"] == {
        "hold_before": order["total"],
        "hold_after": order["total"] + 30_000,
        "change": 30_000,
    }
    assert (await shop.order(order_id))["version"] == order["version"]
    assert (await shop.stock(b))["reserved"] == 2
    assert supply_of(await shop.supply_orders(order_id)) == [(a, 1, "open")]

    response = await post_change(shop, order_id, "changes", body)
    assert response.status_code == 202, response.text
    done = await ended(shop, order_id)

    change = done["changes"][-1]
    assert change["status"] == "applied", change
    assert done["status"] == "awaiting_stock" and done["total"] == order["total"] + 30_000
    assert [(li["sku"], li["quantity"]) for li in done["lines"]] == [(a, 1), (b, 5)]
    # Supply for B's 3 missing units only; A's order untouched; B's 2 stay held; credit follows.
    assert supply_of(await shop.supply_orders(order_id)) == sorted([(a, 1, "open"), (b, 3, "open")])
    assert ((await shop.stock(b))["reserved"], (await shop.stock(b))["on_hand"]) == (2, 2)
    assert (await shop.credit(customer))["exposure"] == done["total"]
    assert change["by"] == "shop.web"  # who asked is the caller's key (issue 7)

    # The rest of the order runs on the new lines: supplied, shipped, invoiced at the new total.
    for supply in await shop.supply_orders(order_id):
        await shop.complete_supply(supply["supply_order_id"])
    completed = await shop.deliver(order_id)
    [invoice] = await shop.invoices(order_id)
    assert invoice["total"] == completed["total"] == done["total"]
    assert [(li["sku"], li["quantity"]) for li in invoice["lines"]] == [(a, 1), (b, 5)]


async def test_a_line_cancel_releases_exactly_that_line(shop: Shop):
    customer, a, b, order_id = await waiting_order(shop)
    before = await shop.order(order_id)

    response = await post_change(shop, order_id, "lines/2/cancel", {"reason": "B is not needed any more"})
    assert response.status_code == 202, response.text
    done = await ended(shop, order_id)

    assert done["changes"][-1]["status"] == "applied" and done["changes"][-1]["kind"] == "line_cancel"
    assert [(li["sku"], li["quantity"]) for li in done["lines"]] == [(a, 1)]
    assert ((await shop.stock(b))["reserved"], (await shop.stock(b))["available"]) == (0, 2)
    assert supply_of(await shop.supply_orders(order_id)) == [(a, 1, "open")]  # A goes on as it was
    assert done["status"] == "awaiting_stock" and done["total"] == before["total"] - 20_000
    assert (await shop.credit(customer))["exposure"] == done["total"]


async def test_closing_the_short_part_of_a_line_ships_the_rest(shop: Shop, probe: BusProbe):
    customer, a, b, order_id = await waiting_order(shop)

    response = await post_change(shop, order_id, "lines/1/cancel", {"short": True, "reason": "no backorder"})
    assert response.status_code == 202, response.text
    done = await ended(shop, order_id)

    assert done["changes"][-1]["status"] == "applied", done["changes"][-1]
    assert done["status"] in ("ready_to_ship", "shipped") and [li["sku"] for li in done["lines"]] == [b]
    assert supply_of(await shop.supply_orders(order_id)) == [(a, 1, "cancelled")]
    [create] = await probe.wait_for("CreateShipment", order_id)
    assert create.payload["lines"] == [{"sku": b, "quantity": 2}]  # the carrier takes B alone
    assert len(await shop.wait_shipments(order_id)) == 1
    assert (await shop.credit(customer))["exposure"] == done["total"] == 20_000


async def test_production_that_has_started_refuses_the_change_and_nothing_moves(shop: Shop):
    customer, a, b, order_id = await waiting_order(shop, short_sourcing="make")
    [production] = await shop.supply_orders(order_id)
    assert production["kind"] == "production"
    started = await shop.as_("warehouse")["fulfillment"].post(
        f"/supply-orders/{production['supply_order_id']}/start"
    )
    assert started.status_code == 200, started.text
    before = await shop.order(order_id)

    body = {"lines": lines((a, 3), (b, 2)), "reason": "two more lamps"}
    response = await post_change(shop, order_id, "changes", body)
    assert response.status_code == 202, response.text
    done = await ended(shop, order_id)

    change = done["changes"][-1]
    assert change["status"] == "refused" and "production" in change["outcome"], change
    assert [(li["sku"], li["quantity"]) for li in done["lines"]] == [(a, 1), (b, 2)]
    assert done["total"] == before["total"] and done["status"] == "awaiting_stock"
    assert supply_of(await shop.supply_orders(order_id)) == [(a, 1, "open")]
    assert (await shop.credit(customer))["exposure"] == before["total"]


async def test_a_stale_version_and_a_shipped_order_are_409_with_the_reason(shop: Shop):
    customer, a, b, order_id = await waiting_order(shop)
    order = await shop.order(order_id)

    stale = await post_change(
        shop,
        order_id,
        "changes",
        {"lines": lines((a, 1), (b, 3)), "reason": "x", "version": order["version"] - 1},
    )
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "version_conflict"

    shipped_b = await shop.product(on_hand=5)
    shipped = (await shop.place(customer, [(shipped_b, 1)]))["order_id"]
    await shop.deliver(shipped)
    refused = await post_change(shop, shipped, "changes", {"lines": lines((shipped_b, 2)), "reason": "more"})
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "order_shipped"
    assert "returns" in refused.json()["error"]["fields"]


async def test_a_merge_moves_the_other_orders_lines_holds_and_credit_and_ends_it_merged(shop: Shop):
    customer = await shop.customer()
    a, b, c = (
        await shop.product(on_hand=0),
        await shop.product(on_hand=2, price=10_000),
        await shop.product(on_hand=0, price=5_000),
    )
    address = "Shanghai, Pudong, 88 Century Ave, Rm 1808"
    first = (await shop.place(customer, [(a, 1), (b, 2)], delivery_address=address))["order_id"]
    second = (await shop.place(customer, [(c, 2)], delivery_address=address))["order_id"]
    elsewhere = (await shop.place(customer, [(c, 1)]))["order_id"]  # another address
    for order_id in (first, second, elsewhere):
        await shop.wait_status(order_id, "awaiting_stock")
        await shop.wait_until(order_id, lambda o: bool(o.get("supply_orders")))
    before = await shop.order(first), await shop.order(second)

    mismatch = await post_change(shop, first, "merge", {"order_id": elsewhere, "reason": "one parcel"})
    assert mismatch.status_code == 409 and mismatch.json()["error"]["code"] == "merge_mismatch"
    assert set(mismatch.json()["error"]["fields"]) == {"delivery_address"}

    response = await post_change(shop, first, "merge", {"order_id": second, "reason": "one parcel"})
    assert response.status_code == 202, response.text
    done = await ended(shop, first)
    merged = await shop.wait_status(second, "merged")

    assert done["changes"][-1]["status"] == "applied" and done["changes"][-1]["merge_from"] == second
    assert merged["merged_into"] == first
    assert sorted((li["sku"], li["quantity"]) for li in done["lines"]) == sorted([(a, 1), (b, 2), (c, 2)])
    assert done["total"] == before[0]["total"] + before[1]["total"]
    # The second order's supply was cancelled and raised again for the first; its credit moved.
    assert supply_of(await shop.supply_orders(second)) == [(c, 2, "cancelled")]
    assert supply_of(await shop.supply_orders(first)) == sorted([(a, 1, "open"), (c, 2, "open")])
    exposure = (await shop.credit(customer))["exposure"]
    assert exposure == done["total"] + (await shop.order(elsewhere))["total"]


async def booked_order(shop: Shop, credit_limit: int = 10_000_000) -> tuple[str, str, str, dict[str, Any]]:
    """A customer's order of 2 units of B, all in stock, with its carrier booked: ready_to_ship."""
    customer = await shop.customer(credit_limit=credit_limit)
    b = await shop.product(on_hand=10, price=10_000)
    order_id = (await shop.place(customer, [(b, 2)]))["order_id"]
    await shop.wait_status(order_id, "ready_to_ship")
    [shipment] = await shop.wait_shipments(order_id)
    await shop.wait_until(order_id, lambda o: shipment["tracking_number"] in o.get("tracking_numbers", []))
    return customer, b, order_id, shipment


async def packing_list(shop: Shop, shipment_id: str) -> dict[str, Any]:
    logistics = shop.as_("warehouse")["logistics"]
    return await shop.ok(await logistics.get(f"/shipments/{shipment_id}/packing-list"))


async def test_a_booked_order_changes_by_holding_its_shipment_and_booking_it_again(shop: Shop):
    customer, b, order_id, first = await booked_order(shop)

    body = {"lines": lines((b, 3)), "delivery_address": "8 Huaihai Road, Shanghai", "reason": "one more"}
    preview = await shop.ok(await post_change(shop, order_id, "changes/preview", body))
    assert preview["shipment"].startswith("held") and preview["stock"][0]["reserve"] == 1
    response = await post_change(shop, order_id, "changes", body)
    assert response.status_code == 202, response.text
    done = await ended(shop, order_id)

    assert done["changes"][-1]["status"] == "applied", done["changes"][-1]
    assert done["status"] == "ready_to_ship" and done["total"] == 30_000
    [again] = await shop.shipments(order_id)  # the same shipment, booked again (R7.2)
    assert again["shipment_id"] == first["shipment_id"] and again["status"] == "booked"
    assert again["tracking_number"] != first["tracking_number"]
    assert [e["type"] for e in again["events"]][-2:] == ["held", "rebooked"]
    packing = await packing_list(shop, again["shipment_id"])
    assert packing["lines"] == [{"sku": b, "quantity": 3}]
    assert packing["address"] == "8 Huaihai Road, Shanghai"
    assert ((await shop.stock(b))["reserved"], (await shop.credit(customer))["exposure"]) == (3, 30_000)

    # The carrier takes the new booking; the invoice is for the new lines.
    await shop.wait_until(order_id, lambda o: again["tracking_number"] in o.get("tracking_numbers", []))
    completed = await shop.deliver(order_id)
    [invoice] = await shop.invoices(order_id)
    assert invoice["total"] == completed["total"] == 30_000


async def test_a_refused_change_of_a_booked_order_books_it_again_as_it_was(shop: Shop):
    _, b, order_id, first = await booked_order(shop, credit_limit=50_000)

    # 6 units are 60,000 fen: over the customer's credit limit (R3.1)
    response = await post_change(shop, order_id, "changes", {"lines": lines((b, 6)), "reason": "a lot more"})
    assert response.status_code == 202, response.text
    done = await ended(shop, order_id)

    assert done["changes"][-1]["status"] == "refused" and "credit" in done["changes"][-1]["outcome"]
    [again] = await shop.shipments(order_id)
    assert again["status"] == "booked" and again["shipment_id"] == first["shipment_id"]
    assert (await packing_list(shop, again["shipment_id"]))["lines"] == [{"sku": b, "quantity": 2}]
    assert done["total"] == 20_000 and (await shop.stock(b))["reserved"] == 2


@pytest.mark.parametrize("victim", ["logistics", "intake", "billing"])
async def test_changes_of_booked_orders_end_as_asked_when_a_service_is_killed_mid_way(
    shop: Shop, e2e_stack: Stack, victim: str
):
    booked = [await booked_order(shop) for _ in range(3)]
    ids = [order_id for _, _, order_id, _ in booked]
    before = handled_for_orders(e2e_stack, victim, ids)
    for _, b, order_id, _ in booked:
        body = {"lines": lines((b, 3)), "reason": "one more"}
        response = await post_change(shop, order_id, "changes", body)
        assert response.status_code == 202, response.text
    # Killed once it handled a first message of the changes: unacked deliveries come back.
    await eventually(lambda: handled_for_orders(e2e_stack, victim, ids) > before,
                     what=f"{victim} at work on the changes", interval=0.02)  # fmt: skip
    e2e_stack.kill(victim)
    await asyncio.sleep(1.0)  # a fault's length, not a wait for anything: the rest carries on
    e2e_stack.restart(victim)

    for customer, b, order_id, first in booked:
        done = await shop.wait_until(
            order_id, lambda o: o["changes"][-1]["status"] in ("applied", "refused"), within=60
        )
        assert done["changes"][-1]["status"] == "applied" and done["total"] == 30_000, done["changes"]
        [again] = await shop.shipments(order_id)
        assert again["status"] == "booked" and again["tracking_number"] != first["tracking_number"]
        assert (await packing_list(shop, again["shipment_id"]))["lines"] == [{"sku": b, "quantity": 3}]
        assert ((await shop.stock(b))["reserved"], (await shop.credit(customer))["exposure"]) == (3, 30_000)
