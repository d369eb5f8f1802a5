"""Faults at the door, without servers (issue 9): the load-shedding middleware, the store's
connection errors as 503 ``store_unavailable``, and the store client's bounded waits.

The same behaviour against real processes: tests/integration/platform/test_load_shedding.py and
test_store_unavailable.py.
"""

from __future__ import annotations

import asyncio
import importlib

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pymongo.errors import AutoReconnect, ConnectionFailure, NetworkTimeout, ServerSelectionTimeoutError

from shared.door import Admission, LoadShedding, sheddable
from shared.http import install_error_handlers
from shared.registry import SERVICES
from shared.service import mongo_options
from shared.settings import ServiceSettings

# --- load shedding ---------------------------------------------------------------------------------


def shedding_app(limit: int) -> tuple[FastAPI, asyncio.Event, asyncio.Event, Admission]:
    """An app whose ``POST /work`` waits for ``gate``; ``full`` is set once ``limit`` are waiting."""
    app = FastAPI()
    install_error_handlers(app)
    gate, full, admission = asyncio.Event(), asyncio.Event(), Admission(limit, retry_after_s=3)

    @app.post("/work")
    async def work() -> dict[str, str]:
        if admission.in_flight >= limit:
            full.set()
        await gate.wait()
        return {"status": "done"}

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/ops/metrics")
    async def metrics() -> dict[str, int]:
        return {"in_flight": admission.in_flight}

    app.add_middleware(LoadShedding, admission=admission)
    return app, gate, full, admission


async def test_one_request_over_the_bound_is_a_503_with_retry_after_and_the_error_body():
    app, gate, full, admission = shedding_app(limit=2)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://door") as http:
        admitted = [asyncio.create_task(http.post("/work")) for _ in range(2)]
        await asyncio.wait_for(full.wait(), 5)
        shed = await http.post("/work")
        health, ops = await http.get("/health"), await http.get("/ops/metrics")
        gate.set()
        done = await asyncio.gather(*admitted)
        again = await http.post("/work")

    assert shed.status_code == 503 and shed.headers["Retry-After"] == "3"
    assert shed.json()["error"]["code"] == "overloaded" and shed.json()["error"]["fields"] == {}
    assert (health.status_code, ops.status_code, ops.json()) == (200, 200, {"in_flight": 2})
    assert [r.status_code for r in done] == [200, 200] and again.status_code == 200
    assert (admission.admitted, admission.shed, admission.in_flight) == (3, 1, 0)


async def test_a_request_that_fails_still_gives_its_slot_back():
    app = FastAPI()
    install_error_handlers(app)
    admission = Admission(1)

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("bug")

    app.add_middleware(LoadShedding, admission=admission)
    client = TestClient(app, raise_server_exceptions=False)

    assert [client.get("/boom").status_code for _ in range(3)] == [500, 500, 500]
    assert admission.in_flight == 0 and admission.shed == 0


@pytest.mark.parametrize(
    ("path", "shed"),
    [("/health", False), ("/ready", False), ("/ops", False), ("/ops/metrics", False),
     ("/orders", True), ("/operations", True), ("/healthz", True)],
)  # fmt: skip
def test_probes_and_ops_are_never_shed(path: str, shed: bool):
    assert sheddable(path) is shed


@pytest.mark.parametrize("service", SERVICES)
def test_every_service_door_sheds_with_its_settings_bound(service: str, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("MAX_IN_FLIGHT", "7")
    monkeypatch.setenv(f"{service.upper()}_MAX_IN_FLIGHT", "5")  # the service's own name wins
    app = importlib.import_module(f"services.{service}.main").bootstrap()

    assert any(m.cls is LoadShedding for m in app.user_middleware)
    assert app.state.admission.limit == 5


def test_the_bound_has_a_default_and_fails_fast_on_nonsense(monkeypatch: pytest.MonkeyPatch):
    assert ServiceSettings().max_in_flight == 128 and ServiceSettings().shed_retry_after_s == 1
    monkeypatch.setenv("MAX_IN_FLIGHT", "0")
    with pytest.raises(ValueError):
        ServiceSettings()


# --- the store unreachable --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raised",
    [ServerSelectionTimeoutError("no primary"), AutoReconnect("connection reset"),
     NetworkTimeout("timed out"), ConnectionFailure("refused")],
)  # fmt: skip
def test_every_store_connection_error_is_a_503_store_unavailable_with_retry_after(raised: Exception):
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/orders")
    async def orders() -> None:
        raise raised

    response = TestClient(app, raise_server_exceptions=False).get("/orders")

    assert response.status_code == 503 and int(response.headers["Retry-After"]) >= 1
    assert response.json() == {
        "error": {"code": "store_unavailable", "message": "the store is not reachable; try again shortly",
                  "fields": {}}
    }  # fmt: skip


def test_the_store_clients_waits_are_bounded_settings(monkeypatch: pytest.MonkeyPatch):
    defaults = mongo_options(ServiceSettings())
    monkeypatch.setenv("MONGO_SERVER_SELECTION_TIMEOUT_MS", "1500")
    monkeypatch.setenv("MONGO_CONNECT_TIMEOUT_MS", "700")
    monkeypatch.setenv("MONGO_SOCKET_TIMEOUT_MS", "9000")
    chosen = mongo_options(ServiceSettings())

    names = ("serverSelectionTimeoutMS", "connectTimeoutMS", "socketTimeoutMS")

    assert [defaults[name] for name in names] == [5_000, 2_000, 20_000]
    assert [chosen[name] for name in names] == [1500, 700, 9000]
