"""Service defaults: one place that builds a service's app, connections, health and shutdown.

Nothing connects at import time: ``create_service_app`` returns an app whose lifespan
opens the store, the broker and the HTTP client, lets the service ``wire`` its stores
and subscriptions, then starts consuming, the outbox relay and the timer scanner. SIGTERM
(uvicorn) runs the lifespan's exit: stop consuming, let in-flight handlers finish, close.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Annotated, Any

import httpx
import uvicorn
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from shared import metrics
from shared.access.door import ERROR_RESPONSES, Gate, RateLimiter, parse_rate_limits, public
from shared.access.keys import access_db_name
from shared.access.registry import KeyRegistry
from shared.bus import Bus
from shared.door import Admission, DoorMiddleware, LoadShedding
from shared.http import error_body, install_error_handlers
from shared.http_client import ResilientHttp
from shared.logs import configure_logging
from shared.outbox import Outbox
from shared.settings import ServiceSettings
from shared.telemetry import configure_tracing
from shared.timers import TIMERS_COLLECTION, Timers

log = logging.getLogger(__name__)


@dataclass
class ServiceContext:
    """Everything a service's handlers and routes may depend on, built once at start-up."""

    settings: ServiceSettings
    client: AsyncMongoClient[dict[str, Any]]
    db: AsyncDatabase[dict[str, Any]]
    bus: Bus
    outbox: Outbox
    # Durable timers of this service (shared.timers): its ``timers`` collection and scanner.
    timers: Timers
    http: httpx.AsyncClient
    # Calls at the door and readiness probes: shielded from cancellation, its pool rebuilt when stuck
    # (shared.http_client). Pass the wrapper itself to an adapter, never its current client.
    resilient_http: ResilientHttp
    # The door's key registry and rate limiter (shared.access.door).
    gate: Gate
    state: dict[str, Any] = field(default_factory=dict)


Wire = Callable[[ServiceContext], Awaitable[None]]
# Extra readiness checks of a service (name -> reachable), added to the broker's and the store's.
ReadyChecks = Callable[[ServiceContext], Awaitable[dict[str, bool]]]


def get_context(request: Request) -> ServiceContext:
    return request.app.state.ctx  # type: ignore[no-any-return]


Context = Annotated[ServiceContext, Depends(get_context)]


def mongo_options(settings: ServiceSettings) -> dict[str, Any]:
    """The store client's options: every wait bounded by a setting (issue 9), so an operation on an
    unreachable store raises a ``ConnectionFailure`` (a 503 ``store_unavailable``, a retried
    delivery) within about ``mongo_server_selection_timeout_ms`` instead of hanging."""
    return {
        "tz_aware": True,
        "appname": settings.service_name,
        "serverSelectionTimeoutMS": settings.mongo_server_selection_timeout_ms,
        "connectTimeoutMS": settings.mongo_connect_timeout_ms,
        "socketTimeoutMS": settings.mongo_socket_timeout_ms,
    }


def _mongo_client(settings: ServiceSettings) -> AsyncMongoClient[dict[str, Any]]:
    return AsyncMongoClient(settings.mongo_url, **metrics.install(mongo_options(settings)))


def _http_client(settings: ServiceSettings, api_key: str | None) -> httpx.AsyncClient:
    # Calls to the other services carry this service's own key (issue 7).
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else None
    limits = httpx.Limits(keepalive_expiry=settings.http_client_keep_alive_s)  # below the server's
    http = httpx.AsyncClient(timeout=settings.http_timeout_s, headers=headers, limits=limits)
    HTTPXClientInstrumentor.instrument_client(http)
    return http


async def _quietly(step: Awaitable[None]) -> None:
    try:
        await step
    except Exception as exc:  # a stopping service must stop even when the store is gone
        log.warning("could not revoke this process's service key", extra={"error": repr(exc)})


def _gate(settings: ServiceSettings, client: AsyncMongoClient[dict[str, Any]]) -> Gate:
    registry = client[access_db_name(settings.db_prefix)]
    keys = KeyRegistry.on(registry, cache_s=settings.auth_cache_s, touch_s=settings.auth_touch_s)
    default = parse_rate_limits(f"admin={settings.rate_limit_default}")["admin"]
    return Gate(keys, RateLimiter(parse_rate_limits(settings.rate_limits), default))


def create_service_app(
    settings: ServiceSettings,
    *,
    wire: Wire,
    routers: Sequence[APIRouter] = (),
    title: str | None = None,
    description: str = "",
    ready_checks: ReadyChecks | None = None,
) -> FastAPI:
    """Build a service: lifespan wiring, routers, error format, health/ready, telemetry.

    ``ready_checks`` adds the service's own dependencies to ``/ready`` (e.g. intake's door).
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        client = _mongo_client(settings)
        bus = Bus(settings)
        gate = _gate(settings, client)
        api_key = settings.api_key or await gate.keys.mint_service_key(settings.service_name)
        http = _http_client(settings, api_key)
        resilient_http = ResilientHttp(
            lambda: _http_client(settings, api_key), reset_after=settings.http_pool_reset_after
        )
        ctx = ServiceContext(
            settings=settings,
            client=client,
            db=client[settings.db_name],
            bus=bus,
            outbox=Outbox(bus, settings),
            timers=Timers(bus, client[settings.db_name][TIMERS_COLLECTION], settings),
            http=http,
            resilient_http=resilient_http,
            gate=gate,
        )
        app.state.ctx = ctx
        await wire(ctx)
        await ctx.outbox.create_indexes()
        await ctx.timers.create_indexes()
        await bus.connect()
        await bus.start_consuming()
        ctx.outbox.start()
        ctx.timers.start()
        log.info("service started", extra={"port": settings.port, "db": settings.db_name})
        try:
            yield
        finally:
            log.info("service stopping")
            await bus.stop_consuming(settings.shutdown_grace_s)
            await ctx.outbox.stop()
            await ctx.timers.stop()
            await bus.close()
            await http.aclose()
            await resilient_http.aclose()
            if not settings.api_key:
                await _quietly(gate.keys.revoke(api_key))
            await client.close()

    configure_logging(settings.service_name, settings.log_level, settings.log_json)
    configure_tracing(settings)
    app = FastAPI(
        title=title or f"{settings.service_name} service", description=description, lifespan=lifespan
    )
    install_error_handlers(app)
    app.add_middleware(DoorMiddleware, max_body_bytes=settings.max_body_bytes)  # 413 / 422 (issue 7)
    # Outermost: a request over the bound is refused before anything else is spent on it (issue 9).
    app.state.admission = Admission(settings.max_in_flight, settings.shed_retry_after_s)
    app.add_middleware(LoadShedding, admission=app.state.admission)

    @app.get("/health", tags=["ops"], dependencies=[public()])
    async def health() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok", "service": settings.service_name}

    @app.get("/ready", tags=["ops"], dependencies=[public()], responses={503: ERROR_RESPONSES[503]})
    async def ready(ctx: Context) -> JSONResponse:
        """Readiness: the broker and the store are reachable, and whatever ``ready_checks`` adds."""

        async def store() -> bool:
            try:
                await ctx.client.admin.command("ping")
                return True
            except Exception as exc:
                log.warning("store not reachable", extra={"error": str(exc)})
                return False

        async def extra() -> dict[str, bool]:
            if ready_checks is None:
                return {}
            try:
                return await ready_checks(ctx)
            except Exception as exc:
                log.warning("readiness checks failed", extra={"error": repr(exc)})
                return {"dependencies": False}

        store_ok, more = await asyncio.gather(store(), extra())
        checks = {"broker": ctx.bus.connected, "store": store_ok, **more}
        if all(checks.values()):
            return JSONResponse({"status": "ready", "checks": checks})
        failed = ", ".join(name for name, ok in checks.items() if not ok)
        return JSONResponse(
            {**error_body("not_ready", f"a dependency is not reachable: {failed}"), "checks": checks}, 503
        )

    for router in routers:
        app.include_router(router)
    app.include_router(metrics.router)
    FastAPIInstrumentor.instrument_app(app, excluded_urls="health,ready")
    return app


def run(app: FastAPI, settings: ServiceSettings) -> None:
    """Serve until SIGTERM/SIGINT; in-flight requests and handlers get a grace period.

    uvicorn re-raises the signal once it has shut down gracefully; answering it with exit
    status 0 lets a supervisor tell a clean stop from a crash.
    """
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: sys.exit(0))
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=int(settings.shutdown_grace_s),
        timeout_keep_alive=settings.http_keep_alive_s,
    )
