"""The packing list that travels with the goods (R5.2)."""

from __future__ import annotations

from dataclasses import dataclass

from .errors import InvalidTransition
from .shipment import HELD, Shipment


@dataclass(frozen=True)
class PackingList:
    """Order number, consignee, address and phone, plus what is in the parcel and how to follow it."""

    order_id: str
    shipment_id: str
    carrier: str
    tracking_number: str
    consignee: str
    address: str
    phone: str
    lines: tuple[tuple[str, int], ...]


def packing_list(shipment: Shipment, phone: str) -> PackingList:
    """Print data for a booked shipment, with the consignee's ``phone`` as intake has it now (the
    shipment does not keep it, issue 7); a cancellation recorded before booking has none."""
    if shipment.tombstone or shipment.consignee is None:
        raise InvalidTransition(f"order {shipment.order_id} was never booked: nothing to pack")
    if shipment.status == HELD:  # its lines are about to change (R7.2): packing them now is wrong
        raise InvalidTransition(
            f"shipment {shipment.shipment_id} is held for change {shipment.held_by} of its order: the "
            "packing list is printed once it is booked again"
        )
    c = shipment.consignee
    return PackingList(
        shipment.order_id,
        shipment.shipment_id,
        shipment.carrier,
        shipment.tracking_number,
        c.name,
        c.address,
        phone,
        shipment.lines,
    )
