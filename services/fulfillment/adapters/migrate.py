"""Start-up migration of the supply orders of before issue 8: they were unique on (order_id, sku),
so an order change could not raise a new supply order for a SKU whose first one completed or was
cancelled. The key is now (order_id, sku, raised_by_change) (mongo_supply_orders.KEY).

Idempotent, run by ``MongoSupplyOrderStore.create_indexes`` before the new index is made: the old
unique index is dropped (found by its key: MongoDB and the embedded store name it differently),
and every document without ``raised_by_change`` gets "" (RaiseSupply raised it), so that a late
RaiseSupply finds it under the new key and raises nothing new. The embedded store does not count
a missing field as equal to another missing one in a unique index (real MongoDB does), so the
field is written rather than left out. Stop fulfillment replicas of before issue 8 first (they
would write documents without the field and rely on the old index).
"""

from __future__ import annotations

import logging
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection

log = logging.getLogger(__name__)
Doc = dict[str, Any]

OLD_KEY = [("order_id", 1), ("sku", 1)]


async def migrate(collection: AsyncCollection[Doc]) -> int:
    """Drop the old unique index and mark the old documents; returns how many were marked."""
    for name, spec in (await collection.index_information()).items():
        key = [(field, int(direction)) for field, direction in spec["key"]]
        if key == OLD_KEY and spec.get("unique"):
            await collection.drop_index(name)
            log.info("supply orders: dropped the unique index of before issue 8", extra={"index": name})
    marked = await collection.update_many(
        {"raised_by_change": {"$exists": False}}, {"$set": {"raised_by_change": ""}}
    )
    if marked.modified_count:
        log.info("supply orders: marked as raised by RaiseSupply", extra={"count": marked.modified_count})
    return marked.modified_count
