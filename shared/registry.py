"""The services of the platform and their default ports: the one list devstack, the tests, the
settings and the architecture test read, so a seventh service is one entry here (issue 6)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ServiceEntry:
    """A service: its name (``services.<name>``, ``<PREFIX>_<name>`` database, ``<NAME>_*`` settings)
    and the port it listens on by default (``<NAME>_PORT`` overrides it)."""

    name: str
    port: int

    @property
    def module(self) -> str:
        return f"services.{self.name}"

    @property
    def default_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


REGISTRY: tuple[ServiceEntry, ...] = (
    ServiceEntry("intake", 8001),
    ServiceEntry("inventory", 8002),
    ServiceEntry("fulfillment", 8003),
    ServiceEntry("logistics", 8004),
    ServiceEntry("billing", 8005),
    ServiceEntry("aftersales", 8006),
)
SERVICES: tuple[str, ...] = tuple(entry.name for entry in REGISTRY)
DEFAULT_PORTS: dict[str, int] = {entry.name: entry.port for entry in REGISTRY}
