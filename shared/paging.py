"""Cursor paging, the same in every service (issue 7, docs/API.md "Paging").

A list answers one page of at most ``limit`` items (capped at the service's ``max_page``) in its
sort order; when more may follow, the response carries ``Next-Cursor: <cursor>`` and
``Link: <...&cursor=...>; rel="next"`` (the bodies stay JSON arrays, as the contract has them).

Pages are keyset pages, not offsets: a cursor is the sort key of the last item given (the sort
field and, as the tiebreak, ``_id``), so an insert between two pages neither repeats nor skips an
older item. On the wire a cursor is opaque: urlsafe base64 (no padding) of a small JSON array
``[scope, value, ...]``; ``Keyset.parse`` takes back only what ``Keyset.encode`` of the same list
could have given out, anything else is a 422 naming ``cursor`` (never a 500).

The store side: ``find_page`` on a Mongo collection, ``slice_page`` for the in-memory fakes; both
return a ``Page`` whose ``next`` is the key to encode, or None on the last page.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query, Request, Response

from shared.access.principal import customer_query
from shared.http import ApiError

T = TypeVar("T")
U = TypeVar("U")
Key = tuple[Any, ...]  # the sort key of an item: str, int or datetime values
Doc = dict[str, Any]

DEFAULT_LIMIT = 100
MAX_CURSOR = 512  # characters; a key of two short values encodes to well under 200
MAX_TEXT = 300  # characters of one string value inside a cursor
NOT_A_CURSOR = "not a cursor this API gave out"
_WIRE = re.compile(r"[A-Za-z0-9_-]{1,512}")
_INT_BOUND = 2**63

Limit = Annotated[int, Query(
    ge=1, description="items per page, at least 1; more than the service's max_page is served as max_page",
)]  # fmt: skip
Cursor = Annotated[str | None, Query(
    max_length=MAX_CURSOR, description="the Next-Cursor of the previous page (opaque; 422 otherwise)",
)]  # fmt: skip

# For a list route's ``responses=``: the paging headers of a 200 in the OpenAPI.
PAGE_HEADERS: dict[int | str, dict[str, Any]] = {
    200: {"headers": {
        "Next-Cursor": {"description": "the cursor of the next page; absent on the last page",
                        "schema": {"type": "string"}},
        "Link": {"description": 'the next page as `<path?...&cursor=...>; rel="next"`; absent on the last',
                 "schema": {"type": "string"}},
    }},
}  # fmt: skip


def both(*queries: Doc) -> Doc:
    """One store filter that matches what all of ``queries`` match (``$and`` when they share a field)."""
    parts = [q for q in queries if q]
    names = [name for q in parts for name in q]
    if len(names) == len(set(names)):
        return {name: value for q in parts for name, value in q.items()}
    return {"$and": parts}


def visible_to(customers: tuple[str, ...] | None, field: str = "customer_id") -> Doc:
    """The store filter of a list read by a key scoped to ``customers`` (``Principal.customer_filter``:
    ids and ``PREFIX*``; None for all): a scoped key's pages hold only its customers' items, so they
    are full and their cursors never name another customer's item."""
    if customers is None:
        return {}
    return customer_query(customers, field) if customers else {field: {"$in": []}}


def page_size(limit: int, max_page: int) -> int:
    """The page size a request gets: its ``limit``, capped at the service's ``max_page``."""
    return max(1, min(limit, max_page))


def bad_cursor(why: str = NOT_A_CURSOR) -> ApiError:
    return ApiError(422, "validation_failed", "the request has invalid fields", {"cursor": why})


class Keyset:
    """The cursors of one list: a scope (which list gave it out) and the types of its key."""

    def __init__(self, scope: str, *types: type) -> None:
        assert types and all(t in (str, int, datetime) for t in types), types
        self.scope = scope
        self.types = types

    def encode(self, key: Key) -> str:
        if len(key) != len(self.types):
            raise ValueError(f"a {self.scope} key has {len(self.types)} values, not {len(key)}")
        values = [_wire_value(v, t) for v, t in zip(key, self.types, strict=True)]
        raw = json.dumps([self.scope, *values], separators=(",", ":"), ensure_ascii=True)
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    def parse(self, cursor: str | None) -> Key | None:
        """The key a cursor names; None for no cursor; a 422 naming ``cursor`` for anything this
        list did not give out (malformed, another list's, edited)."""
        if cursor is None:
            return None
        try:
            key = self._decode(cursor)
        except (ValueError, TypeError, UnicodeError, binascii.Error, RecursionError) as exc:
            raise bad_cursor() from exc
        if key is None or self.encode(key) != cursor:  # only the canonical form is one we gave out
            raise bad_cursor()
        return key

    def _decode(self, cursor: str) -> Key | None:
        if not _WIRE.fullmatch(cursor):
            return None
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw.decode("ascii"))
        if not isinstance(data, list) or len(data) != len(self.types) + 1 or data[0] != self.scope:
            return None
        values = [_key_value(v, t) for v, t in zip(data[1:], self.types, strict=True)]
        return None if any(v is None for v in values) else tuple(values)


def _wire_value(value: Any, kind: type) -> Any:
    if kind is datetime:
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {value!r}")
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC).isoformat(timespec="microseconds")
    if not isinstance(value, kind) or isinstance(value, bool):
        raise TypeError(f"expected {kind.__name__}, got {value!r}")
    return value


def _key_value(value: Any, kind: type) -> Any:
    """The value of a decoded cursor, or None when it is not one of ``kind``'s own."""
    if kind is str:
        return value if isinstance(value, str) and len(value) <= MAX_TEXT else None
    if kind is int:
        ok = isinstance(value, int) and not isinstance(value, bool) and -_INT_BOUND < value < _INT_BOUND
        return value if ok else None
    if not isinstance(value, str) or len(value) > 40:
        return None
    at = datetime.fromisoformat(value)
    return at if at.tzinfo is not None else None


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list in its order, and the key after which the next begins (None: the last)."""

    items: list[T]
    next: Key | None = None

    def map(self, f: Callable[[T], U]) -> Page[U]:
        return Page([f(item) for item in self.items], self.next)


@dataclass(frozen=True)
class Order:
    """A list's order: by ``field`` then ``_id``, both ascending (1) or both descending (-1);
    ``field`` "_id" orders by the id alone."""

    field: str
    direction: int = 1

    def key(self, doc: Doc) -> Key:
        return (doc["_id"],) if self.field == "_id" else (doc[self.field], doc["_id"])

    def sort(self) -> list[tuple[str, int]]:
        ids = [("_id", self.direction)]
        return ids if self.field == "_id" else [(self.field, self.direction), *ids]

    def beyond(self, doc: Doc, after: Key) -> bool:
        """Whether ``doc`` comes strictly after the key ``after`` in this order."""
        key = self.key(doc)
        return key > after if self.direction > 0 else key < after

    def query(self, after: Key) -> Doc:
        """A store query for what comes after ``after``: exact for scalar keys; for a datetime, the
        whole second the key is in and everything beyond, which ``beyond`` then narrows.

        (A datetime operand is compared to the whole second on the embedded store,
        docs/STORE-NOTES.md; a bound on a whole second means the same on it and on MongoDB.)"""
        op = "$gt" if self.direction > 0 else "$lt"
        if self.field == "_id":
            return {"_id": {op: after[0]}}
        value, last_id = after
        if isinstance(value, datetime):
            second = value.replace(microsecond=0)
            if self.direction > 0:
                return {self.field: {"$gte": second}}
            return {self.field: {"$lt": second + timedelta(seconds=1)}}
        return {"$or": [{self.field: {op: value}}, {self.field: value, "_id": {op: last_id}}]}


async def find_page(collection: Any, query: Doc, order: Order, after: Key | None, limit: int) -> Page[Doc]:
    """One page of ``query``'s documents in ``order`` after the key ``after`` (an AsyncCollection)."""
    where = query if after is None else both(query, order.query(after))
    want, batch = limit + 1, limit + 1
    while True:
        docs = await collection.find(where).sort(order.sort()).limit(batch).to_list()
        kept = docs if after is None else [d for d in docs if order.beyond(d, after)]
        if len(kept) >= want or len(docs) < batch:
            break
        batch *= 2  # the items of the cursor's own second before it were many: read further
    return _page(kept, order, limit)


def slice_page(docs: Iterable[Doc], order: Order, after: Key | None, limit: int) -> Page[Doc]:
    """``find_page`` in memory, for the fakes."""
    ordered = sorted(docs, key=order.key, reverse=order.direction < 0)
    kept = ordered if after is None else [d for d in ordered if order.beyond(d, after)]
    return _page(kept[: limit + 1], order, limit)


def _page(docs: list[Doc], order: Order, limit: int) -> Page[Doc]:
    items = docs[:limit]
    return Page(items, order.key(items[-1]) if len(docs) > limit and items else None)


def link_next(request: Request, response: Response, keyset: Keyset, page: Page[Any]) -> None:
    """Put the next page's cursor in ``Next-Cursor`` and ``Link`` (nothing on the last page)."""
    if page.next is None:
        return
    cursor = keyset.encode(page.next)
    url = request.url.include_query_params(cursor=cursor)
    response.headers["Next-Cursor"] = cursor
    response.headers["Link"] = f'<{url.path}?{url.query}>; rel="next"'
