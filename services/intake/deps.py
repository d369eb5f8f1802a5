"""What intake's handlers and routes depend on, built once by ``main.bootstrap`` (STYLE.md)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends

from services.intake.adapters import (
    HttpCatalogue,
    HttpCustomers,
    MongoIdempotencyKeys,
    MongoOrderNumbers,
    MongoOrderStore,
)
from services.intake.settings import Settings
from shared.envelope import utcnow_ms
from shared.service import Context


@dataclass
class Intake:
    """The handlers' dependencies, built once by bootstrap()."""

    settings: Settings
    orders: MongoOrderStore
    numbers: MongoOrderNumbers
    keys: MongoIdempotencyKeys
    catalogue: HttpCatalogue
    customers: HttpCustomers
    # The saga's durable timers (shared.timers): payment reminders and expiry (R3.2).
    timers: Any = None

    def now(self) -> datetime:
        return utcnow_ms()  # as the store keeps it: the POST answer equals a later GET


def get_intake(ctx: Context) -> Intake:
    return ctx.state["intake"]  # type: ignore[no-any-return]


Deps = Annotated[Intake, Depends(get_intake)]
