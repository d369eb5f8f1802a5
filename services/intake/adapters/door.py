"""What intake asks other services at the door (ARCHITECTURE.md): the catalogue and the customer.

Any failure to get an answer is DependencyUnavailable (HTTP 503, retry later), never a 5xx
that blames the client and never a guess. The one exception is a recent answer: while inventory
or billing is briefly down, a SKU or customer seen less than ``door_fallback_s`` ago is checked
against what they said then, so a short outage does not stop the storefronts (nothing is
assumed about a SKU or customer never seen).

In the service the adapters call through ``shared.http_client.ResilientHttp`` (ctx.resilient_http):
a request whose caller is cancelled still finishes in the pool, and a pool that stopped handing out
connections is replaced; any ``httpx.AsyncClient`` works too (tests).
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import httpx

from shared.errors import DependencyUnavailable
from shared.http_client import HttpGet

log = logging.getLogger(__name__)
_CHUNK = 50  # SKUs per catalogue request, to keep URLs short


class LastKnown:
    """The latest answer per key, forgotten after ``max_age_s`` and beyond ``max_entries`` (LRU)."""

    def __init__(
        self, max_age_s: float, max_entries: int = 10_000, clock: Callable[[], float] = time.monotonic
    ):
        self.max_age_s, self.max_entries, self.clock = max_age_s, max_entries, clock
        self._entries: OrderedDict[str, tuple[float, Any]] = OrderedDict()

    def remember(self, key: str, value: Any) -> None:
        self._entries[key] = (self.clock(), value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def recall(self, keys: list[str]) -> dict[str, Any] | None:
        """Every key's answer if all are fresh enough, else None (never a partial guess)."""
        now, found = self.clock(), {}
        for key in keys:
            entry = self._entries.get(key)
            if entry is None or now - entry[0] > self.max_age_s:
                return None
            found[key] = entry[1]
        return found


class HttpCatalogue:
    """``GET {inventory_url}/products?sku=A&sku=B``: the products named, unknown ones absent."""

    def __init__(self, http: HttpGet, inventory_url: str, memory: LastKnown | None = None) -> None:
        self.http, self.url = http, inventory_url.rstrip("/")
        self.memory = memory or LastKnown(0)

    async def products(self, skus: list[str]) -> dict[str, dict[str, Any]]:
        """sku -> {name, unit_price, sourcing, lead_time_days, tracking, custom, components} for the
        SKUs that exist."""
        wanted = list(dict.fromkeys(skus))
        try:
            found = await self._fetch(wanted)
        except DependencyUnavailable:
            recalled = self.memory.recall(wanted)
            if recalled is None:
                raise
            log.warning("catalogue unreachable, using its last answer", extra={"skus": wanted})
            return recalled
        for sku, product in found.items():
            self.memory.remember(sku, product)
        return found

    async def available(self, skus: list[str]) -> dict[str, int]:
        """``GET {inventory_url}/stock/{sku}``: units free now per SKU, for a change's preview (an
        estimate: inventory decides when the change is applied); SKUs it cannot tell are left out."""
        found: dict[str, int] = {}
        for sku in dict.fromkeys(skus):
            try:
                url = f"{self.url}/stock/{quote(sku, safe='')}"
                body = await _get_json(self.http, url, "inventory (stock)", None, missing_ok=True)
            except DependencyUnavailable:
                continue
            if isinstance(body, dict) and isinstance(body.get("available"), int):
                found[sku] = body["available"]
        return found

    async def _fetch(self, wanted: list[str]) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(wanted), _CHUNK):
            params = [("sku", sku) for sku in wanted[start : start + _CHUNK]]
            body = await _get_json(self.http, f"{self.url}/products", "inventory (catalogue)", params)
            try:
                found.update({p["sku"]: _product(p) for p in body if p["sku"] in wanted})
            except (KeyError, TypeError, ValueError) as exc:
                raise DependencyUnavailable("inventory (catalogue) sent unreadable products") from exc
        return found


def _product(raw: dict[str, Any]) -> dict[str, Any]:
    """A catalogue entry with the fields validation relies on checked (money is int fen), with
    ``custom`` (R2.2) and a bundle's ``components`` (R1.9) carried: false and none when absent
    (an inventory from before them)."""
    if not isinstance(raw["name"], str) or type(raw["unit_price"]) is not int:
        raise ValueError(f"bad catalogue entry {raw.get('sku')}")
    custom = raw.get("custom", False)
    components = raw.get("components") or []
    if not isinstance(custom, bool) or not isinstance(components, list):
        raise ValueError(f"bad catalogue entry {raw.get('sku')}")
    for part in components:
        if not isinstance(part["sku"], str) or type(part["quantity"]) is not int or part["quantity"] <= 0:
            raise ValueError(f"bad component of catalogue entry {raw.get('sku')}")
    return {**raw, "custom": custom, "components": components}


class HttpCustomers:
    """``GET {billing_url}/customers/{id}``: the customer, or None when billing does not know it."""

    def __init__(self, http: HttpGet, billing_url: str, memory: LastKnown | None = None) -> None:
        self.http, self.url = http, billing_url.rstrip("/")
        self.memory = memory or LastKnown(0)

    async def get(self, customer_id: str) -> dict[str, Any] | None:
        url = f"{self.url}/customers/{quote(customer_id, safe='')}"
        try:
            body = await _get_json(self.http, url, "billing (customers)", None, missing_ok=True)
        except DependencyUnavailable:
            recalled = self.memory.recall([customer_id])
            if recalled is None:
                raise
            log.warning("billing unreachable, using its last answer", extra={"customer_id": customer_id})
            return recalled[customer_id]  # type: ignore[no-any-return]
        if body is not None and not isinstance(body, dict):
            raise DependencyUnavailable("billing (customers) sent a customer that cannot be read")
        if body is not None:
            self.memory.remember(customer_id, body)
        return body


async def _get_json(http: HttpGet, url: str, what: str, params: Any, missing_ok: bool = False) -> Any:
    try:
        response = await http.get(url, params=params)
    except httpx.HTTPError as exc:
        log.warning("dependency not reachable", extra={"dependency": what, "error": repr(exc)})
        raise DependencyUnavailable(f"{what} is not reachable; try again shortly") from exc
    if response.status_code == 404 and missing_ok:
        return None
    if response.status_code != 200:
        log.warning("dependency answered %d", response.status_code, extra={"dependency": what})
        raise DependencyUnavailable(f"{what} answered {response.status_code}; try again shortly")
    try:
        return response.json()
    except ValueError as exc:
        raise DependencyUnavailable(f"{what} sent a body that is not JSON") from exc
