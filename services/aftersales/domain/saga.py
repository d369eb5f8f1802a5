"""The return saga (R8.3): one return, its states, what each step sends and the reply that moves it on."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from shared.contracts import CreditNoteIssued, Message, ReturnRestocked

from . import messages
from .errors import InvalidTransition
from .policy import FREIGHT_PAYER, OrderSnapshot, ReturnLine, ReturnReason, classify_reason, review
from .records import HistoryEntry, Inspection
from .refund import RefundLedger


class Status(StrEnum):
    REQUESTED = "requested"
    AWAITING_INSPECTION = "awaiting_inspection"
    RESTOCKING = "restocking"
    REFUNDING = "refunding"
    COMPLETED = "completed"
    REJECTED = "rejected"


# The whole saga. (state, what happened) -> (next state, message sent). Nothing here needs a
# compensation: inventory always takes goods back and billing always issues the credit note, and a
# failed inspection ends the saga before anything was restocked or refunded. A trigger missing from
# the table for the current state is a late or duplicate reply and is ignored (idempotency).
#
#   requested            --reviewed (policy, automatic)--> awaiting_inspection
#   awaiting_inspection  --inspection_passed-->            restocking   sends RestockReturn  (inventory)
#   awaiting_inspection  --inspection_failed-->            rejected     sends ReturnRejected (event)
#   restocking           --ReturnRestocked-->              refunding    sends IssueCreditNote (billing)
#   refunding            --CreditNoteIssued-->             completed    sends ReturnCompleted (event)
# What moves a return on: a reply of another service (its message type), or what the policy or a
# person did (a name). What it sends: a builder of the message from the return's state.
Trigger = type[Message] | str
Sends = Callable[["Return"], Message] | None

TRANSITIONS: Mapping[tuple[Status, Trigger], tuple[Status, Sends]] = {
    (Status.REQUESTED, "reviewed"): (Status.AWAITING_INSPECTION, None),
    (Status.AWAITING_INSPECTION, "inspection_passed"): (Status.RESTOCKING, messages.restock),
    (Status.AWAITING_INSPECTION, "inspection_failed"): (Status.REJECTED, messages.rejected),
    (Status.RESTOCKING, ReturnRestocked): (Status.REFUNDING, messages.credit_note),
    (Status.REFUNDING, CreditNoteIssued): (Status.COMPLETED, messages.completed),
}

FINAL_STATUSES = frozenset({Status.COMPLETED, Status.REJECTED})


@dataclass
class Return:
    """A return of goods of one order: the aggregate the saga runs on."""

    return_id: str
    order_id: str
    customer_id: str
    order_seq: int  # 1 for the order's first return, 2 for its second ...: serializes requests per order
    reason: str
    reason_code: ReturnReason
    freight_payer: str
    lines: tuple[ReturnLine, ...]
    order_total: int
    ordered_units: dict[str, int]
    status: Status
    requested_at: datetime
    inspection: Inspection | None = None
    refund_total: int | None = None
    credit_note_id: str | None = None
    credit_note_total: int | None = None  # as billing booked it: negative (R6.2)
    history: list[HistoryEntry] = field(default_factory=list)
    version: int = 0

    @classmethod
    def request(
        cls,
        *,
        return_id: str,
        order: OrderSnapshot,
        lines: Iterable[tuple[str, int]],
        reason: str,
        already_returned: Mapping[str, int],
        order_seq: int,
        by: str,
        at: datetime,
    ) -> Return:
        """Accept a return request that passes the policy (else ReturnRefused) and review it at once."""
        priced = review(order, lines, already_returned)
        code = classify_reason(reason)
        ret = cls(
            return_id=return_id,
            order_id=order.order_id,
            customer_id=order.customer_id,
            order_seq=order_seq,
            reason=reason,
            reason_code=code,
            freight_payer=FREIGHT_PAYER[code],
            lines=priced,
            order_total=order.total,
            ordered_units=order.ordered_units(),
            status=Status.REQUESTED,
            requested_at=at,
        )
        ret._record(at, "requested", by, reason)
        # Review is automatic for now: everything that breaks the policy was refused above.
        ret._advance("reviewed", at, "policy", f"within policy; return freight paid by {ret.freight_payer}")
        return ret

    @property
    def units(self) -> dict[str, int]:
        return {line.sku: line.quantity for line in self.lines}

    def awaits(self, trigger: Trigger) -> bool:
        """True when ``trigger`` would move the saga on from its current state."""
        return (self.status, trigger) in TRANSITIONS

    def inspect(self, result: str, *, by: str, at: datetime, note: str = "") -> list[Message]:
        """Record the inspection on arrival (R8.3): a pass restocks and refunds, a fail ends the return."""
        if result not in ("pass", "fail"):
            raise InvalidTransition(f"unknown inspection result {result!r}", fields={"result": result})
        if self.inspection is not None:
            if self.inspection.result == result:
                return []  # the same verdict again: already applied
            raise InvalidTransition(
                f"return {self.return_id} was already inspected: {self.inspection.result}",
                fields={"result": f"already {self.inspection.result}"},
            )
        if self.status is not Status.AWAITING_INSPECTION:
            raise InvalidTransition(f"return {self.return_id} is {self.status}, not awaiting inspection")
        self.inspection = Inspection(result=result, by=by, at=at, note=note)
        trigger = "inspection_passed" if result == "pass" else "inspection_failed"
        return self._advance(trigger, at, by, note)

    def on_return_restocked(
        self, ledger: RefundLedger, *, at: datetime, by: str = "inventory"
    ) -> list[Message]:
        """The goods are back on hand: decide the refund against the order's ledger and ask billing for it."""
        if not self.awaits(ReturnRestocked):
            return []
        self.refund_total = ledger.settle(
            self.return_id, self.lines, order_total=self.order_total, ordered_units=self.ordered_units
        )
        return self._advance(ReturnRestocked, at, by, f"refund {self.refund_total} fen")

    def on_credit_note_issued(
        self, credit_note_id: str, total: int, *, at: datetime, by: str = "billing"
    ) -> list[Message]:
        """Billing booked the refund: the return is complete and everyone is told (R8.3)."""
        if not self.awaits(CreditNoteIssued):
            return []
        self.credit_note_id = credit_note_id
        self.credit_note_total = total
        return self._advance(CreditNoteIssued, at, by, f"credit note {credit_note_id}")

    # --- the table, applied -------------------------------------------------------------------

    def _advance(self, trigger: Trigger, at: datetime, by: str, reason: str) -> list[Message]:
        next_status, sends = TRANSITIONS[(self.status, trigger)]
        self.status = next_status
        self._record(at, trigger if isinstance(trigger, str) else trigger.__name__, by, reason)
        return [sends(self)] if sends else []

    def _record(self, at: datetime, event: str, by: str, reason: str) -> None:
        self.history.append(HistoryEntry(at=at, event=event, status=self.status.value, by=by, reason=reason))


def units_claimed(returns: Iterable[Return]) -> dict[str, int]:
    """Units of an order already taken back or on their way: every return but a rejected one counts,
    since the customer keeps goods that failed inspection and may return them again later."""
    claimed: dict[str, int] = {}
    for ret in returns:
        if ret.status is Status.REJECTED:
            continue
        for line in ret.lines:
            claimed[line.sku] = claimed.get(line.sku, 0) + line.quantity
    return claimed
