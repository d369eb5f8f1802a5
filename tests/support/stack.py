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
from tests.support.topology import delete_topology_sync

RETRY_DELAYS_MS = (100, 300, 600)


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
        }
        for name, port in self.ports.items():
            env[f"{name.upper()}_URL"] = f"http://127.0.0.1:{port}"
        return {**env, **self.extra_env}

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    def client(self, name: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.url(name), timeout=15)

    def start(self, names: Iterable[str]) -> Stack:
        names = list(names)
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
