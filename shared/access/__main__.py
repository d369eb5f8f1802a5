"""``python -m shared.access``: manage API keys from a shell (issue 7).

    python -m shared.access create --role storefront --name web-shop --channel storefront --customer 'WEB-*'
    python -m shared.access list
    python -m shared.access revoke <key_id>
    python -m shared.access dev-keys --out .data/dev-keys.env

The key is printed once and never stored. MONGO_URL and DB_PREFIX name the deployment (the same
settings the services read); the admin API (``POST /keys`` on intake) does the same over HTTP.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from shared.access.keys import KeyRecord
from shared.access.provision import KeyAdmin
from shared.access.roles import ROLES
from shared.errors import DomainError
from shared.settings import ServiceSettings


def _iso(ms: int | None) -> str:
    return "-" if ms is None else datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="seconds")


def _row(r: KeyRecord) -> str:
    state = "revoked" if r.revoked_at else "active"
    scope = ",".join(r.customers) or "*"
    return (f"{r.key_id}  {r.role:<16} {r.name:<28} {state:<8} channel={r.channel or '-'} customers={scope} "
            f"expires={_iso(r.expires_at)} last_used={_iso(r.last_used_at)}")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m shared.access", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    create = sub.add_parser("create", help="mint a key and print it once")
    create.add_argument("--role", required=True, choices=list(ROLES))
    create.add_argument("--name", required=True, help="who the key belongs to; recorded as 'by' in histories")
    create.add_argument("--channel", help="storefront keys: the one channel they place orders on")
    create.add_argument("--customer", action="append", default=[], help="customer id or prefix* (repeat)")
    create.add_argument("--expires-days", type=int, help="expire after this many days")
    sub.add_parser("list", help="list every key (never the keys themselves)")
    revoke = sub.add_parser("revoke", help="revoke a key by its id")
    revoke.add_argument("key_id")
    dev = sub.add_parser("dev-keys", help="one development key per role, written as ROLE_KEY=... lines")
    dev.add_argument("--out", type=Path, default=Path(".data/dev-keys.env"))
    args = parser.parse_args(argv)

    defaults = ServiceSettings()
    admin = KeyAdmin(defaults.mongo_url, defaults.db_prefix)  # MONGO_URL, DB_PREFIX
    try:
        if args.command == "create":
            expires = None
            if args.expires_days is not None:
                expires = int((datetime.now(UTC) + timedelta(days=args.expires_days)).timestamp() * 1000)
            record, key = admin.create(name=args.name, role=args.role, channel=args.channel,
                                       customers=args.customer, expires_at=expires)  # fmt: skip
            print(_row(record))
            print(key)
        elif args.command == "list":
            for record in admin.all():
                print(_row(record))
        elif args.command == "revoke":
            found = admin.revoke(args.key_id)
            if found is None:
                print(f"no key {args.key_id}", file=sys.stderr)
                return 1
            print(_row(found))
        else:
            keys = admin.dev_keys(args.out)
            print(f"{len(keys)} development keys in {args.out}")
    except DomainError as exc:
        print(f"{exc.message}: {exc.fields}", file=sys.stderr)
        return 2
    finally:
        admin.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
