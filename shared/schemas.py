"""The one base of every request body (issue 7): no unknown fields, no control characters.

``RequestModel`` forbids fields the model does not declare, so a body that sends a server-owned
field (``status``, ``total`` of a customer, ``exposure``, ``reserved``, ``history``, ``by``) is a
422 naming it and nothing unknown is ever stored (mass assignment). Its validator refuses
control characters in every text of the body, recursively through lists and dicts (nested
request models check themselves), because NUL, BEL, ANSI escapes and bidi overrides were stored
in names, addresses, customer ids and remarks and came back out on packing lists and screens:

* single-line fields (the default: names, ids, addresses, phones, reasons) refuse every
  control character (Unicode category Cc, tab and newline included), the bidi embeddings,
  overrides and isolates (U+202A-U+202E, U+2066-U+2069), the line and paragraph separators
  U+2028/U+2029 and lone surrogates (which cannot be stored as UTF-8 at all);
* multi-line fields, declared by annotating the field itself with ``MULTILINE`` (remarks, notes),
  also accept newline, carriage return and tab, and U+2028/U+2029; everything else stays refused.

The same characters are refused in paths and query strings by shared.door.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator


class MultiLine:
    """The marker of a free-text field that may hold line breaks and tabs."""

    def __repr__(self) -> str:
        return "MULTILINE"


MULTILINE = MultiLine()

_ALWAYS = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff"
_SINGLE_LINE = re.compile(f"[{_ALWAYS}\t\n\r\u2028\u2029]")
_MULTI_LINE = re.compile(f"[{_ALWAYS}]")


def forbidden_character(text: str, *, multiline: bool = False) -> str | None:
    """``U+XXXX at N`` for the first character a text field may not hold, else None."""
    found = (_MULTI_LINE if multiline else _SINGLE_LINE).search(text)
    return None if found is None else f"U+{ord(found.group()):04X} at {found.start()}"


def check_text(value: Any, *, multiline: bool = False) -> None:
    """Raise ValueError naming the first forbidden character in ``value`` or anything inside it."""
    if isinstance(value, str):
        where = forbidden_character(value, multiline=multiline)
        if where is not None:
            raise ValueError(f"control or bidi characters are not allowed ({where})")
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            check_text(item, multiline=multiline)
    elif isinstance(value, dict):
        for key, item in value.items():
            check_text(key)
            check_text(item, multiline=multiline)


class RequestModel(BaseModel):
    """Base of every request body: unknown fields and control characters are a 422 naming the field."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _no_control_characters(cls, value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, BaseModel) or info.field_name is None:
            return value  # a nested request model has checked its own fields
        field = cls.model_fields.get(info.field_name)
        multiline = field is not None and any(isinstance(m, MultiLine) for m in field.metadata)
        check_text(value, multiline=multiline)
        return value
