"""Map keys that are safe inside dotted update paths (``holds.<order_id>``, ``payments.<reference>``).

MongoDB reads ``.`` as a path separator and ``$`` as an operator; ids that carry them (a payment
reference typed by a person, ``TT-2024.05.06``; a SKU ``LAMP.RED``; a warehouse ``a.b``) are
percent-encoded wherever a service keys a map by an outside id (STORE.md).
"""

from __future__ import annotations

from urllib.parse import unquote

_ESCAPES = (("%", "%25"), (".", "%2E"), ("$", "%24"))


def encode_key(raw: str) -> str:
    """An id as a map key; '%' first so decoding is exact."""
    for char, escape in _ESCAPES:
        raw = raw.replace(char, escape)
    return raw


def decode_key(key: str) -> str:
    """The id a map key was made from."""
    return unquote(key)
