"""Authentication and authorisation at every service's door (issue 7).

Each route declares the permission it needs::

    @router.get("/orders/{order_id}")
    async def get_order(order_id: str, who: Annotated[Principal, requires(P.ORDERS_READ)]) -> ...

or, when it does not need the caller, ``dependencies=[requires(P.OPS_READ)]``; the few open
routes (``/health``, ``/ready``) declare ``public()``. A test walks every app's route table and
fails on a route that declares nothing (tests/integration/platform/test_access_matrix.py).

No key, a malformed, unknown, revoked or expired key: 401 ``unauthenticated``. A key whose
role lacks the permission: 403 ``forbidden``. Over its role's rate: 429 with ``Retry-After``.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

from fastapi import Depends, Request
from fastapi.params import Depends as DependsParam
from pydantic import BaseModel

from shared.access.principal import Principal
from shared.access.registry import KeyRegistry
from shared.access.roles import ROLES, Permission
from shared.http import ApiError


class ErrorDetail(BaseModel):
    code: str
    message: str
    fields: dict[str, Any]


class ErrorBody(BaseModel):
    """Every 4xx and 5xx answer of every service (API.md): ``{"error": {code, message, fields}}``."""

    error: ErrorDetail


def _error(description: str) -> dict[str, Any]:
    return {"model": ErrorBody, "description": description}


# OpenAPI: the error answers a route may give besides its own, all with the one error body.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _error("malformed JSON"),
    401: _error("no key, or a key that is malformed, unknown, revoked or expired"),
    403: _error("the key's role lacks this route's permission, or the key does not act for that customer"),
    404: _error("no such object, or another customer's (the same answer)"),
    409: _error("the request does not fit the object's state, or it changed meanwhile"),
    413: _error("the request body is over the size limit"),
    422: _error("invalid input: unknown or server-owned fields, bounds, control characters"),
    429: _error("the key is over its role's rate; see Retry-After"),
    503: _error("a dependency (store, broker, another service) is not reachable; see Retry-After"),
}


def _unauthenticated(message: str) -> ApiError:
    return ApiError(401, "unauthenticated", message, headers={"WWW-Authenticate": "Bearer"})


@dataclass
class _Bucket:
    tokens: float
    at: float


class RateLimiter:
    """A token bucket per key, with the rate and burst of the key's role (settings.rate_limits)."""

    def __init__(self, limits: dict[str, tuple[float, float]], default: tuple[float, float]) -> None:
        self.limits, self.default = limits, default
        self._buckets: dict[str, _Bucket] = {}

    def wait_s(self, principal: Principal) -> float:
        """0 when the request may pass (a token is taken), else seconds until a token is there."""
        rate, burst = self.limits.get(principal.role.name, self.default)
        clock = time.monotonic()
        bucket = self._buckets.get(principal.key_id)
        if bucket is None:
            bucket = self._buckets[principal.key_id] = _Bucket(burst, clock)
        bucket.tokens = min(burst, bucket.tokens + (clock - bucket.at) * rate)
        bucket.at = clock
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0.0
        return (1 - bucket.tokens) / rate


@dataclass
class Gate:
    """What the door needs at run time: the key registry and the limiter (built in the lifespan)."""

    keys: KeyRegistry
    limiter: RateLimiter


def _gate(request: Request) -> Gate:
    return request.app.state.ctx.gate  # type: ignore[no-any-return]


async def authenticate(request: Request) -> Principal:
    header = request.headers.get("authorization")
    if not header:
        raise _unauthenticated("send 'Authorization: Bearer <key>'")
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise _unauthenticated("send 'Authorization: Bearer <key>'")
    gate = _gate(request)
    record = await gate.keys.find(key.strip())
    if record is None:
        raise _unauthenticated("the key is unknown, revoked or expired")
    principal = Principal.of(record)
    wait = gate.limiter.wait_s(principal)
    if wait > 0:
        raise ApiError(
            429, "rate_limited", f"too many requests for a {principal.role.name} key; slow down",
            headers={"Retry-After": str(max(1, math.ceil(wait)))},
        )  # fmt: skip
    request.state.principal = principal
    return principal


_QUERY_NAMES: dict[int, frozenset[str]] = {}


def _declared_query(route: Any) -> frozenset[str]:
    """The query parameters a route (and its dependencies) declares, by the name clients send."""
    names = _QUERY_NAMES.get(id(route))
    if names is None:
        found: set[str] = set()
        pending = [route.dependant]
        while pending:
            dependant = pending.pop()
            found |= {param.alias for param in dependant.query_params}
            pending.extend(dependant.dependencies)
        names = _QUERY_NAMES[id(route)] = frozenset(found)
    return names


def refuse_unknown_query(request: Request) -> None:
    """A query parameter the route does not declare is a 422 naming it (issue 7), like an
    unknown body field: a misspelt ``?custmer_id=`` must not silently list everything."""
    route = request.scope.get("route")
    if route is None or not hasattr(route, "dependant"):
        return
    unknown = sorted(set(request.query_params) - _declared_query(route))
    if unknown:
        raise ApiError(422, "validation_failed", "the request has unknown query parameters",
                       {name: "unknown query parameter" for name in unknown})  # fmt: skip


def requires(permission: Permission) -> Any:
    """The dependency of a route that needs ``permission``; it gives the route the Principal.
    After the key and the permission, it refuses query parameters the route does not declare."""

    async def check(request: Request) -> Principal:
        principal = await authenticate(request)
        if not principal.may(permission):
            raise ApiError(
                403, "forbidden", f"a {principal.role.name} key may not do this (needs {permission.value})",
                {"permission": permission.value},
            )  # fmt: skip
        refuse_unknown_query(request)
        return principal

    check.permission = permission  # type: ignore[attr-defined]
    check.__name__ = f"requires_{permission.name.lower()}"
    return Depends(check)


def public() -> Any:
    """The explicit declaration of an open route (liveness and readiness only)."""

    async def open_route() -> None:
        return None

    open_route.permission = None  # type: ignore[attr-defined]
    return Depends(open_route)


def declared_permission(dependant: Any) -> tuple[bool, Permission | None]:
    """(declared?, permission) of a route's dependency tree: used by the route-table test."""
    for dep in dependant.dependencies:
        call = dep.call
        if hasattr(call, "permission"):
            return True, call.permission
        found, perm = declared_permission(dep)
        if found:
            return found, perm
    return False, None


def is_permission_dependency(value: object) -> bool:
    return isinstance(value, DependsParam) and hasattr(value.dependency, "permission")


def parse_rate_limits(spec: str) -> dict[str, tuple[float, float]]:
    """``"storefront=20/40,erp=50/100"`` -> {role: (rate per second, burst)}; fails on bad input."""
    limits: dict[str, tuple[float, float]] = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        role, _, value = part.partition("=")
        rate, _, burst = value.partition("/")
        if role.strip() not in ROLES:
            raise ValueError(f"rate_limits: unknown role {role!r}")
        limits[role.strip()] = (float(rate), float(burst or rate))
        if limits[role.strip()][0] <= 0 or limits[role.strip()][1] < 1:
            raise ValueError(f"rate_limits: {part!r} needs a positive rate and a burst of at least 1")
    return limits


def api_routes(app: Any) -> list[tuple[str, set[str], Any]]:
    """(path, methods, dependant) of every FastAPI route of ``app``, included routers flattened
    (FastAPI 0.165 keeps included routers as lazy branches of ``app.routes``)."""
    from fastapi.routing import APIRoute, iter_route_contexts

    found = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute):
            methods = context.methods or route.methods or set()
            found.append((context.path or route.path, set(methods), route.dependant))
    return found
