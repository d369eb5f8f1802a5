"""The one HTTP error format (API.md): ``{"error": {"code", "message", "fields"}}``; bad input never 5xx."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pymongo.errors import ConnectionFailure
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.errors import ConcurrencyError, DependencyUnavailable, DomainError

log = logging.getLogger(__name__)


class ApiError(Exception):
    """Raise from a route or handler to answer with the contract's error body."""

    def __init__(
        self, status: int, code: str, message: str, fields: dict[str, Any] | None = None,
        *, headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.fields = status, code, message, fields or {}
        self.headers = headers


def error_body(code: str, message: str, fields: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def _field_path(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        return JSONResponse(error_body("malformed_json", "the request body is not valid JSON"), 400)
    fields: dict[str, str] = {}
    for err in errors:
        # An unknown or server-owned field (status, total, exposure, by, ...) is named, never stored.
        message = "unknown field" if err.get("type") == "extra_forbidden" else str(err.get("msg", "invalid"))
        fields.setdefault(_field_path(tuple(err.get("loc", ()))), message)
    return JSONResponse(error_body("validation_failed", "the request has invalid fields", fields), 422)


def api_error_response(exc: ApiError) -> JSONResponse:
    """The response for an ApiError, for services that map their own domain errors to one."""
    return JSONResponse(error_body(exc.code, exc.message, exc.fields), exc.status, headers=exc.headers)


async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
    return api_error_response(exc)


async def _refused(_: Request, exc: DomainError) -> JSONResponse:
    # Every service's domain errors carry their status and code: one mapping for all (issue 6).
    return JSONResponse(error_body(exc.code, exc.message, exc.fields), exc.status)


async def _conflict(_: Request, exc: ConcurrencyError) -> JSONResponse:
    # Optimistic concurrency lost its retries inside a request: the client may simply try again.
    return JSONResponse(
        error_body("conflict", "the record changed while this request was handled; try again"), 409
    )


# Seconds a client is asked to wait when this service's own store cannot be reached (issue 9).
STORE_RETRY_AFTER_S = 2


async def _store_down(request: Request, exc: ConnectionFailure) -> JSONResponse:
    # ConnectionFailure covers what PyMongo raises when the store is stopped, restarting or
    # unreachable: ServerSelectionTimeoutError (no store within serverSelectionTimeoutMS),
    # AutoReconnect (a connection dropped mid-operation, NotPrimaryError), NetworkTimeout (no
    # answer within socketTimeoutMS), WaitQueueTimeoutError. None is the request's fault: 503.
    about = {"error": str(exc)[:500], "error_type": type(exc).__name__, "path": request.url.path}
    log.warning("store not reachable during a request", extra=about)
    body = error_body("store_unavailable", "the store is not reachable; try again shortly")
    return JSONResponse(body, 503, headers={"Retry-After": str(STORE_RETRY_AFTER_S)})


async def _http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    return JSONResponse(error_body(code, str(exc.detail)), exc.status_code)


async def _dependency(_: Request, exc: DependencyUnavailable) -> JSONResponse:
    return JSONResponse(error_body("dependency_unavailable", str(exc)), 503, headers={"Retry-After": "2"})


async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", exc_info=exc)
    return JSONResponse(error_body("internal_error", "unexpected error; it has been logged"), 500)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation)  # type: ignore[arg-type]
    app.add_exception_handler(ApiError, _api_error)  # type: ignore[arg-type]
    app.add_exception_handler(DomainError, _refused)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(DependencyUnavailable, _dependency)  # type: ignore[arg-type]
    app.add_exception_handler(ConcurrencyError, _conflict)  # type: ignore[arg-type]
    app.add_exception_handler(ConnectionFailure, _store_down)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _unexpected)
