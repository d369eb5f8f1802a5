"""Test tiers share one broker and one store server; every stack gets its own prefixes.

By default the suite starts the embedded store (nx-27017) itself; set MONGO_URL to run
the same tests against a real MongoDB (STORE.md). AMQP_URL points at RabbitMQ
(default: the local one, started if it is installed but not running).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from devstack.processes import ensure_bus_users, ensure_rabbitmq, free_port, start_store
from shared.registry import SERVICES
from tests.support.probe import BusProbe
from tests.support.stack import Stack

ALL_SERVICES = SERVICES


@pytest.fixture(scope="session")
def work_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="oms-tests-") as tmp:
        yield Path(tmp)


@pytest.fixture(scope="session")
def amqp_url() -> str:
    """The operator's URL (tests and probes act as the operator); the services get their own users,
    made (or brought up to date with the code) once per session (issue 7)."""
    url = os.environ.get("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
    ensure_rabbitmq(url)
    ensure_bus_users(url)
    return url


@pytest.fixture(scope="session")
def mongo_url(work_dir: Path) -> Iterator[str]:
    if os.environ.get("MONGO_URL"):
        yield os.environ["MONGO_URL"]
        return
    proc = start_store(work_dir / "store", free_port(), work_dir / "logs")
    try:
        yield proc.url
    finally:
        proc.stop()


@pytest.fixture(scope="session")
def make_stack(amqp_url: str, mongo_url: str, work_dir: Path) -> Iterator[Callable[..., Stack]]:
    """``make_stack("inventory", env={...})`` starts those services as processes with fresh prefixes."""
    stacks: list[Stack] = []

    def make(*names: str, env: dict[str, str] | None = None) -> Stack:
        stack = Stack(amqp_url=amqp_url, mongo_url=mongo_url, log_dir=work_dir / "logs", extra_env=env or {})
        stacks.append(stack)
        try:
            return stack.start(names or ALL_SERVICES)
        except Exception:
            stack.stop()
            raise

    yield make
    for stack in stacks:
        stack.stop()


@pytest.fixture(scope="session")
def e2e_stack(make_stack: Callable[..., Stack]) -> Stack:
    """All six services as separate processes, shared by the end-to-end tests."""
    return make_stack(*ALL_SERVICES)


@pytest.fixture
async def probe_for(amqp_url: str) -> AsyncIterator[Callable[[Stack | str], object]]:
    """``await probe_for(stack)`` gives a BusProbe on that stack's exchange, closed after the test."""
    probes: list[BusProbe] = []

    async def make(stack_or_prefix: Stack | str) -> BusProbe:
        prefix = stack_or_prefix if isinstance(stack_or_prefix, str) else stack_or_prefix.prefix
        probe = await BusProbe(amqp_url, prefix).start()
        probes.append(probe)
        return probe

    yield make
    for probe in probes:
        await probe.close()
