"""Map keys that are safe inside dotted update paths (``holds.<order_id>``).

MongoDB reads ``.`` as a path separator and ``$`` as an operator, so ids that carry them
(a SKU "LAMP.RED" in a return receipt key, a warehouse "a.b") are percent-encoded.
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
