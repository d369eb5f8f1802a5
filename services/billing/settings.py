"""Billing settings: the platform's plus the tax rate of invoices (R6.1)."""

from __future__ import annotations

import json
from typing import Annotated, ClassVar

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import NoDecode

from shared.settings import ServiceSettings


def _env(name: str) -> AliasChoices:
    # BILLING_<NAME> wins over the plain <NAME> (README), and the field name works as an override.
    return AliasChoices(f"BILLING_{name.upper()}", name.upper(), name)


class Settings(ServiceSettings):
    """Billing service settings (environment variables, fail fast on bad values)."""

    service_name: ClassVar[str] = "billing"
    port: int = 8005

    # VAT in basis points: 1300 = the 13 % special invoice of general taxpayers (R6.1).
    vat_rate_bp: int = Field(default=1300, ge=0, le=10_000, validation_alias=_env("vat_rate_bp"))
    # Optimistic writes of one customer document retried in place before the bus's back-off.
    write_attempts: int = Field(default=50, ge=1, validation_alias=_env("write_attempts"))
    # GET /invoices returns at most this many documents.
    max_page: int = Field(default=500, ge=1, validation_alias=_env("max_page"))

    # Work-around until shared/settings.py does it: pydantic-settings JSON-decodes list fields before
    # any validator runs, so RETRY_DELAYS_MS=100,300,600 (the documented form) failed at start-up.
    retry_delays_ms: Annotated[list[int], NoDecode] = [200, 1000, 5000]

    @field_validator("retry_delays_ms", mode="before")
    @classmethod
    def _json_list(cls, value: object) -> object:
        return json.loads(value) if isinstance(value, str) and value.startswith("[") else value
