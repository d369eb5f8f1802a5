"""One behaviour, two adapters: the catalogue (services/inventory/ports.py ``ProductStore``) as the
Mongo adapter on the real store server and the in-memory fake the handler tests use (issue 6), and
its pages by SKU (issue 7: every list pages with a cursor)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from services.inventory.adapters import MongoProductStore
from services.inventory.domain import Component, Product
from tests.support.fakes_inventory import FakeProductStore
from tests.support.paging import walk

pytestmark = pytest.mark.integration


@pytest.fixture(params=["mongo", "fake"])
async def products(request: pytest.FixtureRequest, mongo_url: str) -> AsyncIterator[Any]:
    if request.param == "fake":
        yield FakeProductStore()
        return
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_url, tz_aware=True)
    yield MongoProductStore(client[f"c{uuid.uuid4().hex[:8]}_inventory"]["products"])
    await client.close()


def a_product(sku: str) -> Product:
    return Product(sku=sku, name=f"lamp {sku}", unit_price=5_650, sourcing="buy", lead_time_days=3)


async def catalogue(products: Any, *skus: str) -> None:
    for sku in skus:
        await products.put(a_product(sku))


SKUS = ("LAMP-B", "BULB-E27", "LAMP-A", "SHADE-1", "DIMMER", "LAMP-A2", "灯-1", "BULB-E14")


async def test_a_product_reads_back_alone_or_among_many_and_a_put_replaces_it(products):
    assert await products.put(a_product("LAMP-X")) is True
    assert await products.put(Product("LAMP-X", "new name", 100, "make", 1)) is False

    assert (await products.get("LAMP-X")).name == "new name"
    assert set(await products.get_many(["LAMP-X", "NOPE"])) == {"LAMP-X"}
    assert await products.get("NOPE") is None


async def test_the_catalogue_pages_three_at_a_time_by_sku_each_once(products):
    await catalogue(products, *SKUS)

    pages = await walk(lambda after: products.page(3, after))

    assert [len(p) for p in pages] == [3, 3, 2]
    assert [p.sku for page in pages for p in page] == sorted(SKUS)


async def test_a_product_added_between_pages_repeats_and_skips_none_of_the_others(products):
    await catalogue(products, *SKUS)

    async def add(after_page: int) -> None:
        if after_page == 1:
            await catalogue(products, "AAA-FIRST", "ZZZ-LAST")  # one before the cursor, one after

    pages = await walk(lambda after: products.page(3, after), add)

    assert [p.sku for page in pages for p in page] == sorted([*SKUS, "ZZZ-LAST"])


async def test_a_page_as_long_as_what_is_left_is_the_last(products):
    await catalogue(products, "A", "B", "C")

    first = await products.page(3)
    assert ([p.sku for p in first.items], first.next) == (["A", "B", "C"], None)
    assert (await products.page(2)).next == ("B",)
    assert (await products.page(5, ("C",))).items == []


async def test_a_bundle_keeps_its_components_and_is_found_by_each_of_them(products):
    await catalogue(products, "LAMP-A", "BULB-E27")
    bundle = Product("SET-1", "desk set", 30_000, "buy", 1, custom=True,
                     components=(Component("LAMP-A", 1), Component("BULB-E27", 2)))  # fmt: skip
    await products.put(bundle)

    assert await products.get("SET-1") == bundle
    assert await products.bundles_containing("BULB-E27") == ["SET-1"]
    assert await products.bundles_containing("SET-1") == []


async def test_a_product_stored_before_custom_and_components_reads_as_plain_and_not_custom(mongo_url):
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_url, tz_aware=True)
    products = MongoProductStore(client[f"c{uuid.uuid4().hex[:8]}_inventory"]["products"])
    await products.collection.insert_one(
        {"_id": "OLD-1", "name": "old lamp", "unit_price": 100, "sourcing": "buy", "lead_time_days": 2}
    )

    old = await products.get("OLD-1")
    await client.close()

    assert old is not None and (old.custom, old.components, old.is_bundle) == (False, (), False)
