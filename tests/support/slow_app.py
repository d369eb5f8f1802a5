"""A tiny service for the load-shedding tests (issue 9): requests that stay in flight until the test
lets them go, on the real platform (``create_service_app``: door, store, broker, error handlers).

``POST /things`` ``{"thing_id", "hold"}`` stores a document; with ``hold`` it first waits until
``POST /ops/release`` (an ops path, so never shed: the test can always reach it). ``GET /ops/door``
tells how many requests are in flight, admitted and shed, so a test waits for "the door is full"
instead of sleeping. Run as a real process, the way the services run:
``python -m tests.support.slow_app`` (``start_slow_app`` spawns it).
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any, ClassVar

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse

from devstack.processes import Proc, service_env, spawn
from shared.access.door import public
from shared.http import ApiError
from shared.schemas import RequestModel
from shared.service import Context, ServiceContext, create_service_app, run
from shared.settings import ServiceSettings


class SlowAppSettings(ServiceSettings):
    service_name: ClassVar[str] = "slowapp"


class Thing(RequestModel):
    thing_id: str
    hold: bool = False


def bootstrap(settings: SlowAppSettings | None = None) -> FastAPI:
    settings = settings or SlowAppSettings()
    router = APIRouter()
    gate = {"open": asyncio.Event()}

    @router.post("/things", status_code=201, dependencies=[public()])
    async def put_thing(body: Thing, ctx: Context) -> dict[str, Any]:
        if body.hold:
            await gate["open"].wait()
        await ctx.db["things"].insert_one({"_id": body.thing_id, "held": body.hold})
        return {"thing_id": body.thing_id}

    @router.get("/things/{thing_id}", dependencies=[public()])
    async def get_thing(thing_id: str, ctx: Context) -> dict[str, Any]:
        doc = await ctx.db["things"].find_one({"_id": thing_id})
        if doc is None:
            raise ApiError(404, "not_found", f"no thing {thing_id}")
        return {"thing_id": doc["_id"], "held": doc["held"]}

    @router.post("/ops/release", dependencies=[public()])
    async def release() -> dict[str, str]:
        gate["open"].set()
        gate["open"] = asyncio.Event()  # later held requests wait for the next release
        return {"status": "released"}

    @router.get("/ops/door", dependencies=[public()])
    async def door(request: Request) -> JSONResponse:
        admission = request.app.state.admission
        return JSONResponse({"in_flight": admission.in_flight, "admitted": admission.admitted,
                             "shed": admission.shed, "limit": admission.limit})  # fmt: skip

    async def wire(ctx: ServiceContext) -> None:
        return None

    return create_service_app(settings, wire=wire, routers=[router], title="load-shedding test service")


def start_slow_app(port: int, env: dict[str, str], log_dir: Path) -> Proc:
    """Spawn the test service on ``port``; ``devstack.processes.wait_ready`` before using it."""
    argv = [sys.executable, "-m", "tests.support.slow_app"]
    return _spawned(spawn("slowapp", argv, log_dir / "slowapp.log", service_env("slowapp", port, env)), port)


def _spawned(proc: Proc, port: int) -> Proc:
    proc.url = f"http://127.0.0.1:{port}"
    return proc


def main() -> None:
    settings = SlowAppSettings()
    run(bootstrap(settings), settings)


if __name__ == "__main__":
    main()
