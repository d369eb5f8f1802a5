"""What each inventory command decides, given the reservation as read and what the delivery's
stock writes returned for it (``stocked.Stocked``). Pure: ``shared.aggregates.change`` runs them
on every read, the first and each one after a lost race, and writes what they changed.

A list of replies is written with the change; ``Again`` answers a duplicate without a write.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from services.inventory.domain import Product, Reservation, ReservationStatus
from services.inventory.replies import line_qtys, reservation_outcome
from services.inventory.stocked import Stocked
from shared.aggregates import Again, Decision
from shared.contracts import (
    Message,
    ReceiveSupply,
    StockCommitted,
    StockReceived,
    StockReleased,
    StockReserved,
)
from shared.errors import PermanentError

RESERVING, RELEASED = ReservationStatus.RESERVING, ReservationStatus.RELEASED
COMMITTED = ReservationStatus.COMMITTED


@dataclass
class Holds:
    """What a ReserveStock's stock step found: the catalogue entries, and the units held per SKU."""

    products: dict[str, Product] = field(default_factory=dict)
    held: dict[str, int] = field(default_factory=dict)


def reserved(stocked: Stocked[Holds]) -> Decision:
    """R4.1: record the holds; StockReserved or StockShort, once."""
    reservation, holds = stocked.reservation, stocked.stock
    if reservation.is_final:
        return []  # released (a tombstone: the saga has its StockReleased) or shipped: no reply
    if reservation.status is not RESERVING:
        return Again([reservation_outcome(reservation, holds.products)])
    for sku, units in holds.held.items():
        reservation.record_hold(sku, units)
    reservation.finish()
    return [reservation_outcome(reservation, holds.products)]


def close(reservation: Reservation) -> Decision:
    """R7.1, first step: nothing more may be held for the order; its holds are swept next."""
    if not reservation.is_final:
        reservation.release({})
    return []


def released(stocked: Stocked[dict[str, int]]) -> Decision:
    """R7.1, second step: record the units swept back; after shipping nothing is (R7.3)."""
    reservation, swept = stocked.reservation, stocked.stock
    if reservation.status is COMMITTED:
        return Again([StockReleased(order_id=reservation.order_id, lines=[])])
    if swept:
        reservation.release(swept)
    reply = StockReleased(order_id=reservation.order_id, lines=line_qtys(reservation.released.items()))
    # Units taken back are written with the reply; a release that took none back writes nothing.
    return [reply] if swept else Again([reply])


def received(cmd: ReceiveSupply, stocked: Stocked[int | None]) -> Decision:
    """R4.2: StockReceived once per supply order, and StockReserved when it completes the order.
    ``stocked.stock`` is what the stock holds for the order now, None for a receipt seen before."""
    reservation, held_now = stocked.reservation, stocked.stock
    replies: list[Message] = [StockReceived(order_id=cmd.order_id, supply_order_id=cmd.supply_order_id,
                                            sku=cmd.sku, quantity=cmd.quantity)]  # fmt: skip
    if held_now is None:
        return Again(replies)
    if reservation.receive(cmd.supply_order_id, cmd.sku, held_now):
        replies.append(StockReserved(order_id=cmd.order_id, lines=line_qtys(reservation.held_lines())))
    return replies


def committed(stocked: Stocked[dict[str, int]]) -> Decision:
    """The goods left: record the units each SKU's stock committed, once."""
    reservation = stocked.reservation
    if reservation.status in (RELEASED, RESERVING):
        order, status = reservation.order_id, reservation.status
        raise PermanentError(f"cannot commit stock of order {order}: reservation {status}")
    if reservation.status is not COMMITTED:
        reservation.commit(stocked.stock)
        return [_committed(reservation)]
    return Again([_committed(reservation)])  # a duplicate: the goods left once


def _committed(reservation: Reservation) -> Message:
    return StockCommitted(order_id=reservation.order_id, lines=line_qtys(reservation.committed.items()))
