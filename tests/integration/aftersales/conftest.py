"""The aftersales service as a real process on the real broker and store, with a fake intake."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from tests.integration.aftersales.fake_intake import FakeIntake
from tests.support.stack import Stack


@pytest.fixture(scope="module")
def intake() -> Iterator[FakeIntake]:
    fake = FakeIntake().start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def stack(amqp_url: str, mongo_url: str, work_dir: Path, intake: FakeIntake) -> Iterator[Stack]:
    """Only aftersales runs; its INTAKE_URL points at the fake (the stack puts every port in the env)."""
    stack = Stack(amqp_url=amqp_url, mongo_url=mongo_url, log_dir=work_dir / "logs")
    stack.ports["intake"] = intake.port
    try:
        stack.start(["aftersales"])
        yield stack
    finally:
        stack.stop()


@pytest.fixture
async def api(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with stack.client("aftersales") as client:
        yield client

