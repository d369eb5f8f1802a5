"""AdjustStock (issue 8, R7.2; R4.2 "cancelling the short lines"): an accepted order changed, and
its reservation becomes the change's lines. Answered by StockAdjusted.

Per SKU (``domain.adjusted_hold``): units held beyond the new want go back to available; when
more is wanted, more is held where available (never more, never from another order's holds); what
is still missing is reported with its sourcing and lead time, and the reservation is ``reserved``
when everything wanted is held, ``short`` otherwise (supply then fills only what is missing).

Like ReserveStock (handlers.py), one ``shared.aggregates.change`` over ``WithStock``: the stock
step makes one conditional write per SKU (``StockStore.adjust``), which records the change id on
the stock document's ``adjustments.<order_id>`` with the hold before and after, so a redelivery
after a crash between two SKUs finds the SKUs done, moves nothing there and reports what they
did; the decision (``adjusted``, pure) records the change on the reservation with its reply.

- The same change again (its id is on the reservation): answered again under the same message
  id, nothing written (``Again``).
- The reservation is still ``reserving`` (ReserveStock in flight, or redelivered after a crash):
  ``StillReserving``, which the bus retries. Read from the store every time (``FreshStock``), so
  a copy this process cached before another replica finished the reserve cannot keep it retrying.
- ``released`` or ``committed``: parked (PermanentError) with the reason. A StockAdjusted that
  moved nothing would tell the saga the cancelled or shipped order now holds the new lines; the
  parking report (MessageParked) shows the order as stuck instead. Anything a racing step held
  for it is given back first.
- No reservation, or a SKU not in the catalogue: parked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial

from services.inventory.decisions import COMMITTED, RELEASED, RESERVING
from services.inventory.deps import Inventory
from services.inventory.domain import Adjustment, DomainError, HoldChange, Product, Reservation
from services.inventory.replies import line_qtys, shortage_lines
from services.inventory.stocked import Stocked, WithStock
from shared.aggregates import Again, Answers, Decision, Loaded, NotFound, change
from shared.contracts import AdjustStock, StockAdjusted
from shared.envelope import Envelope
from shared.errors import PermanentError


class StillReserving(Exception):
    """The reservation is not decided yet (ReserveStock in flight): retried, never parked."""


class FreshStock(WithStock["Moves"]):
    """``WithStock`` that always reads the reservation from the store: a change is rare, and a copy
    this process cached while the reserve was still running would keep answering ``reserving``."""

    async def load_cached(self, order_id: str) -> Loaded[Stocked[Moves]] | None:
        return await self.load(order_id)


@dataclass
class Moves:
    """What an AdjustStock's stock step found: the new wants, the catalogue, each SKU's change."""

    target: dict[str, int] = field(default_factory=dict)
    products: dict[str, Product] = field(default_factory=dict)
    changes: dict[str, HoldChange] = field(default_factory=dict)


async def adjust_stock(cmd: AdjustStock, env: Envelope, inv: Inventory) -> None:
    """Move the order's reservation to ``cmd.lines``; reply StockAdjusted once per change id."""
    lines = [(line.sku, line.quantity) for line in cmd.lines]

    async def move(reservation: Reservation) -> Moves:
        if cmd.change_id in reservation.adjustments:
            return Moves()  # made before: the decision answers again
        if reservation.is_final:
            # Released or shipped while a step of ours ran (or before): give back what it held.
            await inv.sweep(cmd.order_id, [*reservation.wanted, *(sku for sku, _ in lines)])
            return Moves()
        if reservation.status is RESERVING:
            raise StillReserving(f"reservation of order {cmd.order_id} is still reserving; try again")
        try:
            target = reservation.adjustment_target(lines)
        except DomainError as exc:
            raise PermanentError(exc.message) from exc
        products = await inv.products.get_many(target)
        if unknown := [sku for sku, units in target.items() if units and sku not in products]:
            raise PermanentError(f"unknown SKUs {unknown}: intake validates against the catalogue")
        changes: dict[str, HoldChange] = {}
        for sku, units in target.items():  # SKU by SKU, each step once per change
            moved = await inv.stock.adjust(sku, cmd.order_id, cmd.change_id, units)
            if moved.held > units:  # a receipt held units meanwhile: keep only what is wanted
                moved = HoldChange(moved.before, moved.after, await inv.stock.limit(sku, cmd.order_id, units))
            changes[sku] = moved
        return Moves(target, products, changes)

    store = FreshStock(inv.reservations, move)
    answers = Answers(inv.settings.service_name, env)
    try:
        await change(store, cmd.order_id, partial(adjusted, cmd), envelopes=answers,
                     attempts=inv.settings.write_attempts)  # fmt: skip
    except NotFound as exc:
        raise PermanentError(f"cannot adjust stock of order {cmd.order_id}: no reservation") from exc


def adjusted(cmd: AdjustStock, stocked: Stocked[Moves]) -> Decision:
    """Record the change and its StockAdjusted once; a repeat is answered again (pure)."""
    reservation, moves = stocked.reservation, stocked.stock
    if (done := reservation.adjustments.get(cmd.change_id)) is not None:
        return Again([stock_adjusted(cmd, done)])
    if reservation.status is RELEASED:
        raise PermanentError(f"cannot adjust stock of order {cmd.order_id}: its reservation was released "
                             "(the order was cancelled); nothing is held for it")  # fmt: skip
    if reservation.status is COMMITTED:
        raise PermanentError(f"cannot adjust stock of order {cmd.order_id}: its goods left the warehouse; "
                             "a change after shipping is a return (R7.3)")  # fmt: skip
    if reservation.status is RESERVING:
        raise StillReserving(f"reservation of order {cmd.order_id} is still reserving; try again")
    done = reservation.adjust(cmd.change_id, moves.target, moves.changes, moves.products)
    return [stock_adjusted(cmd, done)]


def stock_adjusted(cmd: AdjustStock, done: Adjustment) -> StockAdjusted:
    """The reply, from what the change recorded: the same payload every time it is answered."""
    return StockAdjusted(
        order_id=cmd.order_id,
        change_id=cmd.change_id,
        released=line_qtys(done.released.items()),
        reserved=line_qtys(done.reserved.items()),
        missing=shortage_lines(done.missing),
    )
