"""Random ids and small helpers so inventory tests can share one stack safely."""

from __future__ import annotations

import uuid

import httpx


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


async def a_product(http: httpx.AsyncClient, *, on_hand: int | None = None, sourcing: str = "buy",
                    lead: int = 5, warehouse: str | None = None) -> str:
    """A fresh SKU in the catalogue, counted at ``on_hand`` when given."""
    sku = uid("SKU")
    body = {"name": f"Lamp {sku}", "unit_price": 12_000, "sourcing": sourcing, "lead_time_days": lead}
    response = await http.put(f"/products/{sku}", json=body)
    assert response.status_code in (200, 201), response.text
    if on_hand is not None:
        count = {"on_hand": on_hand, **({"warehouse": warehouse} if warehouse else {})}
        response = await http.put(f"/stock/{sku}", json=count)
        assert response.status_code == 200, response.text
    return sku


async def stock_of(http: httpx.AsyncClient, sku: str) -> tuple[int, int, int]:
    """(on_hand, reserved, available) as GET /stock reports them."""
    body = (await http.get(f"/stock/{sku}")).json()
    return body["on_hand"], body["reserved"], body["available"]
