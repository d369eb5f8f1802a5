"""Intake settings: the platform's plus the thresholds of R1.7 and R2.2 (never constants)."""

from __future__ import annotations

from typing import ClassVar
from zoneinfo import ZoneInfo

from pydantic import Field, field_validator

from services.intake.domain.screening import Policy
from shared.bounds import MAX_LINES
from shared.settings import ServiceSettings, env_alias
from shared.terms import PAYMENT_TERMS

_env = env_alias("intake")  # INTAKE_<NAME>, else <NAME>, else the field name (shared.settings)


class Settings(ServiceSettings):
    """Intake service settings (environment variables, fail fast on bad values)."""

    service_name: ClassVar[str] = "intake"
    port: int = 8001

    # R1.7: urgent when the customer needs the goods within N days; key when over M units.
    urgent_within_days: int = Field(3, ge=0, validation_alias=_env("urgent_within_days"))
    key_order_units: int = Field(100, ge=1, validation_alias=_env("key_order_units"))
    # R2.2: orders over this total (fen; the documents' 10,000 yuan) wait for a manager after the
    # credit check; set INTAKE_APPROVAL_OVER higher to loosen it.
    approval_over: int | None = Field(1_000_000, ge=0, validation_alias=_env("approval_over"))
    # Payment terms (R3.2, issue 5): deposit share for deposit/T/T terms; how long an order waits
    # at a payment gate before it is cancelled; reminders (hours after the wait began, comma
    # separated); the terms whose orders a manager signs off; the VAT rate for net prices (R1.2).
    deposit_percent: int = Field(30, ge=0, le=100, validation_alias=_env("deposit_percent"))
    payment_wait_h: float = Field(72.0, gt=0, validation_alias=_env("payment_wait_h"))
    payment_reminders_h: str = Field("24,48", validation_alias=_env("payment_reminders_h"))
    sign_off_terms: str = Field("monthly,prepaid", validation_alias=_env("sign_off_terms"))
    # R2.2: orders over this total (fen; 100,000 yuan) need the general manager after a manager.
    general_manager_over: int | None = Field(10_000_000, ge=0, validation_alias=_env("general_manager_over"))
    # R1.5, R2.2: channels that may negotiate prices, and the discount they may give on their own.
    negotiating_channels: str = Field(
        "sales_rep,distributor,erp,edi", validation_alias=_env("negotiating_channels")
    )
    max_discount_percent: int = Field(10, ge=0, le=100, validation_alias=_env("max_discount_percent"))
    # R1.6 brushing: N small orders (at most M units) to one address or phone, different names, H hours.
    brushing_min_names: int = Field(3, ge=2, validation_alias=_env("brushing_min_names"))
    brushing_max_units: int = Field(2, ge=1, validation_alias=_env("brushing_max_units"))
    brushing_within_hours: int = Field(24, ge=1, validation_alias=_env("brushing_within_hours"))
    # R2.4: the first order confirmation is due this many hours after receipt (a breach if late).
    confirmation_due_h: float = Field(2.0, gt=0, validation_alias=_env("confirmation_due_h"))
    # R2.3: how long a reviewer's claim on an order lasts, and how many one claim takes at most.
    claim_ttl_s: float = Field(900.0, gt=0, validation_alias=_env("claim_ttl_s"))
    claim_batch_max: int = Field(20, ge=1, validation_alias=_env("claim_batch_max"))
    vat_rate_bp: int = Field(1300, ge=0, le=10_000, validation_alias=_env("vat_rate_bp"))
    # R1.4: channels whose orders may come without a delivery date (comma separated; none by default).
    required_by_optional_channels: str = Field("", validation_alias=_env("required_by_optional_channels"))
    # When inventory or billing does not answer at the door, orders may still be checked against
    # their last answer for a SKU or customer if it is younger than this (0 = never fall back).
    door_fallback_s: float = Field(600.0, ge=0, validation_alias=_env("door_fallback_s"))
    # R1.6 screening against the customer's earlier orders (flags only, never a refusal).
    duplicate_within_hours: int = Field(24, ge=0, validation_alias=_env("duplicate_within_hours"))
    unusual_volume_factor: int = Field(10, ge=1, validation_alias=_env("unusual_volume_factor"))
    usual_volume_min_orders: int = Field(3, ge=1, validation_alias=_env("usual_volume_min_orders"))
    screening_history: int = Field(20, ge=0, validation_alias=_env("screening_history"))
    # Order numbers (R1.3) and "within N days" (R1.7) follow the business's calendar.
    business_timezone: str = Field("Asia/Shanghai", validation_alias=_env("business_timezone"))
    # Optimistic writes retried in place before a message goes back to the bus's back-off.
    write_attempts: int = Field(20, ge=1, validation_alias=_env("write_attempts"))
    # A duplicate POST waits this long for the first one to finish before taking its claim over.
    idempotency_wait_s: float = Field(5.0, gt=0, validation_alias=_env("idempotency_wait_s"))
    # Lines one order may have (issue 7); more is a 422 naming ``lines`` before the catalogue is asked.
    max_lines: int = Field(500, ge=1, le=MAX_LINES, validation_alias=_env("max_lines"))
    # GET /orders page size: default and ceiling.
    page_size: int = Field(50, ge=1, validation_alias=_env("page_size"))
    max_page: int = Field(200, ge=1, validation_alias=_env("max_page"))

    @field_validator("payment_reminders_h")
    @classmethod
    def _hours(cls, value: str) -> str:
        for part in filter(None, (p.strip() for p in value.split(","))):
            if float(part) <= 0:
                raise ValueError(f"reminder hours must be positive, not {part}")
        return value

    @field_validator("sign_off_terms")
    @classmethod
    def _terms(cls, value: str) -> str:
        unknown = [t for t in (p.strip() for p in value.split(",")) if t and t not in PAYMENT_TERMS]
        if unknown:
            raise ValueError(f"unknown payment terms {unknown}; known: {', '.join(PAYMENT_TERMS)}")
        return value

    @field_validator("business_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        ZoneInfo(value)  # raises at start-up on a zone that does not exist
        return value

    @property
    def policy(self) -> Policy:
        return Policy(
            urgent_within_days=self.urgent_within_days,
            key_order_units=self.key_order_units,
            approval_over=self.approval_over,
            duplicate_within_hours=self.duplicate_within_hours,
            unusual_volume_factor=self.unusual_volume_factor,
            usual_volume_min_orders=self.usual_volume_min_orders,
            vat_rate_bp=self.vat_rate_bp,
            deposit_percent=self.deposit_percent,
            payment_wait_s=round(self.payment_wait_h * 3600),
            payment_reminders_s=tuple(
                round(float(p) * 3600) for p in self.payment_reminders_h.split(",") if p.strip()
            ),
            sign_off_terms=tuple(t.strip() for t in self.sign_off_terms.split(",") if t.strip()),
            general_manager_over=self.general_manager_over,
            confirmation_due_s=round(self.confirmation_due_h * 3600),
            negotiating_channels=tuple(c.strip() for c in self.negotiating_channels.split(",") if c.strip()),
            max_discount_percent=self.max_discount_percent,
            brushing_min_names=self.brushing_min_names,
            brushing_max_units=self.brushing_max_units,
            brushing_within_hours=self.brushing_within_hours,
            date_optional_channels=tuple(
                c.strip() for c in self.required_by_optional_channels.split(",") if c.strip()
            ),
        )
