"""The order being returned, read from intake over HTTP (the only synchronous call, at the door)."""

from __future__ import annotations

import logging
from typing import Any, Protocol
from urllib.parse import quote

import httpx

from services.aftersales.domain import OrderLine, OrderSnapshot
from shared.errors import DependencyUnavailable

log = logging.getLogger(__name__)


class OrderLookup(Protocol):
    """Port: the order as intake knows it now, or None when intake has no such order."""

    async def get(self, order_id: str) -> OrderSnapshot | None: ...


class HttpOrderLookup:
    """``GET {intake_url}/orders/{order_id}``; intake down or confused -> DependencyUnavailable (503)."""

    def __init__(self, http: httpx.AsyncClient, intake_url: str) -> None:
        self.http = http
        self.intake_url = intake_url.rstrip("/")

    async def get(self, order_id: str) -> OrderSnapshot | None:
        url = f"{self.intake_url}/orders/{quote(order_id, safe='')}"
        try:
            response = await self.http.get(url)
        except httpx.HTTPError as exc:
            log.warning("intake not reachable", extra={"order_id": order_id, "error": repr(exc)})
            raise DependencyUnavailable("intake (orders) is not reachable; try again shortly") from exc
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            log.warning("intake answered %d", response.status_code, extra={"order_id": order_id})
            raise DependencyUnavailable(f"intake (orders) answered {response.status_code}")
        try:
            return order_from_json(response.json())
        except (KeyError, TypeError, ValueError) as exc:
            log.error("intake sent an order we cannot read", extra={"order_id": order_id, "error": repr(exc)})
            raise DependencyUnavailable("intake (orders) sent an order that cannot be read") from exc


def order_from_json(body: dict[str, Any]) -> OrderSnapshot:
    """Map intake's public order (API.md) to what the return policy needs."""
    lines = tuple(_line(raw) for raw in body["lines"])
    if "total" in body:
        total = int(body["total"])
    else:  # R1.5: total = lines - discount + freight
        subtotal = sum(line.quantity * line.unit_price for line in lines)
        total = subtotal - int(body.get("discount") or 0) + int(body.get("freight") or 0)
    return OrderSnapshot(
        order_id=str(body["order_id"]),
        customer_id=str(body["customer_id"]),
        status=str(body["status"]),
        lines=lines,
        total=total,
    )


def _line(raw: dict[str, Any]) -> OrderLine:
    quantity = int(raw["quantity"])
    if raw.get("unit_price") is not None:
        unit_price = int(raw["unit_price"])
    else:
        unit_price = int(raw["amount"]) // quantity
    # An order shipped in part may say how much of the line left; otherwise the whole line did.
    shipped = raw.get("shipped_quantity")
    return OrderLine(
        sku=str(raw["sku"]),
        quantity=quantity,
        shipped=quantity if shipped is None else int(shipped),
        unit_price=unit_price,
    )
