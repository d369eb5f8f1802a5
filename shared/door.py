"""What every service refuses before a route runs (issue 7): oversized bodies, control characters in URLs.

``DoorMiddleware`` is a plain ASGI middleware (installed by shared.service.create_service_app):

* a request body over ``max_body_bytes`` is a 413 ``payload_too_large`` before it is read: a
  ``Content-Length`` over the limit is answered at once, and a body sent without one (chunked)
  is counted as it streams and answered the moment it passes the limit; what was read is dropped
  and the route never sees it (a 50 MB address used to be read whole before its 422);
* a path or query string that, decoded, holds a character no single-line text may hold
  (shared.schemas: control characters, bidi overrides and isolates, lone surrogates) is a 422
  ``validation_failed`` naming ``path`` or the query parameter, so ``PUT /customers/A%00B`` never
  reaches a store or a log line.

Both answers carry the contract's error body (shared.http.error_body).

``LoadShedding`` (issue 9) bounds the requests a process works on at once (``max_in_flight``):
one more is answered at once with 503 ``overloaded`` and ``Retry-After``, before its body is read
or its key looked up, so a burst is refused quickly instead of queueing until clients time out,
and what was admitted keeps its latency. ``/health``, ``/ready`` and ``/ops/*`` are never shed:
an overloaded service is alive and ready, only busy.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.http import error_body
from shared.schemas import forbidden_character

log = logging.getLogger(__name__)


def url_errors(scope: Scope) -> dict[str, str]:
    """Field errors of the request's decoded path and query string (empty when both are clean)."""
    errors: dict[str, str] = {}
    where = forbidden_character(scope.get("path", ""))
    if where is not None:
        errors["path"] = f"control or bidi characters are not allowed ({where})"
    query = scope.get("query_string", b"").decode("latin-1")
    # Invalid UTF-8 decodes to lone surrogates, which are refused like control characters.
    for name, value in parse_qsl(query, keep_blank_values=True, errors="surrogateescape"):
        where = forbidden_character(name) or forbidden_character(value)
        if where is not None:
            field = name if forbidden_character(name) is None else "query"
            errors.setdefault(field, f"control or bidi characters are not allowed ({where})")
    return errors


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the server refuses a malformed Content-Length before we run
    return None


# Lingering close (as nginx's lingering_time): the rest of a refused body is read and dropped, a
# bounded amount for a bounded time, before the answer completes and the server closes. Closing a
# socket with unread data makes the kernel reset the connection, and the client, still sending,
# then loses the 413 already on its way. Nothing is kept, so the memory cost is one chunk.
DRAIN_FACTOR = 8
DRAIN_S = 5.0


def _expects_continue(scope: Scope) -> bool:
    headers = scope.get("headers", ())
    return any(name == b"expect" and value.lower() == b"100-continue" for name, value in headers)


async def _linger(receive: Receive, at_most: int) -> None:
    drained = 0
    try:
        async with asyncio.timeout(DRAIN_S):
            while drained <= at_most:
                message = await receive()
                if message["type"] != "http.request" or not message.get("more_body", False):
                    return
                drained += len(message.get("body", b""))
    except TimeoutError:
        return


class _TooLarge(Exception):
    """The body passed the limit while the route read it; the 413 has been sent."""


class DoorMiddleware:
    """413 for a body over ``max_body_bytes``, 422 for control characters in the path or query."""

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        errors = url_errors(scope)
        if errors:
            body = error_body("validation_failed", "the request has invalid fields", errors)
            await JSONResponse(body, 422)(scope, receive, send)
            return
        declared = _declared_length(scope)
        if declared is not None and declared > self.max_body_bytes:
            await self._too_large(scope, receive, send)
            return
        await self._limited(scope, receive, send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send, *, more: bool = True) -> None:
        """The 413; ``more``: the client may still be sending the body (not when its end was read)."""
        limit = self.max_body_bytes
        body = error_body("payload_too_large", f"the request body is over {limit} bytes",
                          {"body": f"at most {limit} bytes"})  # fmt: skip
        log.info("request body over the limit", extra={"path": scope.get("path"), "limit": limit})
        # Connection: close: the connection is not reused after a body we did not take.
        response = JSONResponse(body, 413, headers={"Connection": "close"})
        await send({"type": "http.response.start", "status": 413, "headers": response.raw_headers})
        await send({"type": "http.response.body", "body": response.body, "more_body": True})
        if more and not _expects_continue(scope):  # else the client waits for us, sending nothing
            await _linger(receive, DRAIN_FACTOR * limit)
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _limited(self, scope: Scope, receive: Receive, send: Send) -> None:
        state: dict[str, Any] = {"read": 0, "answered": False, "started": False}

        async def counting_receive() -> Message:
            if state["answered"]:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                state["read"] += len(message.get("body", b""))
                if state["read"] > self.max_body_bytes and not state["started"]:
                    state["answered"] = True
                    await self._too_large(scope, receive, send, more=message.get("more_body", False))
                    raise _TooLarge
            return message

        async def guarded_send(message: Message) -> None:
            if state["answered"]:
                return  # the 413 has gone out; whatever the app says now goes nowhere
            state["started"] = True
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            if not state["answered"]:
                raise


# Never shed: probes must tell "busy" from "down", and operators must see the metrics under load.
UNSHED_PATHS = frozenset({"/health", "/ready", "/ops"})
SHED_LOG_EVERY_S = 5.0  # one "requests shed" line per this many seconds at most, with the count


def sheddable(path: str) -> bool:
    return path not in UNSHED_PATHS and not path.startswith("/ops/")


@dataclass
class Admission:
    """The door's count of requests in the process (one event loop: no lock needed)."""

    limit: int
    retry_after_s: int = 1
    in_flight: int = 0
    admitted: int = 0
    shed: int = 0
    _unlogged: int = 0
    _logged_at: float = 0.0

    def overloaded_body(self) -> dict[str, Any]:
        return error_body(
            "overloaded",
            f"the service is working on {self.limit} requests already; retry after {self.retry_after_s} s",
        )

    def note_shed(self, path: str) -> None:
        self.shed += 1
        self._unlogged += 1
        now = time.monotonic()
        if now - self._logged_at >= SHED_LOG_EVERY_S:
            log.warning(
                "requests shed: the door is full",
                extra={"shed": self._unlogged, "shed_total": self.shed, "limit": self.limit, "path": path},
            )
            self._unlogged, self._logged_at = 0, now


class LoadShedding:
    """503 ``overloaded`` with ``Retry-After`` while ``admission.limit`` requests are in the app."""

    def __init__(self, app: ASGIApp, admission: Admission) -> None:
        self.app = app
        self.admission = admission

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not sheddable(scope.get("path", "")):
            await self.app(scope, receive, send)
            return
        admission = self.admission
        if admission.in_flight >= admission.limit:
            admission.note_shed(scope.get("path", ""))
            headers = {"Retry-After": str(admission.retry_after_s)}
            await JSONResponse(admission.overloaded_body(), 503, headers=headers)(scope, receive, send)
            return
        admission.in_flight += 1
        admission.admitted += 1
        try:
            await self.app(scope, receive, send)
        finally:
            admission.in_flight -= 1
