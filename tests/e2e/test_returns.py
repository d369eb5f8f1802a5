"""Returns after delivery: inspection, restock and a credit note, never an edit (R8.3, R6.2)."""

from __future__ import annotations

import asyncio

from tests.support.api import Shop


async def request_return(shop: Shop, order_id: str, lines: list[tuple[str, int]]) -> str:
    body = {"order_id": order_id, "lines": [{"sku": s, "quantity": q} for s, q in lines], "reason": "damaged"}
    created = await shop.ok(await shop.as_("storefront")["aftersales"].post("/returns", json=body))
    return created["return_id"]  # type: ignore[no-any-return]


async def inspect(shop: Shop, return_id: str, result: str) -> None:
    warehouse = shop.as_("warehouse")["aftersales"]
    response = await warehouse.post(f"/returns/{return_id}/inspection", json={"result": result})
    await shop.ok(response)


async def wait_return(shop: Shop, return_id: str, status: str) -> dict:
    for _ in range(150):
        found = await shop.ok(await shop.http["aftersales"].get(f"/returns/{return_id}"))
        if found["status"] == status:
            return found  # type: ignore[no-any-return]
        await asyncio.sleep(0.2)
    raise AssertionError(f"return {return_id} is {found['status']}, expected {status}")


async def test_returning_a_whole_order_restocks_it_and_issues_an_offsetting_credit_note(shop: Shop):
    customer = await shop.customer()
    sku = await shop.product(on_hand=5, price=10_000)
    order_id = (await shop.place(customer, [(sku, 2)]))["order_id"]
    await shop.deliver(order_id)

    return_id = await request_return(shop, order_id, [(sku, 2)])
    await inspect(shop, return_id, "pass")
    returned = await shop.wait_status(order_id, "returned")

    invoices = await shop.invoices(order_id)
    assert sorted(i["kind"] for i in invoices) == ["credit_note", "invoice"]
    assert sum(i["total"] for i in invoices) == 0 and sum(i["tax"] for i in invoices) == 0  # R6.2
    assert (await shop.stock(sku))["on_hand"] == 5
    assert (await shop.credit(customer))["exposure"] == 0
    assert returned["status"] == "returned"


async def test_returning_part_of_an_order_refunds_only_those_units(shop: Shop):
    customer = await shop.customer()
    sku = await shop.product(on_hand=5, price=10_000)
    order_id = (await shop.place(customer, [(sku, 3)]))["order_id"]
    await shop.deliver(order_id)

    return_id = await request_return(shop, order_id, [(sku, 1)])
    await inspect(shop, return_id, "pass")
    await shop.wait_status(order_id, "partially_returned")

    notes = [i for i in await shop.invoices(order_id) if i["kind"] == "credit_note"]
    assert [n["total"] for n in notes] == [-10_000]
    assert (await shop.stock(sku))["on_hand"] == 3


async def test_a_failed_inspection_restocks_and_refunds_nothing(shop: Shop):
    customer = await shop.customer()
    sku = await shop.product(on_hand=4)
    order_id = (await shop.place(customer, [(sku, 2)]))["order_id"]
    await shop.deliver(order_id)

    return_id = await request_return(shop, order_id, [(sku, 2)])
    await inspect(shop, return_id, "fail")
    rejected = await wait_return(shop, return_id, "rejected")

    assert rejected["status"] == "rejected"
    assert [i["kind"] for i in await shop.invoices(order_id)] == ["invoice"]
    assert (await shop.stock(sku))["on_hand"] == 2
    assert (await shop.order(order_id))["status"] == "completed"


async def test_more_than_was_shipped_cannot_be_returned(shop: Shop):
    customer = await shop.customer()
    sku = await shop.product(on_hand=4)
    order_id = (await shop.place(customer, [(sku, 1)]))["order_id"]
    await shop.deliver(order_id)

    body = {"order_id": order_id, "lines": [{"sku": sku, "quantity": 2}], "reason": "damaged"}
    response = await shop.as_("storefront")["aftersales"].post("/returns", json=body)

    assert response.status_code == 422
    assert response.json()["error"]["fields"]
