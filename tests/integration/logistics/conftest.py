"""One logistics process per test module, asking a fake intake for consignee phones (issue 7);
`probe` and `http` come from tests/integration/conftest.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.logistics.fake_intake import FakeIntake
from tests.support.stack import Stack


@pytest.fixture(scope="module")
def intake() -> Iterator[FakeIntake]:
    fake = FakeIntake().start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def stack(amqp_url: str, mongo_url: str, work_dir: Path, intake: FakeIntake) -> Iterator[Stack]:
    """Only logistics runs; its INTAKE_URL points at the fake (the stack puts every port in the env)."""
    stack = Stack(amqp_url=amqp_url, mongo_url=mongo_url, log_dir=work_dir / "logs")
    stack.ports["intake"] = intake.port
    try:
        stack.start(["logistics"])
        yield stack
    finally:
        stack.stop()
