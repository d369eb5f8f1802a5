"""The reservation of one order: what it wants, what is held, and where it stands (R4.1, R4.2, R7.1).

A ``released`` reservation is also the tombstone: ReleaseStock arriving before ReserveStock
leaves one behind so the late ReserveStock reserves nothing (ARCHITECTURE.md, reordering-safe).

An accepted order may change (issue 8, R7.2; R4.2 "cancelling the short lines"): ``adjust`` makes
a reserved or short reservation want exactly the change's lines and records, per change id, what
the change gave back, held more and still misses, so a repeat of the change is answered the same.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from services.inventory.domain.errors import InvalidQuantity, InvalidTransition
from services.inventory.domain.product import Product, Shortage, _is_int
from services.inventory.domain.stock import HoldChange


class ReservationStatus(StrEnum):
    RESERVING = "reserving"  # holds being taken SKU by SKU (crash-safe: redelivery resumes)
    RESERVED = "reserved"  # every line fully held
    SHORT = "short"  # some units missing; supply orders will fill them (R4.2)
    RELEASED = "released"  # compensated (or a tombstone); final
    COMMITTED = "committed"  # goods shipped; final


@dataclass(frozen=True)
class Adjustment:
    """What one change of the order did (issue 8, R7.2, R4.2): units per SKU given back to
    available and held more, and what is still missing afterwards, with how to source it."""

    released: dict[str, int] = field(default_factory=dict)
    reserved: dict[str, int] = field(default_factory=dict)
    missing: tuple[Shortage, ...] = ()


@dataclass
class Reservation:
    """Per-order reservation; ``held`` mirrors the ``holds.<order_id>`` entries of the stock documents."""

    order_id: str
    status: ReservationStatus = ReservationStatus.RESERVING
    wanted: dict[str, int] = field(default_factory=dict)
    held: dict[str, int] = field(default_factory=dict)
    receipts: dict[str, int] = field(default_factory=dict)  # supply_order_id -> units held from it
    released: dict[str, int] = field(default_factory=dict)
    committed: dict[str, int] = field(default_factory=dict)
    adjustments: dict[str, Adjustment] = field(default_factory=dict)  # change_id -> what it did
    version: int = 0  # optimistic concurrency token, owned by the store

    @classmethod
    def start(cls, order_id: str, lines: Iterable[tuple[str, int]]) -> Reservation:
        """Begin reserving; the same SKU on two lines is wanted once, summed."""
        wanted: dict[str, int] = {}
        for sku, quantity in lines:
            if not _is_int(quantity) or quantity <= 0:
                raise InvalidQuantity("line quantities are positive integers", {sku: str(quantity)})
            wanted[sku] = wanted.get(sku, 0) + quantity
        if not wanted:
            raise InvalidQuantity("a reservation needs at least one line", {"lines": "empty"})
        return cls(order_id=order_id, wanted=wanted)

    @classmethod
    def tombstone(cls, order_id: str) -> Reservation:
        """A release that came first: nothing was held and nothing ever will be."""
        return cls(order_id=order_id, status=ReservationStatus.RELEASED)

    @property
    def is_final(self) -> bool:
        return self.status in (ReservationStatus.RELEASED, ReservationStatus.COMMITTED)

    @property
    def fully_held(self) -> bool:
        return all(self.held.get(sku, 0) >= qty for sku, qty in self.wanted.items())

    def outstanding(self, sku: str) -> int:
        """Units of ``sku`` still missing for this order."""
        return max(0, self.wanted.get(sku, 0) - self.held.get(sku, 0))

    def record_hold(self, sku: str, held: int) -> None:
        """Take note of the units the stock document holds for this order."""
        if self.status is not ReservationStatus.RESERVING:
            raise InvalidTransition(f"cannot hold stock while {self.status}")
        self.held[sku] = held

    def finish(self) -> ReservationStatus:
        """Every SKU decided: fully held is ``reserved``, anything missing is ``short`` (R4.1)."""
        if self.status is not ReservationStatus.RESERVING:
            raise InvalidTransition(f"cannot finish a reservation that is {self.status}")
        missing = [sku for sku in self.wanted if sku not in self.held]
        if missing:
            raise InvalidTransition(f"no decision yet for {missing}")
        self.status = ReservationStatus.RESERVED if self.fully_held else ReservationStatus.SHORT
        return self.status

    def shortages(self, products: Mapping[str, Product]) -> list[Shortage]:
        """What could not be held, with sourcing and lead time from the catalogue (R4.2)."""
        return [products[sku].shortage(self.outstanding(sku)) for sku in self.wanted if self.outstanding(sku)]

    def units_to_hold_on_receipt(self, sku: str, quantity: int) -> int:
        """How many arriving units go to this order: only what a short order still misses.

        A released or committed order keeps nothing: the goods stay as stock (R7.1).
        """
        if self.status is not ReservationStatus.SHORT:
            return 0
        return min(quantity, self.outstanding(sku))

    def receive(self, supply_order_id: str, sku: str, held_now: int) -> bool:
        """A supply receipt was counted; returns True when this receipt completes the order."""
        if supply_order_id in self.receipts:
            return False
        self.receipts[supply_order_id] = max(0, held_now - self.held.get(sku, 0))
        if self.status is not ReservationStatus.SHORT:
            return False
        self.held[sku] = held_now
        if self.fully_held:
            self.status = ReservationStatus.RESERVED
            return True
        return False

    @property
    def adjustable(self) -> bool:
        """Only a decided, open reservation changes: reserving is still in flight, the rest is final."""
        return self.status in (ReservationStatus.RESERVED, ReservationStatus.SHORT)

    def adjustment_target(self, lines: Iterable[tuple[str, int]]) -> dict[str, int]:
        """What the order wants once a change makes it ``lines`` (issue 8, R7.2): per SKU summed; a
        SKU left out is wanted 0 and kept, so a release or a commit still visits its stock; SKUs
        new to the order come last."""
        if not self.adjustable:
            raise InvalidTransition(f"cannot adjust a reservation that is {self.status}")
        target = dict.fromkeys(self.wanted, 0)
        for sku, quantity in lines:
            if not _is_int(quantity) or quantity <= 0:
                raise InvalidQuantity("line quantities are positive integers", {sku: str(quantity)})
            target[sku] = target.get(sku, 0) + quantity
        return target

    def adjust(
        self,
        change_id: str,
        target: Mapping[str, int],
        changes: Mapping[str, HoldChange],
        products: Mapping[str, Product],
    ) -> Adjustment:
        """Record a change: the order wants ``target``, and each SKU's stock did ``changes[sku]``.

        Reserved when everything wanted is held, short otherwise (supply fills only what is
        missing, ``units_to_hold_on_receipt``). Once per change id.
        """
        if not self.adjustable:
            raise InvalidTransition(f"cannot adjust a reservation that is {self.status}")
        if change_id in self.adjustments:
            raise InvalidTransition(f"change {change_id} was made already")
        if undecided := [sku for sku in target if sku not in changes]:
            raise InvalidTransition(f"no decision yet for {undecided}")
        self.wanted = dict(target)
        for sku in target:
            self.held[sku] = changes[sku].held
        self.status = ReservationStatus.RESERVED if self.fully_held else ReservationStatus.SHORT
        done = Adjustment(
            released={sku: changes[sku].released for sku in target if changes[sku].released},
            reserved={sku: changes[sku].reserved for sku in target if changes[sku].reserved},
            missing=tuple(self.shortages(products)),
        )
        self.adjustments[change_id] = done
        return done

    def release(self, released: Mapping[str, int]) -> None:
        """Compensation (R7.1): whatever was held went back; the reservation is closed for good."""
        if self.status is ReservationStatus.COMMITTED:
            raise InvalidTransition("shipped goods cannot be released; that is a return (R7.3)")
        for sku, units in released.items():
            self.released[sku] = self.released.get(sku, 0) + units
        self.status = ReservationStatus.RELEASED

    def commit(self, committed: Mapping[str, int]) -> None:
        """The goods left the warehouse: held units are consumed."""
        if self.status not in (ReservationStatus.RESERVED, ReservationStatus.SHORT):
            # A short order may still ship what it holds (partial shipment, R4.2).
            raise InvalidTransition(f"a {self.status} reservation has nothing to ship")
        self.committed = {sku: units for sku, units in committed.items() if units}
        self.status = ReservationStatus.COMMITTED

    def held_lines(self) -> list[tuple[str, int]]:
        """(sku, units) held now, in the order the lines were wanted; zero holds left out."""
        return [(sku, self.held[sku]) for sku in self.wanted if self.held.get(sku)]
