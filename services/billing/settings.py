"""Billing settings: the platform's plus the tax rate of invoices (R6.1)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from shared.settings import ServiceSettings, env_alias

_env = env_alias("billing")  # BILLING_<NAME>, else <NAME>, else the field name (shared.settings)


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
