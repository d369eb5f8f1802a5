"""Walking the pages of a list (shared.paging, issue 7): in a store contract and over HTTP."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import httpx

from shared.paging import Key, Page

# Eight instants: ties, milliseconds apart inside one second, and across seconds, so that a key
# on a datetime is tried where the embedded store compares whole seconds (docs/STORE-NOTES.md).
OFFSETS_MS = (0, 0, 120, 250, 250, 900, 1_100, 2_000)


def sees(customers: tuple[str, ...] | None, customer_id: str) -> bool:
    """``shared.paging.visible_to`` in memory: whether a key scoped to ``customers`` sees the item."""
    if customers is None:
        return True
    return any(customer_id.startswith(c[:-1]) if c.endswith("*") else customer_id == c for c in customers)


def instants(start: datetime) -> list[datetime]:
    return [start + timedelta(milliseconds=ms) for ms in OFFSETS_MS]


async def walk(
    fetch: Callable[[Key | None], Awaitable[Page[Any]]],
    between: Callable[[int], Awaitable[None]] | None = None,
) -> list[list[Any]]:
    """Every page of a store's list, first to last; ``between(n)`` runs after the n-th page."""
    pages: list[list[Any]] = []
    after: Key | None = None
    while True:
        page = await fetch(after)
        pages.append(page.items)
        if page.next is None:
            return pages
        assert len(pages) < 100, "the pages never end"
        if between is not None:
            await between(len(pages))
        after = page.next


async def walk_http(client: httpx.AsyncClient, path: str, params: dict[str, Any]) -> list[list[Any]]:
    """Every page of a list over HTTP, following ``Next-Cursor`` (and checking ``Link`` agrees)."""
    pages: list[list[Any]] = []
    query = dict(params)
    while True:
        answer = await client.get(path, params=query)
        assert answer.status_code == 200, answer.text
        assert isinstance(answer.json(), list)
        pages.append(answer.json())
        cursor = answer.headers.get("Next-Cursor")
        if cursor is None:
            assert "Link" not in answer.headers
            return pages
        link = answer.headers["Link"]
        assert link.startswith(f"<{path}?") and link.endswith('>; rel="next"'), link
        assert f"cursor={cursor}" in link
        assert len(pages) < 100, "the pages never end"
        query = {**params, "cursor": cursor}
