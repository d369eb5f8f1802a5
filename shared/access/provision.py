"""Keys made outside a request (issue 7): the CLI, ``make run``'s development keys, the tests.

Synchronous PyMongo on purpose: these run before any service does. The admin API
(``/keys`` on intake) and this module write the same records (shared.access.keys).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pymongo import MongoClient

from shared.access.keys import COLLECTION, KeyRecord, access_db_name, issue, key_id_of


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass(frozen=True)
class DevKey:
    """One development key: the env variable it is written to and what it may do."""

    env: str
    role: str
    name: str
    channel: str | None = None
    customers: tuple[str, ...] = ()


# The demo customers are CUST-*: the storefront and ERP development keys act for those.
DEV_KEYS: tuple[DevKey, ...] = (
    DevKey("ADMIN_KEY", "admin", "dev.admin"),
    DevKey("OPS_KEY", "ops", "dev.ops"),
    DevKey("MANAGER_KEY", "manager", "dev.manager"),
    DevKey("GENERAL_MANAGER_KEY", "general_manager", "dev.general_manager"),
    DevKey("STOREFRONT_KEY", "storefront", "dev.storefront", "storefront", ("CUST-*",)),
    DevKey("ERP_KEY", "erp", "dev.erp", None, ("CUST-*",)),
    DevKey("WAREHOUSE_KEY", "warehouse", "dev.warehouse"),
    DevKey("CARRIER_KEY", "carrier", "dev.carrier"),
)


class KeyAdmin:
    """Create, list and revoke keys in one deployment's registry (``<db_prefix>_access``)."""

    def __init__(self, mongo_url: str, db_prefix: str) -> None:
        self.client: MongoClient[dict[str, Any]] = MongoClient(mongo_url, serverSelectionTimeoutMS=10_000)
        self.keys = self.client[access_db_name(db_prefix)][COLLECTION]

    def close(self) -> None:
        self.client.close()

    def create(
        self, *, name: str, role: str, channel: str | None = None, customers: Iterable[str] = (),
        expires_at: int | None = None, created_by: str = "cli",
    ) -> tuple[KeyRecord, str]:
        record, key = issue(
            name=name, role=role, now_ms=now_ms(), channel=channel, customers=tuple(customers),
            expires_at=expires_at, created_by=created_by,
        )  # fmt: skip
        self.keys.insert_one(record.to_doc())
        return record, key

    def revoke(self, key_id: str) -> KeyRecord | None:
        self.keys.update_one({"_id": key_id, "revoked_at": None}, {"$set": {"revoked_at": now_ms()}})
        doc = self.keys.find_one({"_id": key_id})
        return KeyRecord.from_doc(doc) if doc else None

    def all(self) -> list[KeyRecord]:
        return [KeyRecord.from_doc(doc) for doc in self.keys.find().sort("created_at", 1)]

    def valid(self, key: str) -> bool:
        key_id = key_id_of(key)
        doc = self.keys.find_one({"_id": key_id}) if key_id else None
        record = KeyRecord.from_doc(doc) if doc else None
        return record is not None and record.matches(key) and record.usable(now_ms())

    def dev_keys(self, env_file: Path) -> dict[str, str]:
        """One key per role (DEV_KEYS), reusing those in ``env_file`` that still work, writing the
        file anew (``ROLE_KEY=...`` lines, readable by ``source`` and by docker-compose)."""
        known = read_env_file(env_file)
        keys: dict[str, str] = {}
        for spec in DEV_KEYS:
            old = known.get(spec.env)
            if old and self.valid(old):
                keys[spec.env] = old
                continue
            _, keys[spec.env] = self.create(
                name=spec.name, role=spec.role, channel=spec.channel, customers=spec.customers,
                created_by="make run",
            )  # fmt: skip
        env_file.parent.mkdir(parents=True, exist_ok=True)
        body = "".join(f"{name}={value}\n" for name, value in keys.items())
        env_file.write_text("# Development API keys, one per role (issue 7); made by `make run`.\n" + body)
        env_file.chmod(0o600)
        return keys


def read_env_file(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    lines = path.read_text().splitlines()
    pairs = (line.split("=", 1) for line in lines if "=" in line and not line.startswith("#"))
    return {name.strip(): value.strip() for name, value in pairs}
