"""MongoDB adapters of fulfillment: documents <-> domain objects."""

from services.fulfillment.adapters.mongo_supply_orders import MongoSupplyOrderStore
from services.fulfillment.adapters.mongo_supply_requests import MongoSupplyRequestStore

__all__ = ["MongoSupplyOrderStore", "MongoSupplyRequestStore"]
