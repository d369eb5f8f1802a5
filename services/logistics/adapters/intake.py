"""The consignee's phone, read from intake when a packing list is printed (issue 7, R5.2).

The phone stays with its owner: no message carries it and no shipment stores it. Logistics asks
``GET {intake_url}/orders/{order_id}`` with its own service key (``ctx.resilient_http`` sends it)
and reads ``contact.phone`` of the internal view. Nothing of the answer is logged or kept.
"""

from __future__ import annotations

import logging
from urllib.parse import quote

import httpx

from services.logistics.domain import ConsigneeUnknown
from shared.errors import DependencyUnavailable
from shared.http_client import HttpGet

log = logging.getLogger(__name__)

# Intake knows no such order (or refuses the id outright): the list cannot be printed, say so.
NO_SUCH_ORDER = frozenset({400, 404, 414, 422})


class HttpConsigneePhones:
    """``ConsigneePhones`` (services/logistics/ports.py) over intake's HTTP API."""

    def __init__(self, http: HttpGet, intake_url: str) -> None:
        self.http = http
        self.intake_url = intake_url.rstrip("/")

    async def phone(self, order_id: str) -> str:
        """The order's contact phone; ConsigneeUnknown (404) when intake has no such order,
        DependencyUnavailable (503) when intake is down, failing, over its rate, refusing this
        service's key or answering without the phone."""
        url = f"{self.intake_url}/orders/{quote(order_id, safe='')}"
        try:
            response = await self.http.get(url)
        except httpx.HTTPError as exc:
            log.warning("intake not reachable", extra={"order_id": order_id, "error": repr(exc)})
            raise DependencyUnavailable("intake (orders) is not reachable; try again shortly") from exc
        status = response.status_code
        if status in NO_SUCH_ORDER:
            raise ConsigneeUnknown(
                f"intake has no order {order_id}: the packing list cannot name the consignee's phone",
                {"order_id": "unknown to intake"},
            )
        if status != 200:  # failing, overloaded, or refusing our key: an operator's matter
            log.warning("intake answered %d", status, extra={"order_id": order_id})
            raise DependencyUnavailable(f"intake (orders) answered {status}; try again shortly")
        try:
            phone = response.json()["contact"]["phone"]
        except (KeyError, TypeError, ValueError):
            phone = None
        if not isinstance(phone, str):
            # e.g. a customer-facing view: this service's key is not an internal one.
            log.error("intake answered without the contact phone", extra={"order_id": order_id})
            raise DependencyUnavailable("intake (orders) answered without the consignee's phone")
        return phone
