"""Message versions (issue 9): every envelope carries its message type's ``VERSION``; a consumer
refuses a newer one as permanent (the bus parks it with that error, never retries or crashes), and a
contract class of a later version keeps reading what version 1 wrote.

Against the real broker: tests/integration/platform/test_message_versions.py; the recorded
messages of this version: tests/unit/platform/test_replay.py.
"""

from __future__ import annotations

from typing import Any, ClassVar

import pytest

from shared.contracts import MESSAGE_TYPES, ReleaseStock, StockReleased
from shared.envelope import Envelope, NewerVersion, new_envelope
from shared.errors import PermanentError


def test_an_envelope_carries_its_message_types_version():
    assert all(cls.VERSION >= 1 for cls in MESSAGE_TYPES.values())
    assert new_envelope(ReleaseStock(order_id="SO-1"), producer="intake").version == ReleaseStock.VERSION


def newer(envelope: Envelope, version: int) -> Envelope:
    return Envelope.model_validate({**envelope.model_dump(), "version": version})


def test_a_version_newer_than_the_contract_is_refused_as_permanent_with_a_clear_error():
    envelope = newer(new_envelope(ReleaseStock(order_id="SO-1"), producer="intake"), ReleaseStock.VERSION + 1)

    with pytest.raises(NewerVersion) as refused:
        envelope.message()

    assert isinstance(refused.value, PermanentError)  # the bus parks it at once, never retries it
    assert str(refused.value).startswith(f"ReleaseStock version {ReleaseStock.VERSION + 1} is newer than")
    assert f"(up to {ReleaseStock.VERSION})" in str(refused.value)


def test_a_version_below_one_is_not_a_version():
    envelope = newer(new_envelope(ReleaseStock(order_id="SO-1"), producer="intake"), 0)

    with pytest.raises(PermanentError, match="not a version"):
        envelope.message()


class StockReleasedV2(StockReleased):
    """A later StockReleased that reads version 1 and 2 (what a bump looks like)."""

    VERSION: ClassVar[int] = 2
    note: str = ""


def test_a_contract_of_a_later_version_still_reads_what_version_1_wrote(monkeypatch: pytest.MonkeyPatch):
    v1 = new_envelope(StockReleased(order_id="SO-1", lines=[]), producer="inventory")
    monkeypatch.setitem(MESSAGE_TYPES, "StockReleased", StockReleasedV2)
    v2 = newer(v1, 2).model_copy(update={"payload": {**v1.payload, "note": "from v2"}})

    old: Any = v1.message()
    new: Any = v2.message()

    assert (v1.version, type(old), old.note) == (1, StockReleasedV2, "")
    assert new.note == "from v2"
