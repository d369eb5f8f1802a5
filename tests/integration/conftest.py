"""Integration tier: one service as a real process per test module, watched through a bus probe.

A package's conftest defines ``stack`` (e.g. ``make_stack("billing")``); ``probe`` and ``http``
then point at that stack and its first service.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.support.probe import BusProbe
from tests.support.stack import Stack

pytestmark = pytest.mark.integration


@pytest.fixture
async def probe(stack: Stack, probe_for) -> BusProbe:  # type: ignore[no-untyped-def]
    return await probe_for(stack)  # type: ignore[no-any-return]


@pytest.fixture
async def http(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with stack.client(next(iter(stack.procs))) as client:
        yield client
