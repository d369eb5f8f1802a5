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
from services.inventory.domain.reservation import Reservation, ReservationStatus
from services.inventory.domain.stock import Stock, draw_from_largest, reservable

__all__ = [
    "BelowReserved",
    "Component",
    "DomainError",
    "InvalidProduct",
    "InvalidQuantity",
    "InvalidTransition",
    "Product",
    "Reservation",
    "ReservationStatus",
    "ReturnReceipt",
    "Shortage",
    "Stock",
    "check_bundle",
    "draw_from_largest",
    "reservable",
]
