"""One inventory process per test module; `probe` and `http` come from tests/integration/conftest.py."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.support.stack import Stack


@pytest.fixture(scope="module")
def stack(make_stack: Callable[..., Stack]) -> Stack:
    return make_stack("inventory")
