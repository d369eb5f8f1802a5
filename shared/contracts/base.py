"""The base of every message, and the value types payloads share (ids and primitives only)."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

Priority = Literal["normal", "urgent", "key"]
Sourcing = Literal["make", "buy"]


class Message(BaseModel):
    """Base of every command and event; ``KIND``/``SERVICE`` fix its routing key."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    KIND: ClassVar[Literal["command", "event"]]
    SERVICE: ClassVar[str]  # target service of a command, producer of an event
    # The newest version of this message's payload this code reads and writes (issue 9): it goes
    # out as the envelope's ``version``, and a consumer parks an envelope of a newer version with
    # "newer than this service understands" instead of guessing at it (shared.envelope). Bump it
    # only for a change older code cannot read; this class must keep reading every older version
    # (tests/fixtures/replay holds envelopes of version 1 that must keep loading).
    VERSION: ClassVar[int] = 1

    order_id: str

    @classmethod
    def type_name(cls) -> str:
        return cls.__name__

    @classmethod
    def routing_key(cls) -> str:
        prefix = "cmd" if cls.KIND == "command" else "evt"
        return f"{prefix}.{cls.SERVICE}.{cls.__name__}"


class Command(Message):
    KIND: ClassVar[Literal["command", "event"]] = "command"
    # Who sends it is read from the code (shared/bus/traffic.py: the services that name the class);
    # SENT_BY narrows that when a service names a command it never sends, e.g. to classify it. It
    # may only name services whose code names the command (checked), and it limits the senders'
    # RabbitMQ users and what consumers accept (issue 7).
    SENT_BY: ClassVar[tuple[str, ...]] = ()


class Event(Message):
    KIND: ClassVar[Literal["command", "event"]] = "event"


class LineQty(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    sku: str
    quantity: int = Field(gt=0)


class PricedLine(LineQty):
    unit_price: int = Field(ge=0)
    amount: int = Field(ge=0)


class Shortage(LineQty):
    """Units of a SKU the warehouse could not reserve, with how to source them (R4.2)."""

    sourcing: Sourcing
    lead_time_days: int = Field(ge=0)


class SupplyOrderRef(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    supply_order_id: str
    kind: Literal["production", "purchase"]
    sku: str
    quantity: int
    expected_at: str  # ISO 8601


class SupplyTarget(BaseModel):
    """What one SKU still needs from supply after a change (0: its open supply order is cancelled)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    sku: str
    quantity: int = Field(ge=0)
    sourcing: str = "buy"
    lead_time_days: int = Field(0, ge=0)
