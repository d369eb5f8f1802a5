"""shared.paging: one opaque cursor format for every list (issue 7), and keyset pages in memory."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from shared.http import ApiError
from shared.paging import Keyset, Order, Page, both, page_size, slice_page, visible_to

AT = datetime(2026, 5, 1, 12, 0, 39, 564000, tzinfo=UTC)
BY_TIME = Keyset("things", datetime, str)
BY_SEQ = Keyset("numbered", int, str)


def raw(obj: object, separators: tuple[str, str] = (",", ":")) -> str:
    """What a client could make up: urlsafe base64 of any JSON (compact, like ours, by default)."""
    return base64.urlsafe_b64encode(json.dumps(obj, separators=separators).encode()).decode().rstrip("=")


def refused(keyset: Keyset, cursor: str) -> dict[str, str]:
    with pytest.raises(ApiError) as caught:
        keyset.parse(cursor)
    assert (caught.value.status, caught.value.code) == (422, "validation_failed")
    return caught.value.fields


def test_a_cursor_gives_back_the_key_it_was_made_of():
    for keyset, key in ((BY_TIME, (AT, "INV202605001")), (BY_SEQ, (3, "RT-1")), (Keyset("p", str), ("灯",))):
        cursor = keyset.encode(key)

        assert keyset.parse(cursor) == key
        assert cursor.replace("-", "").replace("_", "").isalnum()  # urlsafe, no padding
    assert BY_TIME.parse(None) is None


def test_a_datetime_in_a_cursor_is_utc_whatever_zone_it_came_in():
    shanghai = AT.astimezone(timezone(timedelta(hours=8)))

    assert BY_TIME.encode((shanghai, "x")) == BY_TIME.encode((AT, "x"))
    assert BY_TIME.parse(BY_TIME.encode((AT.replace(tzinfo=None), "x"))) == (AT, "x")  # naive is UTC


@pytest.mark.parametrize(
    "cursor",
    [
        "0" * 26,  # 26 digits (what broke GET /orders)
        "²",
        "\x00",
        "abc\x00def",
        "",
        " ",
        "eyJ",  # a base64 prefix of JSON
        "a" * 600,
        "%%%",
        raw(["things", AT.isoformat(), "x"]) + "==",  # padded: not the form given out
    ],
)
def test_anything_malformed_is_a_422_naming_the_cursor(cursor: str):
    assert refused(BY_TIME, cursor) == {"cursor": "not a cursor this API gave out"}


@pytest.mark.parametrize(
    "data",
    [
        ["numbered", 1, "x"],  # another list's cursor
        ["things", "2026-05-01T12:00:39", "x"],  # a datetime without a zone
        ["things", "yesterday", "x"],
        ["things", 5, "x"],
        ["things", AT.isoformat()],  # too short
        ["things", AT.isoformat(), "x", "y"],  # too long
        {"things": 1},
        "things",
        None,
        ["things", AT.isoformat(), "x" * 400],  # an over-long value
    ],
)
def test_a_well_formed_cursor_this_list_did_not_give_out_is_a_422(data: object):
    assert "cursor" in refused(BY_TIME, raw(data))


@pytest.mark.parametrize("value", [2**63, -(2**63), True, 1.5, "1", None, 10**30])
def test_an_integer_key_holds_only_64_bit_integers(value: object):
    assert "cursor" in refused(BY_SEQ, raw(["numbered", value, "x"]))


def test_an_edited_cursor_is_refused_even_when_it_decodes():
    # The same key spelled another way (spaces, a different offset) is not a cursor we gave out.
    assert "cursor" in refused(BY_TIME, raw(["things", "2026-05-01T20:00:39.564000+08:00", "x"]))
    assert "cursor" in refused(BY_SEQ, raw(["numbered", 1, "x"], separators=(", ", ": ")))
    assert BY_SEQ.parse(raw(["numbered", 1, "x"])) == (1, "x")  # compact: the form we give out


def test_a_key_of_the_wrong_shape_cannot_be_encoded():
    with pytest.raises(ValueError):
        BY_TIME.encode(("x",))
    with pytest.raises(TypeError):
        BY_SEQ.encode((True, "x"))


def test_the_page_size_is_the_limit_capped_at_the_services_maximum():
    assert [page_size(n, 50) for n in (1, 50, 51, 10**30)] == [1, 50, 50, 50]


def docs(n: int, at: datetime = AT) -> list[dict[str, object]]:
    return [{"_id": f"D{i:03}", "at": at + timedelta(milliseconds=7 * (i % 5))} for i in range(n)]


def walk(items: list[dict[str, object]], order: Order, limit: int) -> list[list[str]]:
    pages, after = [], None
    while True:
        page = slice_page(items, order, after, limit)
        pages.append([str(d["_id"]) for d in page.items])
        if page.next is None:
            return pages
        after = page.next


@pytest.mark.parametrize("direction", [1, -1])
def test_pages_in_memory_give_every_item_once_in_order_with_ties_broken_by_id(direction: int):
    items = docs(10)
    ordered = sorted(items, key=lambda d: (d["at"], d["_id"]), reverse=direction < 0)
    expected = [str(d["_id"]) for d in ordered]

    pages = walk(items, Order("at", direction), 4)

    assert [len(p) for p in pages] == [4, 4, 2]
    assert [i for page in pages for i in page] == expected


def test_the_last_page_has_no_next_key_even_when_it_is_full():
    assert [len(p) for p in walk(docs(8), Order("_id"), 4)] == [4, 4]
    assert slice_page([], Order("_id"), None, 4) == Page([], None)


def test_a_page_maps_its_items_and_keeps_its_next_key():
    assert Page([1, 2], ("k",)).map(str) == Page(["1", "2"], ("k",))


def test_the_store_query_after_a_datetime_key_spans_its_whole_second():
    later = Order("at").query((AT, "D001"))
    earlier = Order("at", -1).query((AT, "D001"))

    assert later == {"at": {"$gte": AT.replace(microsecond=0)}}
    assert earlier == {"at": {"$lt": AT.replace(microsecond=0) + timedelta(seconds=1)}}
    assert Order("seq").query((3, "x")) == {"$or": [{"seq": {"$gt": 3}}, {"seq": 3, "_id": {"$gt": "x"}}]}
    assert Order("_id", -1).query(("x",)) == {"_id": {"$lt": "x"}}


def test_filters_on_one_field_are_joined_by_and_and_others_merged():
    scoped = visible_to(("OTHER-*",))

    assert both({"customer_id": "CUST-1"}, scoped) == {"$and": [{"customer_id": "CUST-1"}, scoped]}
    assert both({"order_id": "SO1"}, {}, {"status": "open"}) == {"order_id": "SO1", "status": "open"}
    one, other = {"$or": [{"a": 1}]}, {"$or": [{"b": 2}]}
    assert both(one, other) == {"$and": [one, other]}


def test_a_scoped_keys_filter_matches_its_ids_and_prefixes_and_an_unscoped_one_everything():
    assert visible_to(None) == {}
    assert visible_to(("CUST-1",)) == {"customer_id": "CUST-1"}
    assert visible_to(("CUST-*", "VIP-9")) == {
        "$or": [{"customer_id": {"$regex": "^CUST\\-"}}, {"customer_id": "VIP-9"}]}  # fmt: skip
    assert visible_to(()) == {"customer_id": {"$in": []}}  # bound to nobody: sees nothing
