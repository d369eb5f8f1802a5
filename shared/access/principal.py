"""The authenticated caller (issue 7): what its key says it is and may do.

Every "who" in a history (``by`` of a cancellation, an approval, an inspection) is
``Principal.name``, never a field of the request body.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.access.keys import KeyRecord
from shared.access.roles import Permission, Role


@dataclass(frozen=True)
class Principal:
    key_id: str
    name: str
    role: Role
    channel: str | None = None
    customers: tuple[str, ...] = ()

    @classmethod
    def of(cls, record: KeyRecord) -> Principal:
        return cls(record.key_id, record.name, record.role_def, record.channel, record.customers)

    @property
    def internal(self) -> bool:
        """Internal roles see internal fields (phone, credit figures, flags); others do not."""
        return self.role.internal

    def may(self, permission: Permission) -> bool:
        return permission in self.role.permissions

    def acts_for(self, customer_id: str | None) -> bool:
        """Whether this caller may see or act on objects of ``customer_id`` (unscoped roles: all)."""
        if not self.role.scoped:
            return True
        if not customer_id:
            return False
        return any(
            customer_id.startswith(c[:-1]) if c.endswith("*") else customer_id == c for c in self.customers
        )

    def customer_filter(self) -> tuple[str, ...] | None:
        """For list queries: the customer ids / prefixes (``X*``) to restrict to, None for all."""
        return self.customers if self.role.scoped else None


def customer_query(patterns: tuple[str, ...], field: str = "customer_id") -> dict[str, object]:
    """A store filter matching ``patterns`` (exact ids, ``PREFIX*`` prefixes) on ``field``."""
    import re

    alternatives: list[dict[str, object]] = [
        {field: {"$regex": f"^{re.escape(p[:-1])}"}} if p.endswith("*") else {field: p} for p in patterns
    ]
    return alternatives[0] if len(alternatives) == 1 else {"$or": alternatives}
