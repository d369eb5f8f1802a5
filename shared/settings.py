"""Settings every service shares, read from the environment (fail fast on bad values)."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Annotated, Any, ClassVar, TypeVar

from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from shared.bounds import DEFAULT_MAX_BODY_BYTES
from shared.registry import REGISTRY

URLS = {entry.name: entry.default_url for entry in REGISTRY}


def env_alias(service: str) -> Callable[[str], AliasChoices]:
    """The one meaning of a service setting's names (issue 6): ``<SERVICE>_<NAME>`` in the
    environment wins over the shared ``<NAME>``, and the field name works as a bootstrap() override."""

    def alias(name: str) -> AliasChoices:
        return AliasChoices(f"{service.upper()}_{name.upper()}", name.upper(), name)

    return alias


S = TypeVar("S", bound="ServiceSettings")


def settings_for(cls: type[S], settings: S | None, overrides: dict[str, Any]) -> S:
    """The one meaning of ``bootstrap(settings, **overrides)`` in every service: ``overrides``
    replace fields of ``settings`` (or of the settings the environment gives), validated."""
    base = settings if settings is not None else cls()
    return cls.model_validate({**base.model_dump(), **overrides}) if overrides else base


class ServiceSettings(BaseSettings):
    """Base settings; a service subclasses it, names itself and adds its business thresholds."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore", populate_by_name=True)

    service_name: ClassVar[str] = "service"

    amqp_url: str = ""  # see _bus_account: the service's own RabbitMQ user (issue 7)
    mongo_url: str = "mongodb://127.0.0.1:27017/?directConnection=true"
    # Prefixes isolate one deployment (or one test run) from another on shared servers.
    bus_prefix: str = "oms"
    db_prefix: str = "oms"
    host: str = "127.0.0.1"
    port: int = 8000

    # Where the other services answer (shared/registry.py has the default ports).
    intake_url: str = URLS["intake"]
    inventory_url: str = URLS["inventory"]
    fulfillment_url: str = URLS["fulfillment"]
    logistics_url: str = URLS["logistics"]
    billing_url: str = URLS["billing"]
    aftersales_url: str = URLS["aftersales"]
    http_timeout_s: float = 5.0
    # Keep-alive: the server holds an idle connection longer than any client keeps one, so a client
    # never sends on a connection the server is closing at that moment ("Server disconnected
    # without sending a response"; uvicorn's and httpx's defaults are both 5 s, a race).
    http_keep_alive_s: int = Field(default=30, ge=1)
    http_client_keep_alive_s: float = Field(default=10.0, gt=0)
    # Consecutive PoolTimeouts after which the outgoing HTTP client is replaced (shared.http_client).
    http_pool_reset_after: int = Field(default=3, ge=1)
    # How long a readiness probe of a dependency (GET <url>/health) may take.
    http_probe_timeout_s: float = Field(default=2.0, gt=0)

    prefetch: int = Field(default=32, ge=1)
    # Back-off tiers for a failed handler; attempt n waits retry_delays_ms[min(n, last)].
    retry_delays_ms: Annotated[list[int], NoDecode] = [200, 1000, 5000]
    max_attempts: int = Field(default=5, ge=1)
    # Quorum-queue redeliveries (crash loops) before RabbitMQ dead-letters to the parking queue.
    delivery_limit: int = Field(default=10, ge=1)
    relay_interval_s: float = 1.0
    relay_grace_s: float = 3.0
    # Published outbox entries of stores that use flush_deferred are cleared in batches this often.
    outbox_clear_interval_s: float = Field(default=0.2, gt=0)
    # Durable timers (shared.timers): scan period, and how long a claim keeps other replicas off
    # a timer (a replica that dies holding one is replaced after this).
    timer_interval_s: float = Field(default=1.0, gt=0)
    timer_lease_s: float = Field(default=30.0, gt=0)
    shutdown_grace_s: float = 10.0

    # Access (issue 7, shared/access): the key this service sends when it calls another one
    # (``<SERVICE>_API_KEY`` wins over ``API_KEY``), how long a key's record is trusted before it
    # is read again (a revocation takes effect within this), how often its last use is written,
    # and the rate per key: ``rate_limits`` "role=rate/burst,..." over ``rate_limit_default``.
    api_key: str | None = Field(default=None, repr=False)
    auth_cache_s: float = Field(default=5.0, ge=0)
    auth_touch_s: float = Field(default=60.0, gt=0)
    rate_limit_default: str = "50/100"
    rate_limits: str = "service=2000/4000,admin=500/1000,ops=200/400,warehouse=200/400"

    # Request bodies over this many bytes are a 413 before they are read (shared.door, issue 7).
    max_body_bytes: int = Field(default=DEFAULT_MAX_BODY_BYTES, ge=1)
    # Load shedding (shared.door.LoadShedding, issue 9): at most this many requests in the process
    # at once (``<SERVICE>_MAX_IN_FLIGHT`` wins over ``MAX_IN_FLIGHT``); the next one is a 503
    # ``overloaded`` with ``Retry-After: shed_retry_after_s`` at once, never a wait that times out.
    # /health, /ready and /ops/* are never shed.
    max_in_flight: int = Field(default=128, ge=1)
    shed_retry_after_s: int = Field(default=1, ge=1)

    # The store client's bounds (issue 9): how long an operation waits for a reachable store
    # (server selection), for a new connection, and for an answer on an open one. A request that
    # meets an unreachable store is a 503 ``store_unavailable`` within about these, never a hang.
    mongo_server_selection_timeout_ms: int = Field(default=5_000, ge=100)
    mongo_connect_timeout_ms: int = Field(default=2_000, ge=100)
    mongo_socket_timeout_ms: int = Field(default=20_000, ge=100)

    # The bus's accounts (issue 7, shared/bus/access.py): service S is the RabbitMQ user
    # bus_user_template with {service} = S and connects with <SERVICE>_AMQP_URL, else AMQP_URL, else
    # that user on the local broker with <SERVICE>_AMQP_PASSWORD or its development password.
    # Consumers refuse (park) a message its sender may not send; bus_trusted_senders are operator
    # accounts trusted to send anything (comma-separated; guest is the local broker's operator, the
    # deployments set their own), and without a user_id a message is refused while
    # bus_require_sender is on.
    bus_user_template: str = "oms-{service}"
    bus_trusted_senders: Annotated[list[str], NoDecode] = ["guest"]
    bus_require_sender: bool = True

    log_level: str = "INFO"
    log_json: bool = True
    otel_exporter_otlp_endpoint: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _service_port(cls, data: Any) -> Any:
        # INTAKE_PORT ... AFTERSALES_PORT name one service's port where several share an environment;
        # the specific name wins over the shared PORT (also for its API key and its door's bound).
        if not isinstance(data, dict):
            return data
        for name in ("port", "api_key", "max_in_flight"):
            own = os.environ.get(f"{cls.service_name.upper()}_{name.upper()}")
            if own:
                data = {**data, name: own}
        return data

    @field_validator("retry_delays_ms", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        # "200,1000,5000" or a JSON list "[200, 1000]" both read naturally from the environment.
        if isinstance(value, str):
            return [int(part) for part in value.strip("[] ").split(",") if part.strip()]
        return value

    @field_validator("rate_limits", "rate_limit_default")
    @classmethod
    def _rates(cls, value: str) -> str:
        from shared.access.door import parse_rate_limits

        parse_rate_limits(value if "=" in value or not value else f"admin={value}")
        return value

    @model_validator(mode="before")
    @classmethod
    def _bus_account(cls, data: Any) -> Any:
        # <SERVICE>_AMQP_URL wins over AMQP_URL; with neither, the service's own development account
        # (shared.bus.access), never the broker's guest (issue 7).
        if not isinstance(data, dict):
            return data
        from shared.bus.access import LOCAL_BROKER, service_url

        own = os.environ.get(f"{cls.service_name.upper()}_AMQP_URL")
        if own:
            return {**data, "amqp_url": own}
        if not data.get("amqp_url"):
            template = data.get("bus_user_template") or os.environ.get("BUS_USER_TEMPLATE")
            url = service_url(LOCAL_BROKER, cls.service_name, template or "oms-{service}")
            return {**data, "amqp_url": url}
        return data

    @field_validator("bus_trusted_senders", mode="before")
    @classmethod
    def _names(cls, value: object) -> object:
        if isinstance(value, str):  # "guest,ops-admin"; empty: nobody
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("bus_user_template")
    @classmethod
    def _template(cls, value: str) -> str:
        if value.format(service="x") == value.format(service="y"):
            raise ValueError("bus_user_template must contain {service}")
        return value

    @property
    def db_name(self) -> str:
        return f"{self.db_prefix}_{self.service_name}"
