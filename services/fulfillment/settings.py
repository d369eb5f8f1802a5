"""Fulfillment settings: the platform's plus the supply thresholds of R4.2."""

from __future__ import annotations

import json
from typing import Annotated, ClassVar

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import NoDecode

from shared.settings import ServiceSettings


def _env(name: str) -> AliasChoices:
    # Accept FULFILLMENT_<NAME> in the environment and the plain field name as an override.
    return AliasChoices(f"FULFILLMENT_{name.upper()}", name)


class Settings(ServiceSettings):
    """Fulfillment service settings (environment variables, fail fast on bad values)."""

    service_name: ClassVar[str] = "fulfillment"
    port: int = 8003

    # R4.2: a catalogue lead time of 0 means "not known"; expect the goods after this many days.
    default_lead_time_days: int = Field(default=7, ge=1, validation_alias=_env("default_lead_time_days"))
    # Optimistic writes retried in place before the message goes back to the bus's back-off.
    write_attempts: int = Field(default=50, ge=1, validation_alias=_env("write_attempts"))
    # GET /supply-orders returns at most this many.
    max_page: int = Field(default=500, ge=1, validation_alias=_env("max_page"))

    # Work-around until shared/settings.py does it: pydantic-settings JSON-decodes list fields before
    # any validator runs, so RETRY_DELAYS_MS=100,300,600 (the documented form) failed at start-up.
    retry_delays_ms: Annotated[list[int], NoDecode] = [200, 1000, 5000]

    @field_validator("retry_delays_ms", mode="before")
    @classmethod
    def _json_list(cls, value: object) -> object:
        return json.loads(value) if isinstance(value, str) and value.startswith("[") else value
