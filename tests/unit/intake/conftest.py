"""The `make` fixture: one Builders per test (tests/unit/intake/builders.py)."""

import pytest

from tests.unit.intake.builders import Builders


@pytest.fixture
def make() -> Builders:
    return Builders()
