"""The admin API for keys (issue 7), mounted on intake, the platform's front door.

``POST /keys`` mints a key and shows it once; ``GET /keys`` lists them (never the keys);
``POST /keys/{key_id}/revoke`` revokes one (records are never deleted). All need
``keys:manage`` (the admin role); ``created_by`` is the admin's own key name.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, Field

from shared.access.door import ERROR_RESPONSES, requires
from shared.access.keys import KeyRecord, issue
from shared.access.principal import Principal
from shared.access.registry import now_ms
from shared.access.roles import Permission
from shared.http import ApiError
from shared.schemas import RequestModel

router = APIRouter(prefix="/keys", tags=["access"], responses=ERROR_RESPONSES)
Admin = Annotated[Principal, requires(Permission.KEYS_MANAGE)]
KeyId = Annotated[str, Path(pattern=r"^[0-9a-f]{12}$")]


class KeyCreate(RequestModel):
    """``POST /keys``: no unknown fields, no control characters (shared.schemas)."""

    name: Annotated[str, Field(min_length=1, max_length=100)]
    role: Annotated[str, Field(max_length=40)]
    channel: Annotated[str | None, Field(max_length=40)] = None
    customers: Annotated[list[Annotated[str, Field(max_length=101)]], Field(max_length=1000)] = []
    expires_at: datetime | None = None


class KeyPublic(BaseModel):
    key_id: str
    name: str
    role: str
    channel: str | None
    customers: list[str]
    created_at: datetime
    created_by: str
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None

    @classmethod
    def of(cls, r: KeyRecord) -> KeyPublic:
        return cls(
            key_id=r.key_id, name=r.name, role=r.role, channel=r.channel, customers=list(r.customers),
            created_at=_at(r.created_at), created_by=r.created_by, expires_at=_opt(r.expires_at),
            revoked_at=_opt(r.revoked_at), last_used_at=_opt(r.last_used_at),
        )  # fmt: skip


class KeyIssued(KeyPublic):
    key: str = Field(description="the key itself: shown this once, stored only as a hash")


class KeyPage(BaseModel):
    items: list[KeyPublic]
    next_cursor: str | None


def _at(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def _opt(ms: int | None) -> datetime | None:
    return None if ms is None else _at(ms)


def _keys(request: Request) -> Any:
    return request.app.state.ctx.gate.keys.collection


@router.post("", status_code=201, response_model=KeyIssued)
async def create_key(body: KeyCreate, who: Admin, request: Request) -> KeyIssued:
    """Mint a key; the answer is the only time the key is shown."""
    expires = None if body.expires_at is None else int(body.expires_at.timestamp() * 1000)
    record, key = issue(
        name=body.name, role=body.role, now_ms=now_ms(), channel=body.channel,
        customers=tuple(body.customers), expires_at=expires, created_by=who.name,
    )  # fmt: skip
    await _keys(request).insert_one(record.to_doc())
    return KeyIssued(**KeyPublic.of(record).model_dump(), key=key)


@router.get("", response_model=KeyPage)
async def list_keys(
    who: Admin,
    request: Request,
    role: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: Annotated[str | None, Query(pattern=r"^[0-9a-f]{12}$")] = None,
) -> KeyPage:
    """Keys by id (never the keys themselves), optionally of one role; pass next_cursor back."""
    query: dict[str, Any] = {} if role is None else {"role": role}
    if cursor:
        query["_id"] = {"$gt": cursor}
    docs = await _keys(request).find(query).sort("_id", 1).limit(limit + 1).to_list()
    items = [KeyPublic.of(KeyRecord.from_doc(d)) for d in docs[:limit]]
    return KeyPage(items=items, next_cursor=items[-1].key_id if len(docs) > limit else None)


@router.get("/{key_id}", response_model=KeyPublic)
async def get_key(key_id: KeyId, who: Admin, request: Request) -> KeyPublic:
    """One key's record: role, scope, expiry, revocation, last use."""
    doc = await _keys(request).find_one({"_id": key_id})
    if doc is None:
        raise ApiError(404, "not_found", f"no key {key_id}")
    return KeyPublic.of(KeyRecord.from_doc(doc))


@router.post("/{key_id}/revoke", response_model=KeyPublic)
async def revoke_key(key_id: KeyId, who: Admin, request: Request) -> KeyPublic:
    """Revoke a key: every service refuses it within ``auth_cache_s`` seconds. Idempotent."""
    keys = _keys(request)
    await keys.update_one({"_id": key_id, "revoked_at": None}, {"$set": {"revoked_at": now_ms()}})
    doc = await keys.find_one({"_id": key_id})
    if doc is None:
        raise ApiError(404, "not_found", f"no key {key_id}")
    return KeyPublic.of(KeyRecord.from_doc(doc))
