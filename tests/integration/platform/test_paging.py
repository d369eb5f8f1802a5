"""Every list endpoint pages the same way (issue 7, docs/API.md "Paging"), against running services.

Each list is walked page by page through ``Next-Cursor`` (and ``Link``) until a page comes without
one, and every item comes exactly once; ``MAX_PAGE=4`` makes a larger ``limit`` a page of four. A
cursor this API did not give out, or a bad ``limit``, is a 422 whose body names the field, on every
list. Supply orders, invoices and returns are written with the services' own store adapters (the
sagas that make them are tested elsewhere); products over HTTP.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from services.aftersales.adapters import MongoReturnStore
from services.aftersales.settings import Settings as AftersalesSettings
from services.billing.adapters import MongoInvoiceStore
from services.billing.domain import InvoiceLine, new_invoice
from services.billing.settings import Settings as BillingSettings
from services.fulfillment.adapters import MongoSupplyOrderStore
from services.fulfillment.settings import Settings as FulfillmentSettings
from shared.outbox import Outbox
from tests.support.fakes import FakeBus
from tests.support.paging import instants, walk_http
from tests.support.stack import Stack
from tests.unit.aftersales.builders import a_return, an_order
from tests.unit.fulfillment.builders import a_supply_order, uid

pytestmark = pytest.mark.integration
AT = datetime(2026, 5, 1, 12, 0, 39, tzinfo=UTC)
MAX_PAGE = 4
SERVICES = ("inventory", "fulfillment", "billing", "aftersales", "logistics")
ORDER_ID = "SO202605777"
CUSTOMER = "CUST-PAGING"


@pytest.fixture(scope="module")
def stack(make_stack) -> Stack:  # type: ignore[no-untyped-def]
    return make_stack(*SERVICES, env={"MAX_PAGE": str(MAX_PAGE)})  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
async def seeded(stack: Stack) -> AsyncIterator[dict[str, list[str]]]:
    """What each list holds, in its order, written once for the module."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(stack.mongo_url, tz_aware=True)
    made: dict[str, list[str]] = {}

    def db(service: str) -> Any:
        return client[f"{stack.prefix}_{service}"]

    def outbox(settings: Any) -> Outbox:  # nothing is staged: the bus is never asked
        return Outbox(FakeBus(), settings)  # type: ignore[arg-type]

    supply = MongoSupplyOrderStore(db("fulfillment")["supply_orders"], outbox(FulfillmentSettings()))
    raised = [a_supply_order(ORDER_ID if i % 2 else None, at=at) for i, at in enumerate(instants(AT) * 2)]
    for supply_order in raised:
        await supply.add(supply_order, {})
    by_time = sorted(raised, key=lambda o: (o.created_at, o.supply_order_id))
    made["supply_newest"] = [o.supply_order_id for o in reversed(by_time)]
    made["supply_of_order"] = [o.supply_order_id for o in by_time if o.order_id == ORDER_ID]

    invoices = MongoInvoiceStore(db("billing")["invoices"], db("billing")["counters"],
                                 outbox(BillingSettings()))  # fmt: skip
    documents = []
    for i, at in enumerate(instants(AT) + instants(AT)[:3]):
        customer = "OTHER-PAGING" if i % 5 == 0 else CUSTOMER  # another customer's are not listed
        line = InvoiceLine("LAMP", 1, 100, 100)
        documents.append(new_invoice(f"INV2026050{i:02}", order_id=uid("SO"), customer_id=customer,
                                     lines=[line], discount=0, freight=0, total=100, tax_rate_bp=1300,
                                     paid=0, at=at))  # fmt: skip
    for document in documents:
        await invoices.add(document, [])
    mine = [d for d in documents if d.customer_id == CUSTOMER]
    mine.sort(key=lambda d: (d.issued_at, d.invoice_id))
    made["invoices"] = [d.invoice_id for d in mine]

    returns = MongoReturnStore(db("aftersales")["returns"], db("aftersales")["counters"],
                               outbox(AftersalesSettings()))  # fmt: skip
    written = []
    for i, at in enumerate(instants(AT) + instants(AT)[:4]):
        order = replace(an_order(), customer_id="CUST-1" if i % 2 else "OTHER-1")
        ret = a_return(order)
        ret.requested_at = at
        await returns.insert(ret, [])
        written.append(ret)
    newest = sorted(written, key=lambda r: (r.requested_at, r.return_id), reverse=True)
    made["returns_recent"] = [r.return_id for r in newest]
    made["returns_storefront"] = [r.return_id for r in newest if r.customer_id.startswith("CUST-")]

    async with stack.client("inventory") as http:
        skus = [f"PAGE-{i:02}" for i in range(10)]
        for sku in reversed(skus):
            body = {"name": sku, "unit_price": 100, "sourcing": "buy", "lead_time_days": 1}
            assert (await http.put(f"/products/{sku}", json=body)).status_code in (200, 201)
        made["products"] = skus
    yield made
    await client.close()


LISTS = {  # name -> (service, path, params, what the walk gives, key)
    "products": ("inventory", "/products", {}, "products", "sku"),
    "supply, newest": ("fulfillment", "/supply-orders", {}, "supply_newest", "supply_order_id"),
    "supply, of an order": ("fulfillment", "/supply-orders", {"order_id": ORDER_ID}, "supply_of_order",
                            "supply_order_id"),
    "invoices, of a customer": ("billing", "/invoices", {"customer_id": CUSTOMER}, "invoices", "invoice_id"),
    "returns, recent": ("aftersales", "/returns", {}, "returns_recent", "return_id"),
}  # fmt: skip


def flat(pages: list[list[dict[str, Any]]], key: str) -> list[str]:
    return [item[key] for page in pages for item in page]


@pytest.mark.parametrize("name", list(LISTS))
@pytest.mark.parametrize("limit", [3, 1000])
async def test_walking_a_list_by_next_cursor_gives_every_item_once_in_order(stack, seeded, name, limit):
    service, path, params, expected, key = LISTS[name]
    async with stack.client(service) as http:
        pages = await walk_http(http, path, {**params, "limit": limit})

    size = min(limit, MAX_PAGE)  # over max_page is served as max_page
    assert flat(pages, key) == seeded[expected]
    assert all(len(page) == size for page in pages[:-1]) and 0 < len(pages[-1]) <= size


async def test_a_scoped_key_walks_full_pages_of_only_its_customers(stack, seeded):
    async with stack.client("aftersales", as_="storefront") as shop:
        pages = await walk_http(shop, "/returns", {"limit": 3})
    async with stack.client("billing", as_="erp") as erp:
        invoice_pages = await walk_http(erp, "/invoices", {"customer_id": CUSTOMER, "limit": 2})
    async with stack.client("billing", as_="erp_other") as other:
        theirs = await other.get("/invoices", params={"customer_id": CUSTOMER, "limit": 1})

    assert flat(pages, "return_id") == seeded["returns_storefront"]
    assert all(len(page) == 3 for page in pages[:-1])  # the store query leaves the others out
    assert flat(invoice_pages, "invoice_id") == seeded["invoices"]
    assert (theirs.status_code, theirs.json()) == (200, [])
    assert "Next-Cursor" not in theirs.headers  # not even a hint that the customer has documents


async def test_an_orders_shipments_are_one_page_whatever_the_limit(stack, seeded):
    async with stack.client("logistics") as http:
        answer = await http.get("/shipments", params={"order_id": ORDER_ID, "limit": 1})

    assert (answer.status_code, answer.json()) == (200, [])
    assert "Next-Cursor" not in answer.headers and "Link" not in answer.headers


BAD_CURSORS = ["0" * 26, "²", "\x00", "abc", "eyJhIjoxfQ", "x" * 600]
BAD_LIMITS = ["0", "-1", "ten", "1.5"]
ENDPOINTS = [(s, p, q) for s, p, q, _, _ in LISTS.values()] + [
    ("billing", "/invoices", {"order_id": ORDER_ID}),
    ("aftersales", "/returns", {"order_id": ORDER_ID}),
    ("fulfillment", "/supply-orders", {"status": "open"}),
    ("logistics", "/shipments", {"order_id": ORDER_ID}),
]


@pytest.mark.parametrize(("service", "path", "params"), ENDPOINTS)
async def test_a_cursor_not_given_out_or_a_bad_limit_is_a_422_naming_the_field(stack, seeded, service, path,
                                                                                params):  # fmt: skip
    async with stack.client("inventory") as inventory:
        products_cursor = (await inventory.get("/products", params={"limit": 1})).headers["Next-Cursor"]
    async with stack.client(service) as http:
        cursors = [*BAD_CURSORS, products_cursor] if path != "/products" else BAD_CURSORS
        by_cursor = [await http.get(path, params={**params, "cursor": c}) for c in cursors]
        by_limit = [await http.get(path, params={**params, "limit": n}) for n in BAD_LIMITS]

    for answer in by_cursor:
        assert answer.status_code == 422, answer.text
        assert answer.json()["error"]["code"] == "validation_failed"
        assert list(answer.json()["error"]["fields"]) == ["cursor"]
    for answer in by_limit:
        assert answer.status_code == 422, answer.text
        assert list(answer.json()["error"]["fields"]) == ["limit"]


async def test_a_cursor_from_the_other_returns_list_is_a_422(stack, seeded):
    async with stack.client("aftersales") as http:
        cursor = (await http.get("/returns", params={"limit": 1})).headers["Next-Cursor"]
        answer = await http.get("/returns", params={"order_id": ORDER_ID, "cursor": cursor})

    assert answer.status_code == 422 and list(answer.json()["error"]["fields"]) == ["cursor"]
