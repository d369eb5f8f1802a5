"""Who sends and who consumes every message, read from the code (issues 6 and 7).

The AsyncAPI document (devstack/asyncapi.py), the RabbitMQ users' permissions (shared/bus/users.py)
and the consumers' sender check (shared/bus/access.py) all read these two tables, so what a service
may send or bind cannot drift from what its code does:

- ``senders()``: an event is sent by its owner (``SERVICE``); a command by every other service whose
  modules (outside its consumers.py) name the class, e.g. ``ReserveStock(...)`` in intake, narrowed
  by the command's ``SENT_BY`` when it has one (a service may name a command to classify it, as
  intake's stuck orders do with the return saga's); a timer's
  message (declared in shared/contracts/timers.py) by the service that schedules it, to itself; a
  parking report (shared/contracts/parking.py) by every service, whose bus reports what it parks.
  Only the source is read (``ast``), nothing is imported: a service reads its senders at start-up.
- ``consumers()``: the services whose ``CONSUMES`` table (services/<name>/consumers.py) binds it,
  read from its source too.
"""

from __future__ import annotations

import ast
import importlib
from functools import cache
from pathlib import Path

from shared.contracts import MESSAGE_TYPES, Command, Message
from shared.registry import SERVICES

ROOT = Path(__file__).resolve().parents[2]
TIMERS_MODULE = "shared.contracts.timers"  # messages shared.timers sends to the service that set them
PARKING_MODULE = "shared.contracts.parking"  # what shared.bus of every service sends when it parks


def is_timer_message(cls: type[Message]) -> bool:
    return cls.__module__ == TIMERS_MODULE


@cache
def _named_by() -> dict[str, frozenset[str]]:
    """message type -> the services whose code outside consumers.py names the class."""
    named: dict[str, set[str]] = {name: set() for name in MESSAGE_TYPES}
    for service in SERVICES:
        paths = sorted((ROOT / "services" / service).rglob("*.py"))
        if not paths:
            raise RuntimeError(f"no source of services.{service} under {ROOT}: cannot tell who sends what")
        for path in paths:
            if path.name == "consumers.py":
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                name = node.id if isinstance(node, ast.Name) else getattr(node, "attr", None)
                if name in named:
                    named[name].add(service)
    return {name: frozenset(found) for name, found in named.items()}


def senders() -> dict[str, frozenset[str]]:
    """message type -> the services that publish it (see the module's docstring)."""
    named = _named_by()
    found: dict[str, frozenset[str]] = {}
    for name, cls in MESSAGE_TYPES.items():
        if not issubclass(cls, Command) or is_timer_message(cls):
            found[name] = frozenset({cls.SERVICE})
        elif cls.__module__ == PARKING_MODULE:
            found[name] = frozenset(SERVICES)
        elif cls.SENT_BY:
            declared = frozenset(cls.SENT_BY)
            if not declared <= named[name]:  # a stale declaration: fail loudly, never grant silently
                stale = sorted(declared - named[name])
                raise RuntimeError(f"{name}.SENT_BY names {stale}, whose code never names it")
            found[name] = declared
        else:
            found[name] = named[name] - {cls.SERVICE}
    return found


def consumers() -> dict[str, frozenset[str]]:
    """message type -> the services whose CONSUMES table binds it."""
    found: dict[str, set[str]] = {name: set() for name in MESSAGE_TYPES}
    for service in SERVICES:
        for cls in consumed_by(service):
            found[cls.__name__].add(service)
    return {name: frozenset(services) for name, services in found.items()}


@cache
def consumed_by(service: str) -> list[type[Message]]:
    """The message types ``service``'s queue is bound to, in its CONSUMES table's order.

    Read from the literal ``CONSUMES = {Type: handler, ...}`` of its consumers.py without importing
    the service (provisioning runs in a second, not after importing six services); a table that is
    not such a literal is imported instead. A unit test holds the two readings equal."""
    tree = ast.parse((ROOT / "services" / service / "consumers.py").read_text(encoding="utf-8"))
    for node in tree.body:
        target: ast.expr
        value: ast.expr | None
        if isinstance(node, ast.AnnAssign):
            target, value = node.target, node.value
        elif isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        else:
            continue
        if not (isinstance(target, ast.Name) and target.id == "CONSUMES" and isinstance(value, ast.Dict)):
            continue
        names = [k.id if isinstance(k, ast.Name) else getattr(k, "attr", None) for k in value.keys]
        if all(name in MESSAGE_TYPES for name in names):
            return [MESSAGE_TYPES[name] for name in names if name is not None]
    return imported_consumes(service)


def imported_consumes(service: str) -> list[type[Message]]:
    """The CONSUMES table as the running service has it (imports the service)."""
    return list(importlib.import_module(f"services.{service}.consumers").CONSUMES)


def sent_by(service: str) -> list[type[Message]]:
    """The message types ``service`` publishes, sorted by name."""
    sent = senders()
    return [MESSAGE_TYPES[name] for name in sorted(sent) if service in sent[name]]
