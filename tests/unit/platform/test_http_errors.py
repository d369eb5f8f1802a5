"""Platform errors reach clients in the contract's error body (API.md), whatever the service."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pymongo.errors import ServerSelectionTimeoutError

from shared.errors import ConcurrencyError, DependencyUnavailable
from shared.http import install_error_handlers


def app_raising(exc: Exception) -> TestClient:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/boom")
    async def boom() -> None:
        raise exc

    return TestClient(app, raise_server_exceptions=False)


@pytest.mark.parametrize(
    ("raised", "status", "code"),
    [
        (ConcurrencyError("lost the race"), 409, "conflict"),
        (ServerSelectionTimeoutError("no store"), 503, "store_unavailable"),
        (DependencyUnavailable("inventory down"), 503, "dependency_unavailable"),
        (RuntimeError("bug"), 500, "internal_error"),
    ],
)
def test_each_platform_error_has_its_status_and_code(raised: Exception, status: int, code: str):
    response = app_raising(raised).get("/boom")

    assert response.status_code == status
    assert response.json()["error"]["code"] == code
