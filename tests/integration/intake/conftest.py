"""The intake service as a real process on the real broker and store, with a fake door
(inventory's catalogue and billing's customers) and a bus probe standing in for every other service."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from tests.integration.intake.fake_door import FakeDoor
from tests.support.stack import Stack


@pytest.fixture(scope="module")
def door() -> Iterator[FakeDoor]:
    fake = FakeDoor().start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def stack(amqp_url: str, mongo_url: str, work_dir: Path, door: FakeDoor) -> Iterator[Stack]:
    """Only intake runs; INVENTORY_URL and BILLING_URL point at the fake (every stack port is in the env)."""
    stack = Stack(amqp_url=amqp_url, mongo_url=mongo_url, log_dir=work_dir / "logs")
    stack.ports["inventory"] = stack.ports["billing"] = door.port
    try:
        stack.start(["intake"])
        yield stack
    finally:
        stack.stop()


@pytest.fixture
async def api(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with stack.client("intake") as client:
        yield client

