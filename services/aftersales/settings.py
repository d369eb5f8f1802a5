"""Aftersales settings: the platform's plus how the return saga behaves under contention."""

from __future__ import annotations

from typing import ClassVar

from pydantic import AliasChoices, Field

from shared.settings import ServiceSettings, env_alias

_env = env_alias("aftersales")  # AFTERSALES_<NAME>, else <NAME>, else the field name (shared.settings)


class Settings(ServiceSettings):
    """Aftersales service settings (environment variables, fail fast on bad values)."""

    service_name: ClassVar[str] = "aftersales"
    port: int = Field(default=8006, validation_alias=AliasChoices("AFTERSALES_PORT", "PORT", "port"))

    # Optimistic writes (a return's version, an order's refund ledger, a new return racing another
    # return of the same order) are retried in place this often before giving up: the bus then
    # retries a message with back-off, and an HTTP caller gets 409 and may simply try again.
    write_attempts: int = Field(default=20, ge=1, validation_alias=_env("write_attempts"))
    # GET /returns answers at most this many returns.
    max_page: int = Field(default=200, ge=1, validation_alias=_env("max_page"))
