"""Service defaults: one place that builds a service's app, connections, health and shutdown.

Nothing connects at import time: ``create_service_app`` returns an app whose lifespan
opens the store, the broker and the HTTP client, lets the service ``wire`` its stores
and subscriptions, then starts consuming and the outbox relay. SIGTERM (uvicorn)
runs the lifespan's exit: stop consuming, let in-flight handlers finish, close.
"""

from __future__ import annotations

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

from shared.bus import Bus
from shared.http import error_body, install_error_handlers
from shared.logs import configure_logging
from shared.outbox import Outbox
from shared.settings import ServiceSettings
from shared.telemetry import configure_tracing

log = logging.getLogger(__name__)


@dataclass
class ServiceContext:
    """Everything a service's handlers and routes may depend on, built once at start-up."""

    settings: ServiceSettings
    client: AsyncMongoClient[dict[str, Any]]
    db: AsyncDatabase[dict[str, Any]]
    bus: Bus
    outbox: Outbox
    http: httpx.AsyncClient
    state: dict[str, Any] = field(default_factory=dict)


Wire = Callable[[ServiceContext], Awaitable[None]]


def get_context(request: Request) -> ServiceContext:
    return request.app.state.ctx  # type: ignore[no-any-return]


Context = Annotated[ServiceContext, Depends(get_context)]


def _mongo_client(settings: ServiceSettings) -> AsyncMongoClient[dict[str, Any]]:
    return AsyncMongoClient(
        settings.mongo_url, tz_aware=True, serverSelectionTimeoutMS=10_000, appname=settings.service_name
    )


def create_service_app(
    settings: ServiceSettings,
    *,
    wire: Wire,
    routers: Sequence[APIRouter] = (),
    title: str | None = None,
    description: str = "",
) -> FastAPI:
    """Build a service: lifespan wiring, routers, error format, health/ready, telemetry."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        client = _mongo_client(settings)
        bus = Bus(settings)
        http = httpx.AsyncClient(timeout=settings.http_timeout_s)
        HTTPXClientInstrumentor.instrument_client(http)
        ctx = ServiceContext(
            settings=settings,
            client=client,
            db=client[settings.db_name],
            bus=bus,
            outbox=Outbox(bus, settings),
            http=http,
        )
        app.state.ctx = ctx
        await wire(ctx)
        await ctx.outbox.create_indexes()
        await bus.connect()
        await bus.start_consuming()
        ctx.outbox.start()
        log.info("service started", extra={"port": settings.port, "db": settings.db_name})
        try:
            yield
        finally:
            log.info("service stopping")
            await bus.stop_consuming(settings.shutdown_grace_s)
            await ctx.outbox.stop()
            await bus.close()
            await http.aclose()
            await client.close()

    configure_logging(settings.service_name, settings.log_level, settings.log_json)
    configure_tracing(settings)
    app = FastAPI(
        title=title or f"{settings.service_name} service", description=description, lifespan=lifespan
    )
    install_error_handlers(app)

    @app.get("/health", tags=["ops"])
    async def health() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok", "service": settings.service_name}

    @app.get("/ready", tags=["ops"])
    async def ready(ctx: Context) -> JSONResponse:
        """Readiness: the broker and the store are reachable."""
        checks = {"broker": ctx.bus.connected, "store": False}
        try:
            await ctx.client.admin.command("ping")
            checks["store"] = True
        except Exception as exc:
            log.warning("store not reachable", extra={"error": str(exc)})
        if all(checks.values()):
            return JSONResponse({"status": "ready", "checks": checks})
        return JSONResponse(
            {**error_body("not_ready", "a dependency is not reachable"), "checks": checks}, 503
        )

    for router in routers:
        app.include_router(router)
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
    )
