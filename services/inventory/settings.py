"""Inventory settings: the platform's plus where goods are counted in and out."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from shared.settings import ServiceSettings, env_alias

_env = env_alias("inventory")  # INVENTORY_<NAME>, else <NAME>, else the field name (shared.settings)


class Settings(ServiceSettings):
    """Inventory service settings (environment variables, fail fast on bad values)."""

    service_name: ClassVar[str] = "inventory"
    port: int = 8002

    # PUT /stock without a warehouse counts this one (API.md: warehouse is optional).
    default_warehouse: str = Field(default="main", validation_alias=_env("default_warehouse"))
    # Where goods from production or purchase (R4.2) and returned goods (R8.3) are put away.
    receiving_warehouse: str = Field(default="main", validation_alias=_env("receiving_warehouse"))
    returns_warehouse: str = Field(default="main", validation_alias=_env("returns_warehouse"))
    # Conditional writes retried in place before the message goes back to the bus's back-off.
    write_attempts: int = Field(default=50, ge=1, validation_alias=_env("write_attempts"))
    # GET /products without ?sku= returns at most this many.
    max_page: int = Field(default=500, ge=1, validation_alias=_env("max_page"))
