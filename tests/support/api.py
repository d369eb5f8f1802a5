"""Builders and a thin client over the public HTTP contract (API.md) for end-to-end tests.

Ids are random so tests can share one stack without seeing each other's data.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import httpx

from tests.support.stack import Stack


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


class Shop:
    """What a storefront, a warehouse clerk or a finance clerk would do over HTTP, each with
    the key of their role (issue 7): the shop places and cancels, the ERP keeps master data,
    operations reads and the manager approves, the warehouse and the carrier report."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self._clients: dict[tuple[str, str], httpx.AsyncClient] = {}
        # Reads in assertions see everything an operator sees (flags, reasons, credit figures).
        self.http = _Clients(self, "ops")

    def as_(self, role: str) -> _Clients:
        return _Clients(self, role)

    def client(self, service: str, role: str) -> httpx.AsyncClient:
        if (service, role) not in self._clients:
            self._clients[service, role] = self.stack.client(service, as_=role)
        return self._clients[service, role]

    async def __aenter__(self) -> Shop:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def close(self) -> None:
        for client in self._clients.values():
            await client.aclose()

    async def ok(self, response: httpx.Response) -> Any:
        assert response.status_code < 300, (
            f"{response.request.method} {response.request.url}: {response.text}"
        )
        return response.json()

    # --- master data -----------------------------------------------------------------
    async def product(
        self, *, on_hand: int, price: int = 12_000, sourcing: str = "buy", lead: int = 5
    ) -> str:
        sku = uid("SKU")
        body = {"name": f"Lamp {sku}", "unit_price": price, "sourcing": sourcing, "lead_time_days": lead}
        await self.ok(await self.as_("erp")["inventory"].put(f"/products/{sku}", json=body))
        stock = {"on_hand": on_hand}
        await self.ok(await self.as_("warehouse")["inventory"].put(f"/stock/{sku}", json=stock))
        return sku

    async def bundle(self, components: list[tuple[str, int]], *, price: int, custom: bool = False) -> str:
        """A bundle (R1.9) of existing products, each ``(sku, units per bundle)``, sold at ``price``;
        it has no stock of its own (its components have)."""
        sku = uid("SET")
        parts = [{"sku": s, "quantity": q} for s, q in components]
        body = {"name": f"Set {sku}", "unit_price": price, "sourcing": "buy", "lead_time_days": 1,
                "custom": custom, "components": parts}  # fmt: skip
        await self.ok(await self.as_("erp")["inventory"].put(f"/products/{sku}", json=body))
        return sku

    async def customer(
        self, *, credit_limit: int = 10_000_000, terms: str = "credit", prefix: str = "CUST", as_: str = "erp"
    ) -> str:
        """A customer made by an ERP key (CUST-* customers; ``prefix="OTHER", as_="erp_other"``
        makes one of another company, which the CUST-* keys must not see)."""
        customer_id = uid(prefix)
        body = {"name": f"Shanghai Lamp Trading Co., Ltd. {customer_id}", "payment_terms": terms,
                "credit_limit": credit_limit}  # fmt: skip
        await self.ok(await self.as_(as_)["billing"].put(f"/customers/{customer_id}", json=body))
        return customer_id

    # --- orders ----------------------------------------------------------------------
    def order_body(self, customer_id: str, lines: list[tuple[str, int]], **extra: Any) -> dict[str, Any]:
        return {
            "customer_id": customer_id,
            "channel": "storefront",
            # A room per order, so orders of one customer are not duplicates of each other (R1.6):
            # a flagged order waits for a reviewer (R2.1). A test of duplicates passes its own.
            "delivery_address": f"Shanghai, Pudong, 88 Century Ave, Rm {uuid.uuid4().hex[:6]}",
            "required_by": (date.today() + timedelta(days=14)).isoformat(),  # R1.4
            "contact": {"name": "Li Lei", "phone": "13800138000"},
            "lines": [{"sku": sku, "quantity": qty} for sku, qty in lines],
            **extra,
        }

    async def place(
        self, customer_id: str, lines: list[tuple[str, int]], as_: str | None = None, **extra: Any
    ) -> dict[str, Any]:
        body = self.order_body(customer_id, lines, **extra)
        placer = as_ or ("storefront" if body["channel"] == "storefront" else "erp")
        response = await self.as_(placer)["intake"].post("/orders", json=body)
        assert response.status_code == 201, response.text
        return response.json()  # type: ignore[no-any-return]

    async def order(self, order_id: str) -> dict[str, Any]:
        return await self.ok(await self.http["intake"].get(f"/orders/{order_id}"))  # type: ignore[no-any-return]

    async def wait_status(self, order_id: str, *statuses: str, within: float = 30) -> dict[str, Any]:
        """Poll the order until it reaches one of ``statuses`` (what a storefront would do)."""
        deadline = asyncio.get_running_loop().time() + within
        order: dict[str, Any] = {}
        while asyncio.get_running_loop().time() < deadline:
            order = await self.order(order_id)
            if order["status"] in statuses:
                return order
            await asyncio.sleep(0.2)
        history = [(h.get("status") or h.get("event"), h.get("reason")) for h in order.get("history", [])]
        raise AssertionError(f"{order_id} is {order.get('status')}, expected {statuses}; history {history}")

    async def poll(self, get: Callable[[], Any], within: float = 30) -> list[Any]:
        """Call ``get()`` (a GET answering a list) until the list is not empty; the list."""
        deadline = asyncio.get_running_loop().time() + within
        while True:
            response = await get()
            assert response.status_code == 200, response.text
            if response.json() or asyncio.get_running_loop().time() > deadline:
                return response.json()  # type: ignore[no-any-return]
            await asyncio.sleep(0.2)

    async def wait_until(
        self, order_id: str, holds: Callable[[dict[str, Any]], bool], within: float = 30
    ) -> dict[str, Any]:
        """Poll the order until ``holds(order)`` (a payment counted, a gate moved on)."""
        deadline = asyncio.get_running_loop().time() + within
        order: dict[str, Any] = {}
        while asyncio.get_running_loop().time() < deadline:
            order = await self.order(order_id)
            if holds(order):
                return order
            await asyncio.sleep(0.2)
        raise AssertionError(f"{order_id} never got there: {order.get('status')}, {order.get('payments')}")

    async def cancel(self, order_id: str, reason: str = "customer changed their mind") -> httpx.Response:
        shop = self.as_("storefront")["intake"]
        return await shop.post(f"/orders/{order_id}/cancel", json={"reason": reason})

    async def approve(self, order_id: str) -> None:
        """The manager (key name manager.wang) approves: the history's ``by`` comes from the key."""
        body = {"reason": "long-standing customer"}
        await self.ok(await self.as_("manager")["intake"].post(f"/orders/{order_id}/approve", json=body))

    # --- the rest of the company -------------------------------------------------------
    async def stock(self, sku: str) -> dict[str, Any]:
        return await self.ok(await self.http["inventory"].get(f"/stock/{sku}"))  # type: ignore[no-any-return]

    async def credit(self, customer_id: str) -> dict[str, Any]:
        return await self.ok(await self.http["billing"].get(f"/customers/{customer_id}"))  # type: ignore[no-any-return]

    async def invoices(self, order_id: str) -> list[dict[str, Any]]:
        return await self.ok(await self.http["billing"].get("/invoices", params={"order_id": order_id}))  # type: ignore[no-any-return]

    async def supply_orders(self, order_id: str) -> list[dict[str, Any]]:
        response = await self.http["fulfillment"].get("/supply-orders", params={"order_id": order_id})
        return await self.ok(response)  # type: ignore[no-any-return]

    async def wait_supply_orders(self, order_id: str) -> list[dict[str, Any]]:
        for _ in range(150):
            if supply := await self.supply_orders(order_id):
                return supply
            await asyncio.sleep(0.2)
        raise AssertionError(f"no supply order was raised for {order_id}")

    async def complete_supply(self, supply_order_id: str) -> None:
        warehouse = self.as_("warehouse")["fulfillment"]
        await self.ok(await warehouse.post(f"/supply-orders/{supply_order_id}/complete"))

    async def shipments(self, order_id: str) -> list[dict[str, Any]]:
        return await self.ok(await self.http["logistics"].get("/shipments", params={"order_id": order_id}))  # type: ignore[no-any-return]

    async def wait_shipments(self, order_id: str) -> list[dict[str, Any]]:
        for _ in range(150):
            if shipments := await self.shipments(order_id):
                return shipments
            await asyncio.sleep(0.2)
        raise AssertionError(f"no shipment was booked for {order_id}")

    async def carrier(self, order_id: str, *events: str) -> None:
        """The carrier reports events (picked_up, delivered ...) for the order's shipment."""
        shipment = (await self.wait_shipments(order_id))[0]  # the booking may still be on its way
        for event in events:
            response = await self.as_("carrier")["logistics"].post(
                f"/shipments/{shipment['shipment_id']}/events", json={"type": event}
            )
            await self.ok(response)

    async def deliver(self, order_id: str) -> dict[str, Any]:
        """Ship and deliver a ready order, then wait until it is completed (delivered and invoiced)."""
        await self.wait_status(order_id, "ready_to_ship")
        await self.carrier(order_id, "picked_up")
        await self.wait_status(order_id, "shipped", "delivered", "completed")
        await self.carrier(order_id, "delivered")
        return await self.wait_status(order_id, "completed")


class _Clients:
    """``shop.as_("erp")["billing"]``: the HTTP client of a service with a role's key."""

    def __init__(self, shop: Shop, role: str) -> None:
        self.shop, self.role = shop, role

    def __getitem__(self, service: str) -> httpx.AsyncClient:
        return self.shop.client(service, self.role)
