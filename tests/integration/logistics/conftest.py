"""One logistics process per test module, a bus probe, and an HTTP client on it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from tests.support.probe import BusProbe
from tests.support.stack import Stack


@pytest.fixture(scope="module")
def stack(make_stack: Callable[..., Stack]) -> Stack:
    return make_stack("logistics")


@pytest.fixture
async def probe(stack: Stack, probe_for) -> BusProbe:  # type: ignore[no-untyped-def]
    return await probe_for(stack)  # type: ignore[no-any-return]


@pytest.fixture
async def http(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with stack.client("logistics") as client:
        yield client
