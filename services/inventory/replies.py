"""What the inventory answers, built from the domain state (contracts in shared/contracts.py)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from services.inventory.domain import Product, Reservation, ReservationStatus
from services.inventory.domain import Shortage as Missing
from shared.contracts import LineQty, Message, Shortage, StockReserved, StockShort


def line_qtys(quantities: Iterable[tuple[str, int]]) -> list[LineQty]:
    """Contract lines; zero quantities are left out (LineQty quantities are positive)."""
    return [LineQty(sku=sku, quantity=units) for sku, units in quantities if units > 0]


def shortage_lines(missing: Iterable[Missing]) -> list[Shortage]:
    """Contract shortages: what to make or buy, how much, and how long it takes (R4.2)."""
    return [Shortage(sku=s.sku, quantity=s.quantity, sourcing=s.sourcing, lead_time_days=s.lead_time_days)
            for s in missing]  # fmt: skip


def reservation_outcome(reservation: Reservation, products: Mapping[str, Product]) -> Message:
    """StockReserved when every line is held, else StockShort with what to source (R4.1, R4.2)."""
    held = line_qtys(reservation.held_lines())
    if reservation.status is ReservationStatus.RESERVED:
        return StockReserved(order_id=reservation.order_id, lines=held)
    shortages = shortage_lines(reservation.shortages(products))
    return StockShort(order_id=reservation.order_id, reserved=held, shortages=shortages)
