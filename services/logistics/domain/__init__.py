"""Logistics' pure domain: carrier rules (R5.1), shipments and carrier events (R5.2-R5.4)."""

from .errors import CannotCancel, ConsigneeUnknown, InvalidTransition, LogisticsError
from .packing import PackingList, packing_list
from .rules import DEDICATED_VEHICLE, EXPRESS, Booking, CarrierRules, tracking_number
from .shipment import CARRIER_EVENTS, Consignee, EventOutcome, Shipment, ShipmentEvent

__all__ = [
    "CARRIER_EVENTS",
    "DEDICATED_VEHICLE",
    "EXPRESS",
    "Booking",
    "CannotCancel",
    "CarrierRules",
    "Consignee",
    "ConsigneeUnknown",
    "EventOutcome",
    "InvalidTransition",
    "LogisticsError",
    "PackingList",
    "Shipment",
    "ShipmentEvent",
    "packing_list",
    "tracking_number",
]
