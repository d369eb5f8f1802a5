"""Logistics' pure domain: carrier rules (R5.1), shipments and carrier events (R5.2-R5.4), held
and booked again while an order changes (R7.2)."""

from .errors import CannotCancel, CannotHold, ConsigneeUnknown, InvalidTransition, LogisticsError
from .packing import PackingList, packing_list
from .rules import DEDICATED_VEHICLE, EXPRESS, Booking, CarrierRules, tracking_number
from .shipment import CARRIER_EVENTS, HELD, Consignee, EventOutcome, Shipment, ShipmentEvent

__all__ = [
    "CARRIER_EVENTS",
    "DEDICATED_VEHICLE",
    "EXPRESS",
    "HELD",
    "Booking",
    "CannotCancel",
    "CannotHold",
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
