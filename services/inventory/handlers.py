"""Inventory use cases: one function per command, each idempotent by its business key.

Each changes the order's reservation through ``shared.aggregates.change``: load it, make the
delivery's stock writes for what was read (``stocked.WithStock``: atomic per-SKU writes that are
safe to repeat, ``holds.<order_id>``, ``receipts.<id>``), decide (decisions.py, pure: it records
what those writes returned), save with the replies staged in the same write, flush
(ARCHITECTURE.md "Outbox"). When another handler wrote the reservation first, the whole step
runs again on its write, which is safe because every stock write is idempotent.

A duplicate of a command already carried out writes nothing: its reply is published again
straight away under the same message id (``shared.envelope.reply_id``), ARCHITECTURE.md
"Duplicates". Tombstone choice: a ReserveStock that finds the reservation ``released`` reserves
nothing and replies nothing; the saga already has its StockReleased. AdjustStock (an order change,
issue 8) is in adjusting.py.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import suppress
from functools import partial
from typing import TypeVar

from pymongo.errors import DuplicateKeyError

from services.inventory import decisions
from services.inventory.decisions import COMMITTED, RELEASED, RESERVING, Holds
from services.inventory.deps import Inventory
from services.inventory.domain import DomainError, Reservation, ReservationStatus, ReturnReceipt
from services.inventory.replies import line_qtys
from services.inventory.stocked import WithStock
from shared.aggregates import AggregateStore, Answers, Changed, Decision, NotFound, change
from shared.contracts import (
    CommitStock,
    OrderConfirmed,
    ReceiveSupply,
    ReleaseStock,
    ReserveStock,
    RestockReturn,
    ReturnRestocked,
    StockReleased,
)
from shared.envelope import Envelope, utcnow
from shared.errors import PermanentError

log = logging.getLogger(__name__)
A = TypeVar("A")


async def _change(
    inv: Inventory, store: AggregateStore[A], order_id: str, decide: Callable[[A], Decision], cause: Envelope
) -> Changed[A]:
    return await change(store, order_id, decide, envelopes=Answers(inv.settings.service_name, cause),
                        attempts=inv.settings.write_attempts)  # fmt: skip


async def reserve_stock(cmd: ReserveStock, env: Envelope, inv: Inventory) -> None:
    """R4.1: hold min(available, wanted) per line; reply StockReserved or StockShort."""
    try:
        begun = Reservation.start(cmd.order_id, [(line.sku, line.quantity) for line in cmd.lines])
    except DomainError as exc:
        raise PermanentError(exc.message) from exc
    # Stored before any hold is taken, so a release running meanwhile finds it and sweeps.
    with suppress(DuplicateKeyError):  # a twin, or the release, got there first
        await inv.reservations.insert(begun)

    async def hold(reservation: Reservation) -> Holds:
        if reservation.status is RELEASED:
            # Tombstone: a release came first, or raced us; give back anything a racing step held.
            await inv.sweep(cmd.order_id, [*begun.wanted, *reservation.wanted])
            return Holds()
        if reservation.status is COMMITTED:
            return Holds()
        products = await inv.products.get_many(reservation.wanted)
        if unknown := [sku for sku in reservation.wanted if sku not in products]:
            raise PermanentError(f"unknown SKUs {unknown}: intake validates against the catalogue")
        if reservation.status is not RESERVING:
            return Holds(products)  # decided before: a duplicate holds nothing
        # SKU by SKU; a redelivery after a crash finds holds.<order_id> and takes nothing twice.
        wanted = reservation.wanted.items()
        return Holds(products, {sku: await inv.stock.hold(sku, cmd.order_id, units) for sku, units in wanted})

    done = await _change(inv, WithStock(inv.reservations, hold), cmd.order_id, decisions.reserved, env)
    if done.loaded.aggregate.reservation.status is RELEASED:
        log.info("reservation already released; late ReserveStock ignored")


async def release_stock(cmd: ReleaseStock, env: Envelope, inv: Inventory) -> None:
    """R7.1: every held unit goes back to available; before any reserve it leaves a tombstone."""
    try:
        # Close it first: a reserve or receipt running right now then sees it and undoes its hold.
        await _change(inv, inv.reservations, cmd.order_id, decisions.close, env)
    except NotFound:
        return await _leave_tombstone(cmd, env, inv)
    swept: dict[str, int] = {}

    async def sweep(reservation: Reservation) -> dict[str, int]:
        if reservation.status is RELEASED:
            for sku, units in (await inv.sweep(cmd.order_id, reservation.wanted)).items():
                swept[sku] = swept.get(sku, 0) + units
        return dict(swept)  # kept over a lost race: only this delivery took these units back

    done = await _change(inv, WithStock(inv.reservations, sweep), cmd.order_id, decisions.released, env)
    if done.loaded.aggregate.reservation.status is COMMITTED:
        log.warning("release after shipping: nothing to release, a return is needed (R7.3)")


async def _leave_tombstone(cmd: ReleaseStock, env: Envelope, inv: Inventory) -> None:
    replies = Answers(inv.settings.service_name, env)([StockReleased(order_id=cmd.order_id, lines=[])])
    try:
        saved = await inv.reservations.insert(Reservation.tombstone(cmd.order_id), replies)
    except DuplicateKeyError:  # the reserve stored its reservation first: release that one
        return await release_stock(cmd, env, inv)
    await inv.reservations.flush(saved)


async def receive_supply(cmd: ReceiveSupply, env: Envelope, inv: Inventory) -> None:
    """R4.2: arriving goods go on hand; what the waiting order misses is held for it at once."""
    warehouse = inv.settings.receiving_warehouse

    async def count(reservation: Reservation) -> int | None:
        if cmd.supply_order_id in reservation.receipts:
            return None  # a duplicate: the stock was counted before the receipt was recorded here
        hold = reservation.units_to_hold_on_receipt(cmd.sku, cmd.quantity)
        _, held_now = await inv.stock.receive(cmd.sku, cmd.supply_order_id, cmd.quantity, warehouse,
                                              cmd.order_id, hold)  # fmt: skip
        if reservation.status is RELEASED:
            await inv.sweep(cmd.order_id, [cmd.sku])  # released while we held: the goods stay as stock (R7.1)
        elif reservation.status is not COMMITTED and held_now > (most := reservation.wanted.get(cmd.sku, 0)):
            # A change cut the order (AdjustStock) or another receipt filled it while we held:
            # the order keeps what it wants, the rest stays as stock (issue 8, R4.2).
            held_now = await inv.stock.limit(cmd.sku, cmd.order_id, most)
        return held_now

    try:
        received = partial(decisions.received, cmd)
        await _change(inv, WithStock(inv.reservations, count), cmd.order_id, received, env)
    except NotFound:
        await inv.stock.receive(cmd.sku, cmd.supply_order_id, cmd.quantity, warehouse)
        log.warning("supply received for an order with no reservation; kept as stock")


async def commit_stock(cmd: CommitStock, env: Envelope, inv: Inventory) -> None:
    """The goods left: held units leave on hand and reserved, from the fullest warehouse first."""

    async def commit(reservation: Reservation) -> dict[str, int]:
        if reservation.status not in (ReservationStatus.RESERVED, ReservationStatus.SHORT):
            return {}
        return {sku: await inv.stock.commit(sku, cmd.order_id) for sku in reservation.wanted}

    try:
        await _change(inv, WithStock(inv.reservations, commit), cmd.order_id, decisions.committed, env)
    except NotFound as exc:
        raise PermanentError(f"cannot commit stock of order {cmd.order_id}: reservation missing") from exc


async def restock_return(cmd: RestockReturn, env: Envelope, inv: Inventory) -> None:
    """R8.3: sellable returned goods go back on hand, counted once per (return, SKU)."""
    receipt = ReturnReceipt.of(cmd.return_id, cmd.order_id, [(line.sku, line.quantity) for line in cmd.lines])
    for sku, units in receipt.lines.items():
        await inv.stock.receive(sku, receipt.receipt_id(sku), units, inv.settings.returns_warehouse)
    restocked = ReturnRestocked(order_id=cmd.order_id, return_id=cmd.return_id,
                                lines=line_qtys(receipt.lines.items()))  # fmt: skip
    replies = Answers(inv.settings.service_name, env)([restocked])
    try:
        saved = await inv.receipts.insert(receipt, replies)
    except DuplicateKeyError:  # recorded before: say it again under the same id, writing nothing
        return await inv.receipts.publish(replies)
    await inv.receipts.flush(saved)


async def note_picking(msg: OrderConfirmed, env: Envelope, inv: Inventory) -> None:
    """The warehouse gets a picking notice of an accepted order (R2.5): its lines, when it is
    needed and how urgent (R1.7). Kept once per order. A bundle is picked as its components
    (R1.9), each line naming the bundle it is for."""
    products = await inv.products.get_many(line.sku for line in msg.lines)
    lines: list[dict[str, object]] = []
    for line in msg.lines:
        product = products.get(line.sku)
        if product is None or not product.is_bundle:
            lines.append({"sku": line.sku, "quantity": line.quantity})
            continue
        lines += [{"sku": c.sku, "quantity": c.quantity * line.quantity, "bundle": line.sku}
                  for c in product.components]  # fmt: skip
    body = {"lines": lines, "required_by": msg.required_by, "priority": msg.priority}
    await inv.notices.record("picking", msg.order_id, body, utcnow())
