"""Billing settings: the platform's plus the tax rules of invoices (R6.1)."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from shared.settings import ServiceSettings, env_alias

_env = env_alias("billing")  # BILLING_<NAME>, else <NAME>, else the field name (shared.settings)


class Settings(ServiceSettings):
    """Billing service settings (environment variables, fail fast on bad values)."""

    service_name: ClassVar[str] = "billing"
    port: int = 8005

    # VAT in basis points: 1300 = 13 % (R6.1). Intake grosses up net-priced orders with the same
    # setting (VAT_RATE_BP), so an invoice's total and the order's agree to the fen.
    vat_rate_bp: int = Field(default=1300, ge=0, le=10_000, validation_alias=_env("vat_rate_bp"))
    # The taxpayer class that gets a VAT special invoice when it gave a tax number (R6.1).
    special_invoice_taxpayer: Literal["general", "small_scale"] = Field(
        default="general", validation_alias=_env("special_invoice_taxpayer")
    )
    # Optimistic writes of one document retried in place before the bus's back-off.
    write_attempts: int = Field(default=50, ge=1, validation_alias=_env("write_attempts"))
    # A list returns at most this many documents a page.
    max_page: int = Field(default=500, ge=1, validation_alias=_env("max_page"))
    # GET /customers/{id} lists at most this many of the customer's open orders.
    open_orders_shown: int = Field(default=100, ge=0, le=1000, validation_alias=_env("open_orders_shown"))
