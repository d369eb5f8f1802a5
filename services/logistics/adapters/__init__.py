"""MongoDB adapters of logistics: shipment documents <-> domain objects."""

from services.logistics.adapters.mongo_shipments import MongoShipmentStore

__all__ = ["MongoShipmentStore"]
