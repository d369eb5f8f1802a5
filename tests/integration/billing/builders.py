"""Builders for billing tests: random ids so tests share one process safely."""

from __future__ import annotations

import uuid

import httpx

from shared.contracts import IssueInvoice, PricedLine


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


async def a_customer(http: httpx.AsyncClient, *, limit: int = 100_000, terms: str = "credit") -> str:
    customer_id = uid("CUST")
    body = {"name": f"Shanghai Lamp Co., Ltd. {customer_id}", "payment_terms": terms, "credit_limit": limit}
    response = await http.put(f"/customers/{customer_id}", json=body)
    assert response.status_code == 201, response.text
    return customer_id


async def credit_of(http: httpx.AsyncClient, customer_id: str) -> dict:
    response = await http.get(f"/customers/{customer_id}")
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def an_invoice_for(order_id: str, customer_id: str, *, quantity: int = 2, price: int = 5_650) -> IssueInvoice:
    amount = quantity * price
    line = PricedLine(sku="LAMP-RED", quantity=quantity, unit_price=price, amount=amount)
    return IssueInvoice(order_id=order_id, customer_id=customer_id, lines=[line], total=amount)
