"""Who may do what (issue 7): permissions, the roles that bundle them, and their audiences.

A permission names one capability at the door (``orders:place``); every route declares the
one it needs (shared.access.door.requires) and a test enumerates them from the route table.
Roles are data: adding one is an entry in ROLES, never a code path.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Permission(StrEnum):
    ORDERS_PLACE = "orders:place"
    ORDERS_READ = "orders:read"
    ORDERS_CANCEL = "orders:cancel"
    # Amend an accepted order or cancel a line or its short part (issue 8, R7.2, R4.2).
    ORDERS_CHANGE = "orders:change"
    # Decide orders waiting for a person (R2.2, R3.1): approve or reject.
    ORDERS_DECIDE = "orders:decide"
    # The two approval tiers of R2.2 ("the largest need the general manager"), for the review rules.
    APPROVE_MANAGER = "orders:approve:manager"
    APPROVE_GENERAL_MANAGER = "orders:approve:general_manager"
    RETURNS_CREATE = "returns:create"
    RETURNS_READ = "returns:read"
    RETURNS_INSPECT = "returns:inspect"
    CATALOG_READ = "catalog:read"
    CATALOG_WRITE = "catalog:write"
    STOCK_READ = "stock:read"
    STOCK_WRITE = "stock:write"
    CUSTOMERS_READ = "customers:read"
    CUSTOMERS_WRITE = "customers:write"
    PAYMENTS_RECORD = "payments:record"
    # Finance (R3.2, R3.3, R7.1): what waits for money, letters of credit checked, refunds paid out.
    PAYMENTS_READ = "payments:read"
    PAYMENTS_CHECK = "payments:check"
    REFUNDS_PAY = "refunds:pay"
    INVOICES_READ = "invoices:read"
    SUPPLY_READ = "supply:read"
    SUPPLY_COMPLETE = "supply:complete"
    SHIPMENTS_READ = "shipments:read"
    SHIPMENTS_REPORT = "shipments:report"
    # The packing list carries the consignee's phone: internal roles only (R1.2).
    PACKING_READ = "packing:read"
    KEYS_MANAGE = "keys:manage"
    OPS_READ = "ops:read"


P = Permission
READS = frozenset(p for p in Permission if p.value.endswith(":read"))


@dataclass(frozen=True)
class Role:
    """A bundle of permissions. ``scoped`` roles act only for the customers their key names
    (another customer's object is a 404); ``internal`` roles see internal fields (phone,
    credit figures, flags, margins), the others get the customer-facing models."""

    name: str
    permissions: frozenset[Permission]
    scoped: bool = False
    internal: bool = True
    # A storefront key is bound to one channel: its orders are placed on that channel only.
    needs_channel: bool = False
    description: str = ""


def _role(name: str, *perms: Permission | frozenset[Permission], **kw: object) -> Role:
    flat: set[Permission] = set()
    for p in perms:
        flat |= p if isinstance(p, frozenset) else {p}
    return Role(name, frozenset(flat), **kw)  # type: ignore[arg-type]


_OPS = frozenset(READS | {P.ORDERS_DECIDE, P.ORDERS_CANCEL, P.ORDERS_CHANGE, P.RETURNS_INSPECT})

ROLES: dict[str, Role] = {
    r.name: r
    for r in (
        _role(
            "storefront",
            P.ORDERS_PLACE,
            P.ORDERS_READ,
            P.ORDERS_CANCEL,
            P.ORDERS_CHANGE,
            P.RETURNS_CREATE,
            P.RETURNS_READ,
            P.CATALOG_READ,
            scoped=True,
            internal=False,
            needs_channel=True,
            description="a shop: places, reads, cancels and returns its customers' orders",
        ),
        _role(
            "erp",
            P.CUSTOMERS_READ,
            P.CUSTOMERS_WRITE,
            P.CATALOG_READ,
            P.CATALOG_WRITE,
            P.STOCK_READ,
            P.ORDERS_PLACE,
            P.ORDERS_READ,
            P.ORDERS_CANCEL,
            P.ORDERS_CHANGE,
            P.PAYMENTS_RECORD,
            P.PAYMENTS_READ,
            P.INVOICES_READ,
            P.RETURNS_CREATE,
            P.RETURNS_READ,
            scoped=True,
            internal=False,
            description="a company's ERP: master data, orders, payments, invoices",
        ),
        _role(
            "warehouse",
            P.STOCK_READ,
            P.STOCK_WRITE,
            P.CATALOG_READ,
            P.SUPPLY_READ,
            P.SUPPLY_COMPLETE,
            P.SHIPMENTS_READ,
            P.PACKING_READ,
            P.RETURNS_READ,
            P.RETURNS_INSPECT,
            description="stock counts, supply arrivals, packing, inspections",
        ),
        _role(
            "carrier",
            P.SHIPMENTS_READ,
            P.SHIPMENTS_REPORT,
            internal=False,
            description="a carrier: reads shipments and reports their events",
        ),
        _role(
            "finance",
            READS,
            P.PAYMENTS_RECORD,
            P.PAYMENTS_CHECK,
            P.REFUNDS_PAY,
            description="finance: payments received, letters of credit, refunds paid out, every read",
        ),
        _role("ops", _OPS, description="operations: review, approve, reject, cancel, every read"),
        _role("manager", _OPS, P.APPROVE_MANAGER, description="ops plus the manager approval tier"),
        _role(
            "general_manager",
            _OPS,
            P.APPROVE_MANAGER,
            P.APPROVE_GENERAL_MANAGER,
            description="ops plus both approval tiers (R2.2's largest orders)",
        ),
        _role(
            "service",
            P.ORDERS_READ,
            P.CATALOG_READ,
            P.STOCK_READ,
            P.CUSTOMERS_READ,
            description="another service of the platform calling over HTTP",
        ),
        _role("admin", frozenset(Permission), description="keys and settings, and everything else"),
    )
}
ROLE_NAMES: tuple[str, ...] = tuple(ROLES)
