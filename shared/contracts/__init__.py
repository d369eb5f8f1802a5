"""Every message that crosses a service boundary, in one place.

Commands are imperative and go to exactly one service (routing key
``cmd.<target>.<Type>``); events are past tense and fan out to whoever binds
to them (``evt.<producer>.<Type>``). Payloads carry ids and primitives only
(STYLE.md); money is integer fen (API.md). Each service lists what it consumes
in its own ``consumers.py``. One module per service that owns the messages; the registry
``MESSAGE_TYPES`` builds itself from every class declared in them (issue 6).
"""

from __future__ import annotations

from shared.contracts.aftersales import (
    ReturnCompleted,
    ReturnRejected,
)
from shared.contracts.base import (
    Command,
    Event,
    LineQty,
    Message,
    PricedLine,
    Priority,
    Shortage,
    Sourcing,
    SupplyOrderRef,
    SupplyTarget,
)
from shared.contracts.billing import (
    AdjustCredit,
    CreditAdjusted,
    CreditLimitExceeded,
    CreditNoteIssued,
    CreditReleased,
    CreditReserved,
    InvoiceIssued,
    IssueCreditNote,
    IssueInvoice,
    PaymentReceived,
    PaymentsRefunded,
    RefundPayments,
    ReleaseCredit,
    ReserveCredit,
)
from shared.contracts.fulfillment import (
    CancelSupply,
    ChangeSupply,
    CheckSupplyChange,
    RaiseSupply,
    SupplyCancelled,
    SupplyChangeChecked,
    SupplyChanged,
    SupplyCompleted,
    SupplyRaised,
)
from shared.contracts.intake import (
    AbsorbOrder,
    OrderConfirmed,
)
from shared.contracts.inventory import (
    AdjustStock,
    CommitStock,
    ReceiveSupply,
    ReleaseStock,
    ReserveStock,
    RestockReturn,
    ReturnRestocked,
    StockAdjusted,
    StockCommitted,
    StockReceived,
    StockReleased,
    StockReserved,
    StockShort,
)
from shared.contracts.logistics import (
    CancelShipment,
    CreateShipment,
    HoldShipment,
    ShipmentCancelled,
    ShipmentCreated,
    ShipmentDelayed,
    ShipmentDelivered,
    ShipmentDispatched,
    ShipmentHeld,
    ShipmentLost,
)
from shared.contracts.parking import (
    MessageParked,
)
from shared.contracts.timers import (
    DeadlinePassed,
)


def _declared(base: type[Message]) -> list[type[Message]]:
    """Every message class declared in this package below ``base``: the registry builds itself."""
    found: list[type[Message]] = []
    for cls in base.__subclasses__():
        if cls.__module__.startswith(__name__ + "."):
            found.append(cls)
        found += _declared(cls)
    return found


# type name -> class, for every command and event of the package: a new message registers itself.
MESSAGE_TYPES: dict[str, type[Message]] = {
    cls.__name__: cls for cls in _declared(Message) if cls not in (Command, Event)
}

__all__ = [
    "MESSAGE_TYPES",
    "AbsorbOrder",
    "AdjustCredit",
    "AdjustStock",
    "CancelShipment",
    "CancelSupply",
    "ChangeSupply",
    "CheckSupplyChange",
    "Command",
    "CommitStock",
    "CreateShipment",
    "CreditAdjusted",
    "CreditLimitExceeded",
    "CreditNoteIssued",
    "CreditReleased",
    "CreditReserved",
    "DeadlinePassed",
    "Event",
    "HoldShipment",
    "InvoiceIssued",
    "IssueCreditNote",
    "IssueInvoice",
    "LineQty",
    "Message",
    "MessageParked",
    "OrderConfirmed",
    "PaymentReceived",
    "PaymentsRefunded",
    "PricedLine",
    "Priority",
    "RaiseSupply",
    "ReceiveSupply",
    "RefundPayments",
    "ReleaseCredit",
    "ReleaseStock",
    "ReserveCredit",
    "ReserveStock",
    "RestockReturn",
    "ReturnCompleted",
    "ReturnRejected",
    "ReturnRestocked",
    "ShipmentCancelled",
    "ShipmentCreated",
    "ShipmentDelayed",
    "ShipmentDelivered",
    "ShipmentDispatched",
    "ShipmentHeld",
    "ShipmentLost",
    "Shortage",
    "Sourcing",
    "StockAdjusted",
    "StockCommitted",
    "StockReceived",
    "StockReleased",
    "StockReserved",
    "StockShort",
    "SupplyCancelled",
    "SupplyChangeChecked",
    "SupplyChanged",
    "SupplyCompleted",
    "SupplyOrderRef",
    "SupplyRaised",
    "SupplyTarget",
]
