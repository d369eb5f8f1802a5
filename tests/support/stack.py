"""Run some or all services as real processes against the real broker and store server."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import tempfile
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from devstack.processes import Proc, ensure_rabbitmq, free_port, start_service, start_store, wait_ready
from shared.access.provision import KeyAdmin
from shared.bus.access import service_urls
from shared.registry import SERVICES
from tests.support.rabbit_node import RabbitNode
from tests.support.tcp_proxy import TcpProxy
from tests.support.topology import delete_topology_sync

RETRY_DELAYS_MS = (100, 300, 600)

# The keys every stack gets (issue 7): role -> (key name, channel, customers). Test customers are
# CUST-*; the *_other keys act for OTHER-* customers, to show another customer's objects are 404s.
TEST_KEYS: dict[str, tuple[str, str, str | None, tuple[str, ...]]] = {
    "admin": ("admin", "test.admin", None, ()),
    "ops": ("ops", "ops.zhao", None, ()),
    "finance": ("finance", "finance.zhou", None, ()),
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

    async def ready_codes(self, names: Iterable[str] | None = None) -> dict[str, int]:
        """Each service's ``GET /ready`` status code (0: no answer), asked at once."""

        async def one(name: str) -> tuple[str, int]:
            try:
                async with httpx.AsyncClient(timeout=2) as http:
                    return name, (await http.get(f"{self.url(name)}/ready")).status_code
            except httpx.HTTPError:
                return name, 0

        return dict(await asyncio.gather(*(one(n) for n in (names or list(self.procs)))))

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    def client(self, name: str, as_: str | None = "admin") -> httpx.AsyncClient:
        """An HTTP client of service ``name`` sending the key of ``as_`` (a TEST_KEYS entry;
        None: no key). Tests of one service's behaviour act as admin; the access tests, and the
        end-to-end Shop, act as the role a real caller would have."""
        headers = {"Authorization": f"Bearer {self.key(as_)}"} if as_ else None
        # An idle connection is dropped before the services' keep-alive (HTTP_KEEP_ALIVE_S, 30 s)
        # ends it: never a request on a connection the server is closing.
        limits = httpx.Limits(keepalive_expiry=10.0)
        return httpx.AsyncClient(base_url=self.url(name), timeout=15, headers=headers, limits=limits)

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


LOCAL_AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/"


@dataclass
class OwnStack:
    """What ``own_stack`` started: a work directory, a broker and a store, and (unless asked for
    none) one ``Stack`` of services on fresh prefixes. ``amqp_url`` is the operator's URL of the
    broker itself (probes, teardown); the services reach it through ``proxy`` when there is one."""

    work: Path
    amqp_url: str
    mongo_url: str
    store: Proc | None = None  # the embedded store, when this run started it
    store_port: int = 0
    node: RabbitNode | None = None  # a private RabbitMQ node, when asked for
    proxy: TcpProxy | None = None  # a cuttable TCP proxy between the services and the broker
    stack: Stack | None = None

    @property
    def log_dir(self) -> Path:
        return self.work / "logs"

    @property
    def store_label(self) -> str:
        return "embedded nx-27017" if self.store is not None else "external (MONGO_URL)"

    def service_env(self) -> dict[str, str]:
        """The services' broker URLs: through the proxy when there is one."""
        if self.proxy is None:
            return {}
        url = self.proxy.url(self.amqp_url)
        return {"AMQP_URL": url, **service_urls(url, SERVICES)}

    def make_stack(self, extra_env: dict[str, str] | None = None) -> Stack:
        """A ``Stack`` (not started) on this run's broker and store, its bus users provisioned
        on a private node. The caller starts and stops it."""
        stack = Stack(
            amqp_url=self.amqp_url,
            mongo_url=self.mongo_url,
            log_dir=self.log_dir,
            extra_env={**self.service_env(), **(extra_env or {})},
        )
        if self.node is not None:
            self.node.provision(stack.prefix)
        return stack

    def kill_store(self) -> None:
        """SIGKILL the embedded store (its data stays on disk)."""
        if self.store is None:
            raise RuntimeError("the store is external (MONGO_URL): this run cannot restart it")
        self.store.kill()

    def start_store(self) -> None:
        """Start the embedded store again on the same port and data (after ``kill_store``)."""
        self.store = start_store(self.work / "store", self.store_port, self.log_dir)

    def restart_store(self, down_s: float = 0.0) -> float:
        """SIGKILL the store, keep it down ``down_s``, start it again; returns the outage."""
        began = time.monotonic()
        self.kill_store()
        if down_s:
            time.sleep(down_s)
        self.start_store()
        return time.monotonic() - began


@contextlib.contextmanager
def own_stack(
    tag: str,
    *,
    services: Iterable[str] = SERVICES,
    extra_env: dict[str, str] | None = None,
    private_broker: bool = False,
    consumer_timeout_ms: int | None = None,
    proxy: bool = False,
    mongo_url: str | None = None,
) -> Iterator[OwnStack]:
    """A whole stack of one's own, for benches, chaos runs and devstack tools (issue 9).

    - the broker: ``AMQP_URL`` (default the local one, started if needed), or with
      ``private_broker`` a RabbitMQ node of its own (tests/support/rabbit_node.py, optionally with
      a low ``consumer_timeout_ms``) that may be restarted or killed;
    - the store: ``mongo_url``, else ``MONGO_URL``, else an embedded store of its own in the
      work directory (which ``OwnStack.restart_store`` can restart);
    - with ``proxy``, a ``TcpProxy`` between the services and the broker;
    - ``services`` (default all six; empty for none) started as one ``Stack`` with fresh
      prefixes and ``extra_env``; ``OwnStack.make_stack`` gives further stacks.

    Everything is stopped and removed on exit, in reverse order.
    """
    with tempfile.TemporaryDirectory(prefix=f"oms-{tag}-") as tmp, contextlib.ExitStack() as cleanup:
        work = Path(tmp)
        if private_broker:
            node = RabbitNode.start_new(consumer_timeout_ms=consumer_timeout_ms)
            cleanup.callback(node.cleanup)
            amqp_url = node.url
        else:
            node = None
            amqp_url = os.environ.get("AMQP_URL", LOCAL_AMQP_URL)
            ensure_rabbitmq(amqp_url)
        own = OwnStack(work=work, amqp_url=amqp_url, mongo_url=mongo_url or os.environ.get("MONGO_URL", ""),
                       node=node)  # fmt: skip
        if not own.mongo_url:
            own.store_port = free_port()
            own.start_store()
            own.mongo_url = f"mongodb://127.0.0.1:{own.store_port}/?directConnection=true"
            cleanup.callback(lambda: own.store.stop() if own.store is not None else None)
        if proxy:
            target = urlsplit(amqp_url)
            own.proxy = TcpProxy(target.hostname or "127.0.0.1", target.port or 5672).start()
            cleanup.callback(own.proxy.close)
        names = list(services)
        if names:
            stack = own.make_stack(extra_env)
            cleanup.callback(stack.stop)
            stack.start(names)
            own.stack = stack
        yield own
