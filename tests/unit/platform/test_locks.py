"""Handlers in one process take turns per business key, and the locks do not pile up."""

from __future__ import annotations

import asyncio

from shared.locks import KeyedLocks


async def test_holders_of_one_key_take_turns_while_other_keys_run_alongside():
    locks, inside, overlaps = KeyedLocks(), {"a": 0, "b": 0}, []

    async def work(key: str) -> None:
        async with locks.hold(key):
            inside[key] += 1
            overlaps.append(dict(inside))
            await asyncio.sleep(0.01)
            inside[key] -= 1

    await asyncio.gather(*(work(k) for k in "ababab"))

    assert max(o["a"] for o in overlaps) == 1 and max(o["b"] for o in overlaps) == 1
    assert any(o["a"] and o["b"] for o in overlaps)  # different keys do not wait for each other
    assert len(locks) == 0  # nothing left behind once every holder is done
