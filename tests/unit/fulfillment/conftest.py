"""Fulfillment's handler tests run on the in-memory stores (tests/support/fakes_fulfillment.py)."""

from __future__ import annotations

import pytest

from services.fulfillment.deps import Fulfillment
from services.fulfillment.settings import Settings
from tests.support.fakes import FakeBus
from tests.support.fakes_fulfillment import FakeSupplyOrderStore, FakeSupplyRequestStore


@pytest.fixture
def bus() -> FakeBus:
    return FakeBus()


@pytest.fixture
def supply_orders(bus: FakeBus) -> FakeSupplyOrderStore:
    return FakeSupplyOrderStore(bus)


@pytest.fixture
def requests(bus: FakeBus) -> FakeSupplyRequestStore:
    return FakeSupplyRequestStore(bus)


@pytest.fixture
def ful(supply_orders: FakeSupplyOrderStore, requests: FakeSupplyRequestStore) -> Fulfillment:
    return Fulfillment(Settings(), supply_orders, requests)
