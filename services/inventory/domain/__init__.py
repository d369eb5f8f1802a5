"""Pure inventory domain: products, stock, reservations. No I/O here."""

from services.inventory.domain.errors import (
    BelowReserved,
    DomainError,
    InvalidProduct,
    InvalidQuantity,
    InvalidTransition,
)
from services.inventory.domain.product import Component, Product, Shortage, check_bundle
from services.inventory.domain.receipt import ReturnReceipt
from services.inventory.domain.reservation import Adjustment, Reservation, ReservationStatus
from services.inventory.domain.stock import HoldChange, Stock, adjusted_hold, draw_from_largest, reservable

__all__ = [
    "Adjustment",
    "BelowReserved",
    "Component",
    "DomainError",
    "HoldChange",
    "InvalidProduct",
    "InvalidQuantity",
    "InvalidTransition",
    "Product",
    "Reservation",
    "ReservationStatus",
    "ReturnReceipt",
    "Shortage",
    "Stock",
    "adjusted_hold",
    "check_bundle",
    "draw_from_largest",
    "reservable",
]
