"""API keys (issue 7): random, shown once, stored only as a hash, revocable, with a name, a
role, an optional expiry and the time it was last used.

A key reads ``oms_<key id>_<secret>``: the id finds the record without a scan, the whole key's
SHA-256 is what is stored and compared (the secret has 256 bits, so a fast hash is enough; no
password stretching is needed for random keys). Times are epoch milliseconds (the embedded
store keeps datetimes set by ``$set`` as strings: docs/STORE-NOTES.md).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, field
from typing import Any

from shared.access.roles import ROLES, Role
from shared.errors import DomainError

KEY_PREFIX = "oms_"
_KEY = re.compile(r"^oms_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$")
COLLECTION = "api_keys"


def access_db_name(db_prefix: str) -> str:
    """The key registry's database: platform infrastructure like the broker's users, written by
    the admin API and CLI only, read (through a cache) by every service's door."""
    return f"{db_prefix}_access"


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def key_id_of(key: str) -> str | None:
    """The id part of a well-formed key, else None (a malformed key is never looked up)."""
    match = _KEY.match(key)
    return match.group(1) if match else None


def new_key() -> tuple[str, str]:
    """A fresh ``(key_id, key)``; the key is shown to its owner once and never stored."""
    key_id = secrets.token_hex(6)
    return key_id, f"{KEY_PREFIX}{key_id}_{secrets.token_urlsafe(32)}"


class InvalidKeySpec(DomainError):
    status, code = 422, "validation_failed"


@dataclass(frozen=True)
class KeyRecord:
    """What the registry keeps of a key: never the key itself."""

    key_id: str
    hash: str
    name: str
    role: str
    created_at: int
    channel: str | None = None
    # Customer ids this key may act for; an entry ending in ``*`` is a prefix (``WEB-*``).
    customers: tuple[str, ...] = ()
    expires_at: int | None = None
    revoked_at: int | None = None
    created_by: str = ""
    last_used_at: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def role_def(self) -> Role:
        return ROLES[self.role]

    def matches(self, key: str) -> bool:
        return hmac.compare_digest(self.hash, digest(key))

    def usable(self, now_ms: int) -> bool:
        return self.revoked_at is None and (self.expires_at is None or now_ms < self.expires_at)

    def to_doc(self) -> dict[str, Any]:
        return {
            "_id": self.key_id, "hash": self.hash, "name": self.name, "role": self.role,
            "created_at": self.created_at, "channel": self.channel, "customers": list(self.customers),
            "expires_at": self.expires_at, "revoked_at": self.revoked_at,
            "created_by": self.created_by, "last_used_at": self.last_used_at,
        }  # fmt: skip

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> KeyRecord:
        return cls(
            key_id=doc["_id"], hash=doc["hash"], name=doc["name"], role=doc["role"],
            created_at=int(doc["created_at"]), channel=doc.get("channel"),
            customers=tuple(doc.get("customers") or ()), expires_at=_ms(doc.get("expires_at")),
            revoked_at=_ms(doc.get("revoked_at")), created_by=doc.get("created_by") or "",
            last_used_at=_ms(doc.get("last_used_at")),
        )  # fmt: skip


def _ms(value: Any) -> int | None:
    return None if value is None else int(value)


_CUSTOMER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}\*?$|^\*$")


def issue(
    *, name: str, role: str, now_ms: int, channel: str | None = None,
    customers: tuple[str, ...] = (), expires_at: int | None = None, created_by: str = "",
) -> tuple[KeyRecord, str]:
    """Validate a key's description and mint it: ``(record to store, key to show once)``."""
    fields: dict[str, str] = {}
    if role not in ROLES:
        fields["role"] = f"must be one of {', '.join(ROLES)}"
    elif ROLES[role].scoped and not customers:
        fields["customers"] = f"a {role} key acts for named customers: give at least one (or a prefix*)"
    elif not ROLES[role].scoped and customers:
        fields["customers"] = f"a {role} key is not bound to customers"
    if role in ROLES and ROLES[role].needs_channel and not channel:
        fields["channel"] = f"a {role} key is bound to one channel"
    bad = [c for c in customers if not _CUSTOMER.match(c)]
    if bad:
        fields["customers"] = f"not a customer id or prefix*: {bad[0]!r}"
    if not name.strip():
        fields["name"] = "required"
    if expires_at is not None and expires_at <= now_ms:
        fields["expires_at"] = "must be in the future"
    if fields:
        raise InvalidKeySpec("the key description has invalid fields", fields)
    key_id, key = new_key()
    record = KeyRecord(
        key_id=key_id, hash=digest(key), name=name.strip(), role=role, created_at=now_ms,
        channel=channel, customers=tuple(customers), expires_at=expires_at, created_by=created_by,
    )  # fmt: skip
    return record, key
