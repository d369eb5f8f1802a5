"""Inventory use cases: one function per command, each idempotent by its business key.

Every handler loads the reservation (or receipt) document, changes stock through atomic
per-SKU writes that are safe to repeat (``holds.<order_id>``, ``receipts.<id>``), then saves
the document with its reply staged in the same write and flushes it (ARCHITECTURE.md).
A ConcurrencyError means another handler wrote the document: the whole step runs again from
a fresh read, which is safe because every stock write is idempotent.

A duplicate of a command already carried out writes nothing: its reply is published again
straight away under the same message id (``shared.envelope.reply_id``), so the saga sees a
message it has absorbed (ARCHITECTURE.md "Duplicates", issue 10).

Tombstone choice: a ReserveStock that finds the reservation ``released`` reserves nothing and
replies nothing; the saga already has its StockReleased.
"""

from __future__ import annotations

import logging

from services.inventory.deps import Inventory
from services.inventory.domain import DomainError, Reservation, ReservationStatus
from services.inventory.replies import envelope, line_qtys, reservation_outcome
from shared.contracts import (
    CommitStock,
    Message,
    ReceiveSupply,
    ReleaseStock,
    ReserveStock,
    RestockReturn,
    ReturnRestocked,
    StockCommitted,
    StockReceived,
    StockReleased,
    StockReserved,
)
from shared.envelope import Envelope
from shared.errors import PermanentError

log = logging.getLogger(__name__)
Released, Committed = ReservationStatus.RELEASED, ReservationStatus.COMMITTED


async def reserve_stock(cmd: ReserveStock, env: Envelope, inv: Inventory) -> None:
    """R4.1: hold min(available, wanted) per line; reply StockReserved or StockShort."""
    skus = [line.sku for line in cmd.lines]

    async def step() -> None:
        loaded = await inv.reservations.load(cmd.order_id)
        if loaded is None:
            try:
                fresh = Reservation.start(cmd.order_id, [(line.sku, line.quantity) for line in cmd.lines])
            except DomainError as exc:
                raise PermanentError(exc.message) from exc
            loaded = fresh, await inv.reservations.insert(fresh)
        reservation, doc = loaded
        if reservation.status is Released:
            # Tombstone: a release came first, or raced us; give back anything a racing step held.
            await inv.sweep(cmd.order_id, [*skus, *reservation.wanted])
            log.info("reservation already released; late ReserveStock ignored")
            return
        if reservation.status is Committed:
            return
        products = await inv.products.get_many(reservation.wanted)
        if unknown := [sku for sku in reservation.wanted if sku not in products]:
            raise PermanentError(f"unknown SKUs {unknown}: intake validates against the catalogue")
        if reservation.status is not ReservationStatus.RESERVING:
            # A duplicate: the decision stands; answer it again under the same id, writing nothing.
            await inv.outbox.publish([envelope(reservation_outcome(reservation, products), env)])
            return
        # SKU by SKU; a redelivery after a crash finds holds.<order_id> and takes nothing twice.
        for sku, wanted in reservation.wanted.items():
            reservation.record_hold(sku, await inv.stock.hold(sku, cmd.order_id, wanted))
        reservation.finish()
        reply = envelope(reservation_outcome(reservation, products), env)
        doc = await inv.reservations.save(reservation, doc, [reply])
        await inv.outbox.flush(inv.reservations.collection, doc)

    await inv.retrying(step)


async def release_stock(cmd: ReleaseStock, env: Envelope, inv: Inventory) -> None:
    """R7.1: every held unit goes back to available; before any reserve it leaves a tombstone."""

    async def step() -> None:
        loaded = await inv.reservations.load(cmd.order_id)
        if loaded is None:
            reply = envelope(StockReleased(order_id=cmd.order_id, lines=[]), env)
            doc = await inv.reservations.insert(Reservation.tombstone(cmd.order_id), [reply])
            await inv.outbox.flush(inv.reservations.collection, doc)
            return
        reservation, doc = loaded
        if reservation.status is Committed:
            log.warning("release after shipping: nothing to release, a return is needed (R7.3)")
            await inv.outbox.publish([envelope(StockReleased(order_id=cmd.order_id, lines=[]), env)])
            return
        if reservation.status is Released:
            # A duplicate (or a tombstone): give back what a racing reserve may have held, and answer
            # again under the same id; the reservation is not rewritten.
            if swept := await inv.sweep(cmd.order_id, reservation.wanted):
                reservation.release(swept)
                doc = await inv.reservations.save(reservation, doc)
            released = line_qtys(reservation.released.items())
            await inv.outbox.publish([envelope(StockReleased(order_id=cmd.order_id, lines=released), env)])
            return
        # Close it first: a reserve or receipt running right now then sees it and undoes its hold.
        reservation.release({})
        doc = await inv.reservations.save(reservation, doc)
        reservation.release(await inv.sweep(cmd.order_id, reservation.wanted))
        released = line_qtys(reservation.released.items())
        reply = envelope(StockReleased(order_id=cmd.order_id, lines=released), env)
        doc = await inv.reservations.save(reservation, doc, [reply])
        await inv.outbox.flush(inv.reservations.collection, doc)

    await inv.retrying(step)


async def receive_supply(cmd: ReceiveSupply, env: Envelope, inv: Inventory) -> None:
    """R4.2: arriving goods go on hand; what the waiting order misses is held for it at once."""
    warehouse = inv.settings.receiving_warehouse

    async def step() -> None:
        loaded = await inv.reservations.load(cmd.order_id)
        if loaded is None:
            await inv.stock.receive(cmd.sku, cmd.supply_order_id, cmd.quantity, warehouse)
            log.warning("supply received for an order with no reservation; kept as stock")
            return
        reservation, doc = loaded
        received = StockReceived(order_id=cmd.order_id, supply_order_id=cmd.supply_order_id, sku=cmd.sku,
                                 quantity=cmd.quantity)  # fmt: skip
        if cmd.supply_order_id in reservation.receipts:
            # A duplicate: the stock was counted before the receipt was recorded here; answer again.
            await inv.outbox.publish([envelope(received, env)])
            return
        hold = reservation.units_to_hold_on_receipt(cmd.sku, cmd.quantity)
        _, held_now = await inv.stock.receive(cmd.sku, cmd.supply_order_id, cmd.quantity, warehouse,
                                              cmd.order_id, hold)  # fmt: skip
        if reservation.status is Released:
            await inv.sweep(cmd.order_id, [cmd.sku])  # released while we held: the goods stay as stock (R7.1)
        replies: list[Message] = [received]
        if reservation.receive(cmd.supply_order_id, cmd.sku, held_now):
            replies.append(StockReserved(order_id=cmd.order_id, lines=line_qtys(reservation.held_lines())))
        doc = await inv.reservations.save(reservation, doc, [envelope(m, env) for m in replies])
        await inv.outbox.flush(inv.reservations.collection, doc)

    await inv.retrying(step)


async def commit_stock(cmd: CommitStock, env: Envelope, inv: Inventory) -> None:
    """The goods left: held units leave on hand and reserved, from the fullest warehouse first."""

    async def step() -> None:
        loaded = await inv.reservations.load(cmd.order_id)
        if loaded is None or loaded[0].status in (Released, ReservationStatus.RESERVING):
            state = loaded[0].status if loaded else "missing"
            raise PermanentError(f"cannot commit stock of order {cmd.order_id}: reservation {state}")
        reservation, doc = loaded
        if reservation.status is Committed:
            # A duplicate: the goods left once; answer again under the same id, writing nothing.
            lines = line_qtys(reservation.committed.items())
            await inv.outbox.publish([envelope(StockCommitted(order_id=cmd.order_id, lines=lines), env)])
            return
        reservation.commit({sku: await inv.stock.commit(sku, cmd.order_id) for sku in reservation.wanted})
        lines = line_qtys(reservation.committed.items())
        doc = await inv.reservations.save(reservation, doc, [envelope(StockCommitted(order_id=cmd.order_id,
                                                                                     lines=lines), env)])
        await inv.outbox.flush(inv.reservations.collection, doc)

    await inv.retrying(step)


async def restock_return(cmd: RestockReturn, env: Envelope, inv: Inventory) -> None:
    """R8.3: sellable returned goods go back on hand, counted once per (return, SKU)."""
    lines: dict[str, int] = {}
    for line in cmd.lines:
        lines[line.sku] = lines.get(line.sku, 0) + line.quantity
    for sku, units in lines.items():
        await inv.stock.receive(sku, f"{cmd.return_id}:{sku}", units, inv.settings.returns_warehouse)
    reply = envelope(ReturnRestocked(order_id=cmd.order_id, return_id=cmd.return_id,
                                     lines=line_qtys(lines.items())), env)  # fmt: skip
    doc = await inv.receipts.record(cmd.return_id, cmd.order_id, lines, reply)
    if doc is None:  # a duplicate: say it again under the same id, writing nothing
        await inv.outbox.publish([reply])
        return
    await inv.outbox.flush(inv.receipts.collection, doc)
