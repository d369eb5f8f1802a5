"""Access (issue 7): every route of every service x every role x own / foreign object.

The route table is read from the apps themselves (``bootstrap()`` of each service, which
connects to nothing), so a route added without a permission, or without a row here, fails.
Against the running stack: no key is 401, a role without the route's permission is 403, and a
storefront or ERP key asking for another customer's object gets the same 404 as for an object
that does not exist.
"""

from __future__ import annotations

import asyncio
import importlib
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from shared.access.door import api_routes, declared_permission
from shared.access.roles import ROLES, Permission
from shared.registry import SERVICES
from tests.support.api import Shop, uid
from tests.support.stack import TEST_KEYS, Stack


def route_table() -> dict[tuple[str, str, str], Permission | None]:
    """(service, method, path) -> the permission the route declares (None: declared open)."""
    table: dict[tuple[str, str, str], Permission | None] = {}
    for service in SERVICES:
        app = importlib.import_module(f"services.{service}.main").bootstrap()
        for path, methods, dependant in api_routes(app):  # not /openapi.json, /docs: no data
            declared, permission = declared_permission(dependant)
            assert declared, f"{service} {methods} {path} declares no permission"
            for method in methods:
                table[service, method, path] = permission
    return table


def test_every_route_of_every_service_declares_its_permission():
    table = route_table()

    open_routes = sorted({path for (_, _, path), perm in table.items() if perm is None})
    assert open_routes == ["/health", "/ready"]  # liveness and readiness only
    assert set(table) == set(ROWS) | {(s, "GET", p) for s in SERVICES for p in ("/health", "/ready")}


def test_the_roles_grant_what_the_issue_names():
    """The table itself, in the words of issue 7 (a wrong edit of ROLES fails here)."""
    may = {name: role.permissions for name, role in ROLES.items()}
    assert Permission.ORDERS_DECIDE not in may["storefront"] | may["erp"] | may["warehouse"]
    assert Permission.PACKING_READ not in may["storefront"] | may["erp"] | may["carrier"]
    assert Permission.CUSTOMERS_READ not in may["storefront"] | may["carrier"] | may["warehouse"]
    assert may["carrier"] == {Permission.SHIPMENTS_READ, Permission.SHIPMENTS_REPORT}
    assert Permission.KEYS_MANAGE in may["admin"] and all(
        Permission.KEYS_MANAGE not in perms for name, perms in may.items() if name != "admin"
    )
    assert Permission.APPROVE_GENERAL_MANAGER in may["general_manager"] - may["manager"]
    assert ROLES["storefront"].scoped and ROLES["erp"].scoped and not ROLES["storefront"].internal


@dataclass
class World:
    """Objects of the CUST-* keys' customer (own) and of an OTHER-* customer (foreign)."""

    own: dict[str, str]
    foreign: dict[str, str]


# (service, method, path) -> how to fill it: path parameter names map to World keys, ``body``
# builds a valid body from the ids, ``scoped`` says a storefront/ERP key gets 404 for foreign ids.
@dataclass(frozen=True)
class Row:
    params: tuple[str, ...] = ()
    body: Any = None
    query: Any = None
    scoped: bool = False


def order_body(ids: dict[str, str]) -> dict[str, Any]:
    return {"customer_id": ids["customer_id"], "channel": "storefront",
            "delivery_address": "Shanghai, Pudong, 88 Century Ave",
            "required_by": (date.today() + timedelta(days=14)).isoformat(),
            "contact": {"name": "Li Lei", "phone": "13800138000"},
            "lines": [{"sku": ids["sku"], "quantity": 1}]}  # fmt: skip


ROWS: dict[tuple[str, str, str], Row] = {
    ("intake", "POST", "/orders"): Row(body=order_body),
    ("intake", "GET", "/orders/{order_id}"): Row(("order_id",), scoped=True),
    ("intake", "GET", "/orders"): Row(query=lambda ids: {"customer_id": ids["customer_id"]}),
    ("intake", "POST", "/orders/{order_id}/cancel"): Row(("order_id",), {"reason": "test"}, scoped=True),
    ("intake", "POST", "/orders/{order_id}/approve"): Row(("order_id",), {"reason": "test"}),
    ("intake", "POST", "/orders/{order_id}/reject"): Row(("order_id",), {"reason": "test"}),
    ("intake", "GET", "/review-queue"): Row(),
    ("intake", "POST", "/review-queue/claims"): Row(body={"count": 1}),
    ("intake", "POST", "/orders/{order_id}/release"): Row(("order_id",)),
    ("intake", "GET", "/orders/{order_id}/confirmation"): Row(("order_id",), scoped=True),
    ("intake", "GET", "/orders/{order_id}/confirmation.html"): Row(("order_id",)),
    ("intake", "POST", "/orders/{order_id}/confirmation/accept"): Row(("order_id",), scoped=True),
    ("intake", "POST", "/orders/{order_id}/confirmation/changes"): Row(
        ("order_id",), {"reason": "one more"}, scoped=True
    ),
    ("intake", "POST", "/orders/{order_id}/confirmation"): Row(("order_id",), {"reason": "again"}),
    ("intake", "GET", "/confirmation-breaches"): Row(),
    ("intake", "POST", "/orders/{order_id}/changes/preview"): Row(
        ("order_id",), {"reason": "test", "delivery_address": "elsewhere"}, scoped=True
    ),
    ("intake", "POST", "/orders/{order_id}/changes"): Row(
        ("order_id",), {"reason": "test", "delivery_address": "elsewhere"}, scoped=True
    ),
    ("intake", "POST", "/orders/{order_id}/merge"): Row(
        ("order_id",), lambda ids: {"order_id": ids["order_id"], "reason": "test"}, scoped=True
    ),
    ("intake", "POST", "/orders/{order_id}/lines/{line}/cancel"): Row(
        ("order_id", "line"), {"reason": "test"}, scoped=True
    ),
    ("intake", "POST", "/orders/{order_id}/payment-check"): Row(
        ("order_id",), {"reason": "L/C seen"}, scoped=True
    ),
    ("intake", "GET", "/finance/awaiting-payment"): Row(
        query=lambda ids: {"customer_id": ids["customer_id"]}
    ),
    ("intake", "POST", "/keys"): Row(body={"name": "x", "role": "ops"}),
    ("intake", "GET", "/keys"): Row(),
    ("intake", "GET", "/keys/{key_id}"): Row(("key_id",)),
    ("intake", "POST", "/keys/{key_id}/revoke"): Row(("key_id",)),
    ("inventory", "PUT", "/products/{sku}"): Row(("sku",)),
    ("inventory", "GET", "/products/{sku}"): Row(("sku",)),
    ("inventory", "GET", "/products"): Row(),
    ("inventory", "PUT", "/stock/{sku}"): Row(("sku",)),
    ("inventory", "GET", "/stock/{sku}"): Row(("sku",)),
    ("fulfillment", "GET", "/supply-orders"): Row(),
    ("fulfillment", "GET", "/supply-orders/{supply_order_id}"): Row(("supply_order_id",)),
    ("fulfillment", "POST", "/supply-orders/{supply_order_id}/complete"): Row(("supply_order_id",)),
    ("fulfillment", "POST", "/supply-orders/{supply_order_id}/start"): Row(("supply_order_id",)),
    ("logistics", "GET", "/shipments"): Row(query=lambda ids: {"order_id": ids["order_id"]}),
    ("logistics", "GET", "/shipments/{shipment_id}"): Row(("shipment_id",)),
    ("logistics", "GET", "/shipments/{shipment_id}/packing-list"): Row(("shipment_id",)),
    ("logistics", "POST", "/shipments/{shipment_id}/events"): Row(("shipment_id",)),
    ("billing", "PUT", "/customers/{customer_id}"): Row(
        ("customer_id",), {"name": "Acme", "payment_terms": "credit", "credit_limit": 10_000_000}, scoped=True
    ),
    ("billing", "GET", "/customers/{customer_id}"): Row(("customer_id",), scoped=True),
    ("billing", "POST", "/payments"): Row(
        body=lambda ids: {"order_id": ids["order_id"], "amount": 1, "reference": uid("PAY")}, scoped=True
    ),
    ("billing", "GET", "/invoices"): Row(query=lambda ids: {"order_id": ids["order_id"]}),
    ("billing", "GET", "/billing/orders/{order_id}"): Row(("order_id",), scoped=True),
    ("billing", "GET", "/refunds"): Row(query=lambda ids: {"order_id": ids["order_id"]}),
    ("billing", "GET", "/finance-notices"): Row(query=lambda ids: {"order_id": ids["order_id"]}),
    ("inventory", "GET", "/picking-notices"): Row(query=lambda ids: {"order_id": ids["order_id"]}),
    ("logistics", "GET", "/booking-requests"): Row(query=lambda ids: {"order_id": ids["order_id"]}),
    # No refund in this world: a permitted role gets 404, the others 403.
    ("billing", "POST", "/refunds/{refund_id}/paid-out"): Row(("refund_id",)),
    ("billing", "GET", "/invoices/{invoice_id}"): Row(("invoice_id",), scoped=True),
    ("aftersales", "POST", "/returns"): Row(
        body=lambda ids: {
            "order_id": ids["order_id"],
            "lines": [{"sku": ids["sku"], "quantity": 1}],
            "reason": "damaged",
        },
        scoped=True,
    ),
    ("aftersales", "POST", "/returns/{return_id}/inspection"): Row(("return_id",)),
    ("aftersales", "GET", "/returns/{return_id}"): Row(("return_id",), scoped=True),
    ("aftersales", "GET", "/returns"): Row(query=lambda ids: {"order_id": ids["order_id"]}),
    **{(s, "GET", "/ops/metrics"): Row() for s in SERVICES},
}


async def completed_order(shop: Shop, customer: str, placer: str) -> dict[str, str]:
    sku = await shop.product(on_hand=10)
    order_id = (await shop.place(customer, [(sku, 3)], as_=placer))["order_id"]
    done = await shop.deliver(order_id)
    shipment = (await shop.shipments(order_id))[0]
    return_id = (
        await shop.ok(
            await shop.as_("admin")["aftersales"].post(
                "/returns",
                json={"order_id": order_id, "lines": [{"sku": sku, "quantity": 1}], "reason": "damaged"},
            )
        )
    )["return_id"]
    supply_sku = await shop.product(on_hand=0)
    supply_order = (await shop.place(customer, [(supply_sku, 1)], as_=placer))["order_id"]
    supply = (await shop.wait_supply_orders(supply_order))[0]
    return {"customer_id": customer, "order_id": order_id, "sku": sku, "invoice_id": done["invoice_ids"][0],
            "shipment_id": shipment["shipment_id"], "return_id": return_id,
            "supply_order_id": supply["supply_order_id"], "key_id": "0123456789ab",
            "refund_id": "RF-NONE", "line": "1"}  # fmt: skip


@pytest.fixture(scope="module")
def matrix() -> dict[tuple[str, str, str], Permission | None]:
    return route_table()


def call(client: httpx.AsyncClient, method: str, path: str, row: Row, ids: dict[str, str]) -> Any:
    for name in row.params:
        path = path.replace("{" + name + "}", ids[name])
    body = row.body(ids) if callable(row.body) else row.body
    query = row.query(ids) if callable(row.query) else row.query
    return client.request(method, path, json=body if method in ("POST", "PUT") else None, params=query)


async def test_no_key_is_401_a_role_without_the_permission_403_another_customers_object_404(
    e2e_stack: Stack, shop: Shop, matrix: dict[tuple[str, str, str], Permission | None]
):
    world = World(
        own=await completed_order(shop, await shop.customer(), "storefront"),
        foreign=await completed_order(
            shop, await shop.customer(prefix="OTHER", as_="erp_other"), "storefront_other"
        ),
    )
    failures: list[str] = []
    for (service, method, path), row in ROWS.items():
        permission = matrix[service, method, path]
        where = f"{method} {service}{path}"
        async with e2e_stack.client(service, as_=None) as anonymous:
            for header in (
                None,
                "Bearer nonsense",
                "Basic YWRtaW46YWRtaW4=",
                f"Bearer {e2e_stack.key('ops')}x",
            ):
                headers = {"Authorization": header} if header else {}
                anonymous.headers.update(headers)
                answer = await call(anonymous, method, path, row, world.own)
                if answer.status_code != 401 or answer.json()["error"]["code"] != "unauthenticated":
                    failures.append(f"{where} with {header!r}: {answer.status_code}, expected 401")
        for entry, (role, *_) in TEST_KEYS.items():
            # The *_other keys act for OTHER-* customers: for them the worlds swap.
            mine, theirs = (
                (world.foreign, world.own) if entry.endswith("_other") else (world.own, world.foreign)
            )
            async with e2e_stack.client(service, as_=entry) as client:
                answer = await call(client, method, path, row, mine)
                if permission not in ROLES[role].permissions:
                    if answer.status_code != 403 or answer.json()["error"]["code"] != "forbidden":
                        failures.append(f"{where} as {entry}: {answer.status_code}, expected 403")
                    continue
                if answer.status_code in (401, 403, 500):
                    failures.append(
                        f"{where} as {entry} (permitted): {answer.status_code} {answer.text[:200]}"
                    )
                if not (row.scoped and ROLES[role].scoped):
                    continue
                # Another customer's object answers exactly like one that does not exist.
                seen = await call(client, method, path, row, theirs)
                unknown = {k: v if k == "line" else f"NOPE-{v}" for k, v in theirs.items()}  # line: a number
                missing = await call(client, method, path, row, unknown)
                got = (seen.status_code, seen.json()["error"]["code"])
                if got[0] not in (404, 422) or got != (missing.status_code, missing.json()["error"]["code"]):
                    failures.append(
                        f"{where} as {entry}, foreign: {seen.text[:150]}; a missing one: {missing.text}"
                    )
    assert not failures, "\n".join(failures)


async def test_lists_show_a_scoped_key_only_its_own_customers(e2e_stack: Stack, shop: Shop):
    own_customer = await shop.customer()
    foreign_customer = await shop.customer(prefix="OTHER", as_="erp_other")
    sku = await shop.product(on_hand=10)
    mine = (await shop.place(own_customer, [(sku, 1)]))["order_id"]
    theirs = (await shop.place(foreign_customer, [(sku, 1)], as_="storefront_other"))["order_id"]

    async with e2e_stack.client("intake", as_="storefront") as storefront:
        seen = {
            o["order_id"] for o in (await storefront.get("/orders", params={"limit": 200})).json()["items"]
        }
        asked = (await storefront.get("/orders", params={"customer_id": foreign_customer})).json()
    async with e2e_stack.client("intake", as_="ops") as ops:
        everything = {
            o["order_id"] for o in (await ops.get("/orders", params={"limit": 200})).json()["items"]
        }

    assert mine in seen and theirs not in seen
    assert all(order_id.startswith("SO") for order_id in seen)
    assert asked == {"items": [], "next_cursor": None}
    assert {mine, theirs} <= everything


async def test_a_storefront_places_only_for_its_customers_on_its_channel(e2e_stack: Stack, shop: Shop):
    foreign_customer = await shop.customer(prefix="OTHER", as_="erp_other")
    own_customer = await shop.customer()
    sku = await shop.product(on_hand=10)
    async with e2e_stack.client("intake", as_="storefront") as storefront:
        foreign = await storefront.post(
            "/orders", json=order_body({"customer_id": foreign_customer, "sku": sku})
        )
        channel = await storefront.post(
            "/orders", json={**order_body({"customer_id": own_customer, "sku": sku}), "channel": "phone"}
        )

    assert foreign.status_code == 403 and foreign.json()["error"]["fields"] == {
        "customer_id": "not one of this key's customers"
    }
    assert channel.status_code == 403 and "channel" in channel.json()["error"]["fields"]


async def test_customer_facing_answers_leave_out_the_phone_and_the_credit_figures(
    e2e_stack: Stack, shop: Shop
):
    customer = await shop.customer()
    sku = await shop.product(on_hand=10)
    phone = "+86 138-0013-8000"
    order_id = (await shop.place(customer, [(sku, 1)], contact={"name": "Li Lei", "phone": phone}))[
        "order_id"
    ]
    async with e2e_stack.client("intake", as_="storefront") as storefront:
        seen = (await storefront.get(f"/orders/{order_id}")).json()
    async with e2e_stack.client("billing", as_="erp") as erp:
        terms = (await erp.get(f"/customers/{customer}")).json()
    internal = await shop.order(order_id)  # ops
    credit = await shop.credit(customer)

    assert seen["contact"] == {"name": "Li Lei"}  # left out by the model, not masked
    assert "13800138000" not in str(seen) and "8000" not in str(seen["contact"])
    assert not {"flags", "priority", "hold", "supply_orders"} & set(seen)
    assert all(set(step) == {"at", "status", "event"} for step in seen["history"])
    assert internal["contact"]["phone"] == phone and "flags" in internal
    assert set(terms) == {"customer_id", "name", "payment_terms", "currency"}
    assert {"credit_limit", "exposure", "available_credit", "orders"} <= set(credit)


async def test_keys_are_shown_once_stored_as_a_hash_revocable_and_name_the_actor(
    e2e_stack: Stack, shop: Shop
):
    async with e2e_stack.client("intake", as_="admin") as admin:
        made = await admin.post("/keys", json={"name": "ops.sun", "role": "ops"})
        issued = made.json()
        listed = (await admin.get("/keys", params={"role": "ops", "limit": 500})).json()["items"]
        bad = await admin.post("/keys", json={"name": "x", "role": "storefront"})
    key = issued["key"]
    customer = await shop.customer(credit_limit=0)  # on hold: waits for a person (R3.1)
    sku = await shop.product(on_hand=10)
    order_id = (await shop.place(customer, [(sku, 1)]))["order_id"]
    await shop.wait_status(order_id, "on_hold")
    async with httpx.AsyncClient(
        base_url=e2e_stack.url("intake"), headers={"Authorization": f"Bearer {key}"}
    ) as sun:
        rejected = await sun.post(f"/orders/{order_id}/reject", json={"reason": "no credit"})
        async with e2e_stack.client("intake", as_="admin") as admin:
            revoked = await admin.post(f"/keys/{issued['key_id']}/revoke")
            used = (await admin.get(f"/keys/{issued['key_id']}")).json()
        after = await sun.get(f"/orders/{order_id}")
        for _ in range(100):  # revocation reaches every replica within auth_cache_s (5 s)
            if after.status_code == 401:
                break
            await asyncio.sleep(0.1)
            after = await sun.get(f"/orders/{order_id}")

    assert made.status_code == 201 and key.startswith("oms_") and issued["role"] == "ops"
    assert all("key" not in item and "hash" not in item for item in listed)
    assert issued["key_id"] in {item["key_id"] for item in listed}
    assert bad.status_code == 422 and {"customers", "channel"} <= set(bad.json()["error"]["fields"])
    assert rejected.status_code == 200 and rejected.json()["history"][-1]["by"] == "ops.sun"
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    assert used["created_by"] == "test.admin" and used["revoked_at"] is not None
    assert after.status_code == 401
