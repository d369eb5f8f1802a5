"""A stand-in for intake's ``GET /orders/{order_id}`` (internal view), served over real HTTP in a
thread, so the logistics process under test asks it for the consignee's phone exactly as it asks
intake (issue 7). It records the ``Authorization`` of every request; ids starting with ``BROKEN``
answer 500, and with no key it answers 401, as intake would."""

from __future__ import annotations

import threading
import time
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from devstack.processes import free_port


def _error(code: str, status: int) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": code, "fields": {}}}, status)


class FakeIntake:
    def __init__(self) -> None:
        self.orders: dict[str, dict[str, Any]] = {}
        self.keys: list[str] = []  # the Authorization header of every request, in order
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        app = FastAPI()

        @app.get("/orders/{order_id}")
        async def get_order(order_id: str, request: Request) -> JSONResponse:
            self.keys.append(request.headers.get("authorization", ""))
            if not request.headers.get("authorization"):
                return _error("unauthenticated", 401)
            if order_id.startswith("BROKEN"):
                return _error("internal_error", 500)
            if order_id not in self.orders:
                return _error("not_found", 404)
            return JSONResponse(self.orders[order_id])

        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="fake-intake", daemon=True)

    def start(self) -> FakeIntake:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("fake intake did not start")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)

    def add_order(self, order_id: str, phone: str, name: str = "Wang Li") -> None:
        """The order as intake's internal view shows it (only what logistics reads, and a status)."""
        self.orders[order_id] = {"order_id": order_id, "status": "ready_to_ship",
                                 "contact": {"name": name, "phone": phone}}  # fmt: skip
