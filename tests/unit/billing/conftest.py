"""Billing's handler tests run on the in-memory stores (tests/support/fakes_billing.py)."""

from __future__ import annotations

import pytest

from services.billing.deps import Billing
from tests.support.fakes import FakeBus
from tests.support.fakes_billing import fake_billing


@pytest.fixture
def bus() -> FakeBus:
    return FakeBus()


@pytest.fixture
def billing(bus: FakeBus) -> Billing:
    return fake_billing(bus)
