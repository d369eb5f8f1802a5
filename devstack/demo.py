"""Demo master data for local runs: a small lamp catalogue, stock and three customers.

Loaded by ``make run`` over the public HTTP contract (API.md), so it is exactly what an
ERP connector would send. Safe to load again: products and customers are PUTs, and
stock is only counted for SKUs with no stock yet (a restart must not wipe stock
movements and reservations of an earlier run); ``--reset-stock`` recounts it anyway.

    python -m devstack.demo [--reset-stock]
"""

from __future__ import annotations

import argparse
import logging
import os
from dataclasses import dataclass

import httpx

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DemoProduct:
    sku: str
    name: str
    unit_price: int  # fen
    sourcing: str  # "make": production order on shortage, "buy": purchase request (R4.2)
    lead_time_days: int
    on_hand: int
    tracking: str = "none"


@dataclass(frozen=True)
class DemoCustomer:
    customer_id: str
    name: str
    payment_terms: str
    credit_limit: int  # fen


PRODUCTS = (
    DemoProduct("LAMP-DESK-RED-L", "Desk lamp red / L", 12_000, "make", 7, 50),
    # Only 2 on hand: an order of 3+ raises a production order and waits (R4.2).
    DemoProduct("LAMP-FLOOR-OAK", "Floor lamp oak", 45_000, "make", 10, 2, "serial"),
    DemoProduct("SHADE-LINEN-L", "Linen lamp shade / L", 3_500, "buy", 3, 100, "batch"),
    DemoProduct("BULB-E27-9W", "LED bulb E27 9W", 800, "buy", 2, 500),
    # Never stocked: every order of it raises a purchase request (R4.2).
    DemoProduct("DIMMER-SMART", "Smart dimmer switch", 9_900, "buy", 5, 0),
)

CUSTOMERS = (
    # Monthly settlement with a 50,000.00 CNY limit (R3.1).
    DemoCustomer("CUST-CREDIT", "Shanghai Mingdeng Lighting Trading Co., Ltd.", "credit", 5_000_000),
    # A 500.00 CNY limit: a bigger order goes on hold for a manager (R3.1, R2.2).
    DemoCustomer("CUST-SMALL", "Hangzhou Xiaoguang Home Goods Co., Ltd.", "credit", 50_000),
    DemoCustomer("CUST-PREPAID", "Suzhou Qingshan Design Studio Co., Ltd.", "prepaid", 0),
)


def _check(response: httpx.Response) -> None:
    if response.status_code >= 300:
        raise RuntimeError(f"{response.request.method} {response.request.url} -> "
                           f"{response.status_code}: {response.text[:500]}")  # fmt: skip


def _never_counted(response: httpx.Response) -> bool:
    """No stock record yet (404), or an empty one with nothing reserved (the restart case)."""
    if response.status_code == 404:
        return True
    _check(response)
    stock = response.json()
    return bool(stock.get("on_hand", 0) == 0 and stock.get("reserved", 0) == 0)


def load(
    inventory_url: str, billing_url: str, *, reset_stock: bool = False, timeout: float = 10,
    api_key: str | None = None,
) -> None:
    """Put the demo catalogue, stock and customers; idempotent (see module docstring)."""
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else None  # the admin key (issue 7)
    with httpx.Client(base_url=inventory_url, timeout=timeout, headers=headers) as inventory:
        for p in PRODUCTS:
            body = {"name": p.name, "unit_price": p.unit_price, "sourcing": p.sourcing,
                    "lead_time_days": p.lead_time_days, "tracking": p.tracking}  # fmt: skip
            _check(inventory.put(f"/products/{p.sku}", json=body))
            if reset_stock or _never_counted(inventory.get(f"/stock/{p.sku}")):
                _check(inventory.put(f"/stock/{p.sku}", json={"on_hand": p.on_hand}))
    with httpx.Client(base_url=billing_url, timeout=timeout, headers=headers) as billing:
        for c in CUSTOMERS:
            body = {"name": c.name, "payment_terms": c.payment_terms, "credit_limit": c.credit_limit}
            _check(billing.put(f"/customers/{c.customer_id}", json=body))
    log.info("demo data loaded", extra={"products": len(PRODUCTS), "customers": len(CUSTOMERS)})


def main() -> None:
    """Load the demo data into already running services (INVENTORY_URL, BILLING_URL)."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--reset-stock", action="store_true", help="recount stock of every demo SKU")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    load(
        os.environ.get("INVENTORY_URL", "http://127.0.0.1:8002"),
        os.environ.get("BILLING_URL", "http://127.0.0.1:8005"),
        reset_stock=args.reset_stock,
        api_key=os.environ.get("API_KEY") or os.environ.get("ADMIN_KEY"),
    )


if __name__ == "__main__":
    main()
