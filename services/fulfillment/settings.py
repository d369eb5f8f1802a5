"""Fulfillment settings: the platform's plus the supply thresholds of R4.2."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from shared.bounds import MAX_LEAD_TIME_DAYS
from shared.settings import ServiceSettings, env_alias

_env = env_alias("fulfillment")  # FULFILLMENT_<NAME>, else <NAME>, else the field name (shared.settings)


class Settings(ServiceSettings):
    """Fulfillment service settings (environment variables, fail fast on bad values)."""

    service_name: ClassVar[str] = "fulfillment"
    port: int = 8003

    # R4.2: a catalogue lead time of 0 means "not known"; expect the goods after this many days.
    default_lead_time_days: int = Field(
        default=7, ge=1, le=MAX_LEAD_TIME_DAYS, validation_alias=_env("default_lead_time_days")
    )
    # Optimistic writes retried in place before the message goes back to the bus's back-off.
    write_attempts: int = Field(default=50, ge=1, validation_alias=_env("write_attempts"))
    # GET /supply-orders returns at most this many.
    max_page: int = Field(default=500, ge=1, validation_alias=_env("max_page"))
