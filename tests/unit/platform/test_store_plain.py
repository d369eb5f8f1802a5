"""Documents are built from dataclasses by ``plain``: the same fields ``asdict`` gives."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

from shared.store import plain


@dataclass
class Inner:
    sku: str
    quantity: int


@dataclass
class Outer:
    at: datetime
    inner: Inner
    lines: list[Inner] = field(default_factory=list)
    notes: dict[str, int] = field(default_factory=dict)
    tags: tuple[str, ...] = ()


def test_plain_gives_the_fields_asdict_gives_for_nested_dataclasses_and_containers():
    value = Outer(datetime.now(UTC), Inner("A", 1), [Inner("B", 2)], {"r1": 5}, ("x",))

    assert plain(value) == {**asdict(value), "tags": ["x"]}  # tuples become arrays, as BSON stores them


def test_a_document_does_not_change_when_the_object_changes_afterwards():
    value = Outer(datetime.now(UTC), Inner("A", 1), [Inner("B", 2)], {"r1": 5})
    doc = plain(value)

    value.lines.append(Inner("C", 3))
    value.notes["r2"] = 1

    assert len(doc["lines"]) == 1 and doc["notes"] == {"r1": 5}
