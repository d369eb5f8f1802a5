"""Run some or all services as real processes against the real broker and store server."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from devstack.processes import Proc, free_port, start_service, wait_ready
from shared.access.provision import KeyAdmin
from shared.bus.access import service_urls
from shared.registry import SERVICES
from tests.support.topology import delete_topology_sync

RETRY_DELAYS_MS = (100, 300, 600)

# The keys every stack gets (issue 7): role -> (key name, channel, customers). Test customers are
# CUST-*; the *_other keys act for OTHER-* customers, to show another customer's objects are 404s.
TEST_KEYS: dict[str, tuple[str, str, str | None, tuple[str, ...]]] = {
    "admin": ("admin", "test.admin", None, ()),
    "ops": ("ops", "ops.zhao", None, ()),
    "manager": ("manager", "manager.wang", None, ()),
    "general_manager": ("general_manager", "gm.chen", None, ()),
    "storefront": ("storefront", "shop.web", "storefront", ("CUST-*",)),
    "erp": ("erp", "erp.acme", None, ("CUST-*",)),
    "warehouse": ("warehouse", "wh.qian", None, ()),
    "carrier": ("carrier", "carrier.sf", None, ()),
    "service": ("service", "service:test", None, ()),
    "storefront_other": ("storefront", "shop.other", "storefront", ("OTHER-*",)),
    "erp_other": ("erp", "erp.other", None, ("OTHER-*",)),
}


@dataclass
class Stack:
    """Services sharing one bus prefix and one database prefix, isolated from any other run."""

    amqp_url: str
    mongo_url: str
    log_dir: Path
    prefix: str = field(default_factory=lambda: f"t{uuid.uuid4().hex[:10]}")
    ports: dict[str, int] = field(default_factory=dict)
    procs: dict[str, Proc] = field(default_factory=dict)
    extra_env: dict[str, str] = field(default_factory=dict)
    # One key per entry of TEST_KEYS, made when the stack starts; ``client(name, as_=role)``.
    keys: dict[str, str] = field(default_factory=dict)

    @property
    def env(self) -> dict[str, str]:
        env = {
            "AMQP_URL": self.amqp_url,
            "MONGO_URL": self.mongo_url,
            "BUS_PREFIX": self.prefix,
            "DB_PREFIX": self.prefix,
            "SIMULATE": "0",
            "LOG_LEVEL": "INFO",
            # Short back-off and relay grace keep failure tests quick; production keeps the defaults.
            "RETRY_DELAYS_MS": ",".join(map(str, RETRY_DELAYS_MS)),
            "RELAY_GRACE_S": "1.0",
            "RELAY_INTERVAL_S": "0.5",
            "SHUTDOWN_GRACE_S": "5",
            # Tests place orders faster than a storefront's production rate; the rate-limit test
            # sets its own (issue 7).
            "RATE_LIMIT_DEFAULT": "2000/4000",
            "RATE_LIMITS": "",
            # Each service on the bus as its own RabbitMQ user (issue 7; tests/conftest.py makes them).
            **service_urls(self.amqp_url, SERVICES),
        }
        for name, port in self.ports.items():
            env[f"{name.upper()}_URL"] = f"http://127.0.0.1:{port}"
        return {**env, **self.extra_env}

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    def client(self, name: str, as_: str | None = "admin") -> httpx.AsyncClient:
        """An HTTP client of service ``name`` sending the key of ``as_`` (a TEST_KEYS entry;
        None: no key). Tests of one service's behaviour act as admin; the access tests, and the
        end-to-end Shop, act as the role a real caller would have."""
        headers = {"Authorization": f"Bearer {self.key(as_)}"} if as_ else None
        return httpx.AsyncClient(base_url=self.url(name), timeout=15, headers=headers)

    def key(self, role: str) -> str:
        if not self.keys:
            self.provision_keys()
        return self.keys[role]

    def provision_keys(self) -> None:
        admin = KeyAdmin(self.mongo_url, self.prefix)
        try:
            for entry, (role, name, channel, customers) in TEST_KEYS.items():
                _, self.keys[entry] = admin.create(
                    name=name, role=role, channel=channel, customers=customers, created_by="tests"
                )
        finally:
            admin.close()

    def start(self, names: Iterable[str]) -> Stack:
        names = list(names)
        if not self.keys:
            self.provision_keys()
        for name in names:
            self.ports.setdefault(name, free_port())
        for name in names:
            self.procs[name] = start_service(name, self.ports[name], self.env, self.log_dir / self.prefix)
        for name in names:
            wait_ready(self.procs[name])
        return self

    def kill(self, name: str) -> None:
        self.procs[name].kill()

    def restart(self, name: str) -> None:
        if self.procs[name].alive():
            self.procs[name].stop()
        self.start([name])

    def stop(self) -> None:
        for proc in reversed(list(self.procs.values())):
            proc.stop(grace_s=10)
        delete_topology_sync(self.amqp_url, self.prefix, self.procs, RETRY_DELAYS_MS)

    def log_lines(self, name: str) -> list[dict[str, object]]:
        """The service's structured log, one JSON object per line."""
        lines = []
        for raw in self.procs[name].log_path.read_text(errors="replace").splitlines():
            if raw.startswith("{"):
                lines.append(json.loads(raw))
        return lines

    def logs(self) -> str:
        return "\n".join(f"--- {n}\n{p.log_tail(15)}" for n, p in self.procs.items())


def wait_until(predicate, timeout: float = 20, interval: float = 0.2, message: str = "condition"):  # type: ignore[no-untyped-def]
    """Poll a synchronous predicate; returns its truthy value or fails naming what was awaited."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {message}")
        time.sleep(interval)
