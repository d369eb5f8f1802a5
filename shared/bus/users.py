"""Create the services' RabbitMQ users and their permissions, idempotently (issue 7).

    python -m shared.bus.users                      # local broker, through rabbitmqctl
    python -m shared.bus.users --api http://admin:pw@rabbitmq:15672 --prefix oms --pin-prefix
    python -m shared.bus.users --print              # the definitions, imported by nobody

One user per service (``oms-intake`` ..., shared/bus/access.py), no tags (no management UI), with
exactly what its code needs, derived from the code (shared/bus/traffic.py) so it cannot drift:

- configure: the exchanges ``P.bus`` and ``P.dlx`` and its own queues ``P.S``, ``P.S.parked``,
  ``P.S.retry.<ms>`` (services declare their topology at start-up);
- write: ``P.bus``, ``P.dlx`` and its own work and parking queues (binding), and the default
  exchange ``amq.default`` (its retry and parking copies go straight to its own queues);
- read: ``P.bus``, ``P.dlx`` (binding), its work queue (consuming) and its retry queues;
- topic permissions on ``P.bus``: it may publish only the routing keys of the messages it sends
  and bind only the keys of the messages it consumes.

``P`` is any bus prefix (every test stack has its own) unless ``--pin-prefix`` names one. Topic
permissions belong to one exchange by name, so they are set for ``--prefix`` only (default
``BUS_PREFIX``, else ``oms``); a stack with another prefix relies on the consumers' sender check
(shared/bus/access.py), which also covers what RabbitMQ cannot limit: a user that may write to
``amq.default`` may route to any queue by name, and one that may configure ``P.bus`` may delete it.

Everything goes to the broker as one definitions document (``rabbitmqctl import_definitions`` or
the management API's ``POST /api/definitions``), which creates or replaces each user, permission
and topic permission: running it twice changes nothing. Password hashes use a salt derived from
the user and password, so the second document is byte for byte the first.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import httpx

from shared.bus import traffic
from shared.bus.access import DEFAULT_USER_TEMPLATE, bus_user, password_for
from shared.registry import SERVICES

ANY_PREFIX = ".+"
HASHING = "rabbit_password_hashing_sha256"


@dataclass(frozen=True)
class Grants:
    """One service's user and its permissions (regular expressions, as RabbitMQ takes them)."""

    service: str
    user: str
    configure: str
    write: str
    read: str
    topic_write: str
    topic_read: str


def _alternatives(names: Iterable[str]) -> str:
    names = sorted(set(names))
    return f"^({'|'.join(re.escape(n) for n in names)})$" if names else "^$"


def grants(service: str, prefix: str | None = None, template: str = DEFAULT_USER_TEMPLATE) -> Grants:
    """What ``service``'s user may do on a bus with ``prefix`` (None: any prefix)."""
    p = re.escape(prefix) if prefix is not None else ANY_PREFIX
    s = re.escape(service)
    consumed = traffic.consumed_by(service)
    sent = traffic.sent_by(service)
    if consumed:
        configure = rf"^{p}\.(bus|dlx|{s}(\.parked|\.retry\.[0-9]+)?)$"
        write = rf"^(amq\.default|{p}\.(bus|dlx|{s}(\.parked)?))$"
        read = rf"^{p}\.(bus|dlx|{s}(\.retry\.[0-9]+)?)$"
    else:  # it only publishes: the exchange, nothing else
        configure = write = rf"^{p}\.bus$"
        read = "^$"
    return Grants(
        service=service,
        user=bus_user(service, template),
        configure=configure,
        write=write,
        read=read,
        topic_write=_alternatives(cls.routing_key() for cls in sent),
        topic_read=_alternatives(cls.routing_key() for cls in consumed),
    )


def password_hash(user: str, password: str) -> str:
    """RabbitMQ's salted SHA-256 (``rabbit_password_hashing_sha256``) with a salt derived from the
    user and password: the same inputs give the same document."""
    salt = hashlib.sha256(f"oms-bus-users\0{user}\0{password}".encode()).digest()[:4]
    return base64.b64encode(salt + hashlib.sha256(salt + password.encode()).digest()).decode()


def definitions(
    *,
    prefix: str = "oms",
    pin_prefix: bool = False,
    vhost: str = "/",
    users: bool = True,
    template: str = DEFAULT_USER_TEMPLATE,
    env: Mapping[str, str] | None = None,
    services: Iterable[str] = SERVICES,
) -> dict[str, Any]:
    """The definitions document: users and permissions (unless ``users`` is False) and the topic
    permissions on ``<prefix>.bus``."""
    doc: dict[str, Any] = {"users": [], "permissions": [], "topic_permissions": []}
    for service in services:
        g = grants(service, prefix if pin_prefix else None, template)
        if users:
            secret = password_for(service, env)
            doc["users"].append({"name": g.user, "password_hash": password_hash(g.user, secret),
                                 "hashing_algorithm": HASHING, "tags": []})  # fmt: skip
            doc["permissions"].append({"user": g.user, "vhost": vhost, "configure": g.configure,
                                       "write": g.write, "read": g.read})  # fmt: skip
        doc["topic_permissions"].append({"user": g.user, "vhost": vhost, "exchange": f"{prefix}.bus",
                                         "write": g.topic_write, "read": g.topic_read})  # fmt: skip
    if not users:
        del doc["users"], doc["permissions"]
    return doc


class Rabbitmqctl:
    """The local node, through rabbitmqctl (root, or the broker's Erlang cookie)."""

    def __init__(self, ctl: str | None = None) -> None:
        found = ctl or shutil.which("rabbitmqctl") or "/usr/sbin/rabbitmqctl"
        if not os.path.exists(found):
            raise RuntimeError("rabbitmqctl not found: pass --api <management URL> for a remote broker")
        self.ctl = found

    def _run(self, *args: str) -> None:
        done = subprocess.run([self.ctl, "-q", *args], capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"rabbitmqctl {args[0]} failed: {(done.stderr or done.stdout).strip()}")

    def import_definitions(self, doc: dict[str, Any]) -> None:
        # 3.10's rabbitmqctl reads no stdin ("-"): a private temporary file, removed at once.
        # Debian's rabbitmqctl reads it as the broker's user: the file is handed to that user.
        with tempfile.NamedTemporaryFile("w", suffix=".json", prefix="oms-bus-users-") as file:
            json.dump(doc, file)
            file.flush()
            _readable_by_broker(file.name)
            self._run("import_definitions", file.name)

    def clear_topic_permissions(self, vhost: str, users: Iterable[str], exchange: str) -> None:
        """Remove ``exchange``'s topic permissions of ``users`` (a test stack's, when it stops)."""
        argv = [self.ctl, "-q", "clear_topic_permissions", "-p", vhost]
        procs = [
            subprocess.Popen([*argv, user, exchange], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for user in users
        ]
        for proc in procs:
            proc.wait(timeout=120)


def _readable_by_broker(path: str) -> None:
    try:
        import pwd

        broker = pwd.getpwnam("rabbitmq")
        if os.geteuid() == 0:
            os.chown(path, broker.pw_uid, broker.pw_gid)
            return
    except (ImportError, KeyError, OSError):
        pass
    os.chmod(path, 0o644)  # no rabbitmq user, or not root: the CLI runs as us (or must read it)


class ManagementApi:
    """A broker's management HTTP API; the URL carries an administrator's credentials."""

    def __init__(self, url: str, wait_s: float = 60) -> None:
        parts = urlsplit(url)
        self.auth = (unquote(parts.username or "guest"), unquote(parts.password or "guest"))
        host = parts.hostname or "127.0.0.1"
        netloc = f"{host}:{parts.port}" if parts.port else host
        self.base = urlunsplit((parts.scheme or "http", netloc, parts.path.rstrip("/"), "", ""))
        self.wait_s = wait_s

    def _request(self, method: str, path: str, body: Any = None) -> httpx.Response:
        deadline = time.monotonic() + self.wait_s
        while True:  # the management listener opens a little after the AMQP port
            try:
                response = httpx.request(method, f"{self.base}{path}", json=body, auth=self.auth, timeout=30)
                if response.status_code < 500:
                    break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
            if time.monotonic() > deadline:
                break
            time.sleep(1)
        if response.status_code >= 300:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text[:300]}")
        return response

    def import_definitions(self, doc: dict[str, Any]) -> None:
        self._request("POST", "/api/definitions", doc)

    def clear_topic_permissions(self, vhost: str, users: Iterable[str], exchange: str) -> None:
        for user in users:
            path = f"/api/topic-permissions/{quote(vhost, safe='')}/{quote(user, safe='')}"
            kept = [p for p in self._request("GET", path).json() if p.get("exchange") != exchange]
            self._request("DELETE", path)
            for entry in kept:
                self._request("PUT", path, {k: entry[k] for k in ("exchange", "write", "read")})


Broker = Rabbitmqctl | ManagementApi


def broker_for(amqp_url: str | None = None, api: str | None = None) -> Broker:
    """The management API when ``api`` (or RABBITMQ_API_URL) names one, else the local rabbitmqctl."""
    api = api or os.environ.get("RABBITMQ_API_URL")
    if api:
        return ManagementApi(api)
    host = urlsplit(amqp_url or "").hostname or "127.0.0.1"
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise RuntimeError(
            f"the broker at {host} is not local: set RABBITMQ_API_URL=http://<admin>:<password>@{host}:15672"
        )
    return Rabbitmqctl(os.environ.get("RABBITMQCTL"))


def vhost_of(amqp_url: str | None) -> str:
    path = urlsplit(amqp_url or "").path
    return unquote(path[1:]) if len(path) > 1 else "/"


def provision(
    amqp_url: str | None = None,
    *,
    prefix: str | None = None,
    pin_prefix: bool = False,
    vhost: str | None = None,
    api: str | None = None,
    users: bool = True,
    env: Mapping[str, str] | None = None,
) -> list[str]:
    """Create or update every service's user, permissions and topic permissions on the broker of
    ``amqp_url`` (its vhost); returns the users. Idempotent."""
    env = os.environ if env is None else env
    prefix = prefix or env.get("BUS_PREFIX") or "oms"
    template = env.get("BUS_USER_TEMPLATE") or DEFAULT_USER_TEMPLATE
    doc = definitions(prefix=prefix, pin_prefix=pin_prefix, vhost=vhost or vhost_of(amqp_url), users=users,
                      template=template, env=env)  # fmt: skip
    broker_for(amqp_url, api).import_definitions(doc)
    return [entry["user"] for entry in doc["topic_permissions"]]


def clear_topic_permissions(amqp_url: str | None, prefix: str, api: str | None = None) -> None:
    """Undo ``provision(users=False, prefix=...)`` for a prefix that is gone (test stacks)."""
    template = os.environ.get("BUS_USER_TEMPLATE") or DEFAULT_USER_TEMPLATE
    users = [bus_user(service, template) for service in SERVICES]
    broker_for(amqp_url, api).clear_topic_permissions(vhost_of(amqp_url), users, f"{prefix}.bus")


def main(argv: list[str] | None = None) -> int:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(prog="python -m shared.bus.users", description=__doc__,
                                     formatter_class=formatter)  # fmt: skip
    parser.add_argument("--prefix", help="bus prefix whose exchange gets topic permissions (BUS_PREFIX, oms)")
    parser.add_argument("--pin-prefix", action="store_true", help="limit every permission to --prefix")
    parser.add_argument("--vhost", help="virtual host (default: AMQP_URL's, else /)")
    parser.add_argument("--api", help="management API URL with admin credentials (RABBITMQ_API_URL)")
    parser.add_argument("--require-passwords", action="store_true",
                        help="fail unless each service has <SERVICE>_AMQP_PASSWORD or _AMQP_URL")  # fmt: skip
    parser.add_argument("--print", action="store_true", help="print the definitions instead of importing")
    args = parser.parse_args(argv)
    env = os.environ
    if args.require_passwords:
        names = ("AMQP_PASSWORD", "AMQP_URL")
        missing = [s for s in SERVICES if not any(env.get(f"{s.upper()}_{n}") for n in names)]
        if missing:
            print(f"no password for {', '.join(missing)}: set <SERVICE>_AMQP_PASSWORD", file=sys.stderr)
            return 2
    amqp_url = env.get("AMQP_URL")
    vhost = args.vhost or vhost_of(amqp_url)
    prefix = args.prefix or env.get("BUS_PREFIX") or "oms"
    if args.print:
        doc = definitions(prefix=prefix, pin_prefix=args.pin_prefix, vhost=vhost,
                          template=env.get("BUS_USER_TEMPLATE") or DEFAULT_USER_TEMPLATE)  # fmt: skip
        print(json.dumps(doc, indent=2))
        return 0
    try:
        users = provision(amqp_url, prefix=prefix, pin_prefix=args.pin_prefix, vhost=vhost, api=args.api)
    except (RuntimeError, OSError, httpx.HTTPError) as exc:
        print(f"bus users not provisioned: {exc}", file=sys.stderr)
        return 1
    scope = f"prefix {prefix}" if args.pin_prefix else "any prefix"
    print(f"bus users ({scope}, vhost {vhost}, topic permissions on {prefix}.bus): {', '.join(users)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
