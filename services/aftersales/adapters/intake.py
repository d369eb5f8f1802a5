"""The order being returned, read from intake over HTTP (the only synchronous call, at the door)."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any, Protocol
from urllib.parse import quote

import httpx

from services.aftersales.domain import OrderLine, OrderSnapshot
from shared.errors import DependencyUnavailable
from shared.tax import gross_of

log = logging.getLogger(__name__)


class OrderLookup(Protocol):
    """Port: the order as intake knows it now, or None when intake has no such order."""

    async def get(self, order_id: str) -> OrderSnapshot | None: ...


# What intake answers for an id that names no order it has: not found, or an id it refuses
# outright (too long, a character a path may not hold). Either way the caller asked for an order
# that does not exist: a client error (422 unknown_order), never a retryable 503 (issue 7).
NO_SUCH_ORDER = frozenset({400, 404, 414, 422})
# Answers that may well be different later: intake failing, overloaded, or refusing this
# service's own key (a rotation or revocation; an operator's matter, not the client's).
TRY_LATER = frozenset({401, 403, 408, 425, 429})


class HttpOrderLookup:
    """``GET {intake_url}/orders/{order_id}``; no such order (or an id intake refuses) -> None;
    intake down, failing or refusing our key -> DependencyUnavailable (503)."""

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
        status = response.status_code
        if status in NO_SUCH_ORDER:
            return None
        if status >= 500 or status in TRY_LATER:
            log.warning("intake answered %d", status, extra={"order_id": order_id})
            raise DependencyUnavailable(f"intake (orders) answered {status}")
        if status != 200:  # our call is wrong (a 405, a 409 ...): a bug to fix, not to retry
            log.error("intake answered %d", status, extra={"order_id": order_id})
            raise RuntimeError(f"intake (orders) answered {status} to GET /orders/{{id}}")
        try:
            return order_from_json(response.json())
        except (KeyError, TypeError, ValueError) as exc:
            log.error("intake sent an order we cannot read", extra={"order_id": order_id, "error": repr(exc)})
            raise DependencyUnavailable("intake (orders) sent an order that cannot be read") from exc


def order_from_json(body: dict[str, Any]) -> OrderSnapshot:
    """Map intake's public order (API.md) to what the return policy needs."""
    lines = tuple(_line(raw) for raw in body["lines"])
    if body.get("prices_include_tax") is False:
        # Net prices (R1.2): a return refunds what the customer paid, VAT included; per unit,
        # rounded like shared.tax, and the ledger never refunds more than the order's (gross) total.
        rate = int(body.get("tax_rate_bp") or 0)
        lines = tuple(replace(ln, unit_price=gross_of(ln.unit_price, rate, False)) for ln in lines)
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
    # A bundle line names its components per unit (R1.9); an intake from before bundles does not.
    components = tuple((str(c["sku"]), int(c["quantity"])) for c in raw.get("components") or ())
    return OrderLine(
        sku=str(raw["sku"]),
        quantity=quantity,
        shipped=quantity if shipped is None else int(shipped),
        unit_price=unit_price,
        components=components,
    )
