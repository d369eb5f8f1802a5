"""Logistics settings: the platform's plus the carrier and mode rules of R5.1."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from shared.settings import ServiceSettings, env_alias

_env = env_alias("logistics")  # LOGISTICS_<NAME>, else <NAME>, else the field name (shared.settings)


class Settings(ServiceSettings):
    """Logistics service settings (environment variables, fail fast on bad values)."""

    service_name: ClassVar[str] = "logistics"
    port: int = 8004

    # R5.1: express by default ...
    default_carrier: str = Field(default="SF Express", min_length=1, validation_alias=_env("default_carrier"))
    # ... a dedicated vehicle for orders above this amount (fen; 10,000 yuan in the documents) ...
    dedicated_vehicle_above: int = Field(
        default=1_000_000, ge=0, validation_alias=_env("dedicated_vehicle_above")
    )
    dedicated_carrier: str = Field(
        default="Deppon Freight", min_length=1, validation_alias=_env("dedicated_carrier")
    )
    # ... and the carrier by destination: address prefix or province -> carrier (JSON in the environment).
    region_carriers: dict[str, str] = Field(
        default_factory=lambda: {"新疆": "China Post EMS", "西藏": "China Post EMS"},
        validation_alias=_env("region_carriers"),
    )
    # Optimistic writes of one shipment retried in place before the bus's back-off.
    write_attempts: int = Field(default=50, ge=1, validation_alias=_env("write_attempts"))
