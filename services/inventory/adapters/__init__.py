"""MongoDB adapters of the inventory: documents <-> domain objects, atomic stock writes."""

from services.inventory.adapters.mongo_products import MongoProductStore
from services.inventory.adapters.mongo_receipts import MongoReturnReceiptStore
from services.inventory.adapters.mongo_reservations import MongoReservationStore
from services.inventory.adapters.mongo_stock import MongoStockStore
from shared.keys import decode_key, encode_key

__all__ = [
    "MongoProductStore",
    "MongoReservationStore",
    "MongoReturnReceiptStore",
    "MongoStockStore",
    "decode_key",
    "encode_key",
]
