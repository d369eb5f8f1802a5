"""Stand-ins for what intake asks at the door (inventory's catalogue, billing's customers),
served over real HTTP in a thread so the intake process calls them exactly as in production.

Tests add the products and customers they need; ``down = True`` makes both answer 500.
"""

from __future__ import annotations

import threading
import time
import uuid
from typing import Annotated, Any

import uvicorn
from fastapi import FastAPI, Query
from fastapi.responses import JSONResponse

from devstack.processes import free_port


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


class FakeDoor:
    def __init__(self) -> None:
        self.products: dict[str, dict[str, Any]] = {}
        self.customers: dict[str, dict[str, Any]] = {}
        self.down = False
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        app = FastAPI()
        broken = {"error": {"code": "internal_error", "message": "boom", "fields": {}}}

        @app.get("/products")
        async def products(sku: Annotated[list[str] | None, Query()] = None) -> JSONResponse:
            if self.down:
                return JSONResponse(broken, 500)
            return JSONResponse([self.products[s] for s in dict.fromkeys(sku or []) if s in self.products])

        @app.get("/customers/{customer_id}")
        async def customer(customer_id: str) -> JSONResponse:
            if self.down:
                return JSONResponse(broken, 500)
            if customer_id not in self.customers:
                error = {"error": {"code": "customer_not_found", "message": "no", "fields": {}}}
                return JSONResponse(error, 404)
            return JSONResponse(self.customers[customer_id])

        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="fake-door", daemon=True)

    def start(self) -> FakeDoor:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("fake door did not start")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)

    def product(self, *, price: int = 12_000, name: str | None = None, sourcing: str = "buy") -> str:
        sku = uid("SKU")
        self.products[sku] = {
            "sku": sku,
            "name": name or f"Lamp {sku}",
            "unit_price": price,
            "sourcing": sourcing,
            "lead_time_days": 5,
            "tracking": "none",
        }
        return sku

    def customer(self, *, name: str = "Shanghai Lamp Trading Co., Ltd.", terms: str = "credit") -> str:
        customer_id = uid("CUST")
        self.customers[customer_id] = {
            "customer_id": customer_id,
            "name": name,
            "payment_terms": terms,
            "credit_limit": 10_000_000,
            "exposure": 0,
        }
        return customer_id
