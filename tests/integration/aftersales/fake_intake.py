"""A stand-in for intake's ``GET /orders/{order_id}`` (API.md), served over real HTTP in a thread.

The aftersales process under test calls it exactly as it calls intake; tests put the orders they
need into it. Ids starting with ``BROKEN`` answer 500, as a failing intake would.
"""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

import uvicorn
from fastapi import FastAPI
from fastapi.responses import JSONResponse

from devstack.processes import free_port


class FakeIntake:
    def __init__(self) -> None:
        self.orders: dict[str, dict[str, Any]] = {}
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        app = FastAPI()

        @app.get("/orders/{order_id}")
        async def get_order(order_id: str) -> JSONResponse:
            if order_id.startswith("BROKEN"):
                return JSONResponse(
                    {"error": {"code": "internal_error", "message": "boom", "fields": {}}}, 500
                )
            if order_id not in self.orders:
                return JSONResponse({"error": {"code": "not_found", "message": "no", "fields": {}}}, 404)
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

    def add_order(
        self,
        lines: dict[str, int],
        *,
        status: str = "completed",
        unit_price: int = 10_000,
        discount: int = 0,
        freight: int = 0,
    ) -> dict[str, Any]:
        """An order of ``sku: quantity`` lines, as intake's GET would show it; returns the body."""
        order_id = f"SO{uuid.uuid4().hex[:10].upper()}"
        body_lines = [
            {
                "sku": sku,
                "name": f"Lamp {sku}",
                "quantity": qty,
                "unit_price": unit_price,
                "amount": qty * unit_price,
            }
            for sku, qty in lines.items()
        ]
        subtotal = sum(line["amount"] for line in body_lines)
        order = {
            "order_id": order_id,
            "customer_id": f"CUST-{uuid.uuid4().hex[:6]}",
            "status": status,
            "lines": body_lines,
            "discount": discount,
            "freight": freight,
            "total": subtotal - discount + freight,
            "history": [],
        }
        self.orders[order_id] = order
        return order
