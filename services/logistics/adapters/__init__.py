"""Adapters of logistics: shipment documents <-> domain objects, and intake for the phone."""

from services.logistics.adapters.intake import HttpConsigneePhones
from services.logistics.adapters.mongo_shipments import MongoShipmentStore

__all__ = ["HttpConsigneePhones", "MongoShipmentStore"]
