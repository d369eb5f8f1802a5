"""What intake asks other services at the door (ARCHITECTURE.md): the catalogue and the customer.

Any failure to get an answer is DependencyUnavailable (HTTP 503, retry later), never a 5xx
that blames the client and never a guess.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

import httpx

from shared.errors import DependencyUnavailable

log = logging.getLogger(__name__)
_CHUNK = 50  # SKUs per catalogue request, to keep URLs short


class HttpCatalogue:
    """``GET {inventory_url}/products?sku=A&sku=B``: the products named, unknown ones absent."""

    def __init__(self, http: httpx.AsyncClient, inventory_url: str) -> None:
        self.http, self.url = http, inventory_url.rstrip("/")

    async def products(self, skus: list[str]) -> dict[str, dict[str, Any]]:
        """sku -> {name, unit_price, sourcing, lead_time_days, tracking} for the SKUs that exist."""
        wanted = list(dict.fromkeys(skus))
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
    """A catalogue entry with the fields validation relies on checked (money is int fen)."""
    if not isinstance(raw["name"], str) or type(raw["unit_price"]) is not int:
        raise ValueError(f"bad catalogue entry {raw.get('sku')}")
    return raw


class HttpCustomers:
    """``GET {billing_url}/customers/{id}``: the customer, or None when billing does not know it."""

    def __init__(self, http: httpx.AsyncClient, billing_url: str) -> None:
        self.http, self.url = http, billing_url.rstrip("/")

    async def get(self, customer_id: str) -> dict[str, Any] | None:
        url = f"{self.url}/customers/{quote(customer_id, safe='')}"
        body = await _get_json(self.http, url, "billing (customers)", None, missing_ok=True)
        if body is not None and not isinstance(body, dict):
            raise DependencyUnavailable("billing (customers) sent a customer that cannot be read")
        return body


async def _get_json(
    http: httpx.AsyncClient, url: str, what: str, params: Any, missing_ok: bool = False
) -> Any:
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
