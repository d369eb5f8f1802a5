from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.support.api import Shop
from tests.support.probe import BusProbe
from tests.support.stack import Stack

pytestmark = pytest.mark.e2e


@pytest.fixture
async def shop(e2e_stack: Stack) -> AsyncIterator[Shop]:
    async with Shop(e2e_stack) as shop:
        yield shop


@pytest.fixture
async def probe(e2e_stack: Stack, probe_for) -> BusProbe:  # type: ignore[no-untyped-def]
    return await probe_for(e2e_stack)  # type: ignore[no-any-return]
