"""Architecture rules that a reader relies on (STYLE.md): the domain is plain Python with no I/O."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

from shared.bus.binding import subscribe_all
from shared.contracts import MESSAGE_TYPES, CancelShipment, Command, Event, RaiseSupply
from shared.registry import REGISTRY, SERVICES
from shared.settings import ServiceSettings
from tests.support.consumers import consumers_module, consumes_table, recorded_subscriptions

ROOT = Path(__file__).resolve().parents[2]
IO_LIBRARIES = {"pymongo", "motor", "fastapi", "starlette", "aio_pika", "aiormq", "opentelemetry", "httpx",
                "uvicorn", "requests", "faststream"}  # fmt: skip


def imported_roots(path: Path) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("service", SERVICES)
def test_the_domain_of_each_service_imports_no_io_library(service: str):
    files = sorted((ROOT / "services" / service / "domain").rglob("*.py"))

    offenders = {str(f.relative_to(ROOT)): sorted(imported_roots(f) & IO_LIBRARIES) for f in files}

    assert files, f"services/{service}/domain/ has no modules"
    assert {f: libs for f, libs in offenders.items() if libs} == {}


def test_nothing_imports_motor_which_is_deprecated():
    files = [*ROOT.glob("services/**/*.py"), *ROOT.glob("shared/**/*.py")]

    assert [str(f) for f in files if "motor" in imported_roots(f)] == []


def subscribe_calls_outside_consumers(service: str) -> list[str]:
    """``<something>.bus.subscribe(...)`` / ``bus.subscribe(...)`` anywhere but consumers.py."""
    found = []
    for path in sorted((ROOT / "services" / service).rglob("*.py")):
        if path.name == "consumers.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "subscribe"
                    and (getattr(node.func.value, "id", None) == "bus"
                         or getattr(node.func.value, "attr", None) == "bus")):  # fmt: skip
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def consumes_problems(service: str) -> list[str]:
    """What is wrong with the service's one list of what it consumes (empty when nothing is)."""
    table = consumes_table(service)
    if table is None:
        return [f"services/{service}/consumers.py has no CONSUMES table"]
    problems = []
    for message_type, handler in table.items():
        if MESSAGE_TYPES.get(getattr(message_type, "__name__", "")) is not message_type:
            problems.append(f"{message_type} is not in shared.contracts.MESSAGE_TYPES: deliveries would park")
        if not inspect.iscoroutinefunction(handler):
            problems.append(f"the handler of {message_type.__name__} is not an async function")
            continue
        try:
            inspect.signature(handler).bind(None, None, None)
        except TypeError:
            problems.append(f"{handler.__name__} cannot be called as (message, envelope, deps)")
    bound = recorded_subscriptions(service)
    if bound != list(table):
        problems.append(f"subscribe binds {[t.__name__ for t in bound]}, CONSUMES lists "
                        f"{[t.__name__ for t in table]}")  # fmt: skip
    elsewhere = subscribe_calls_outside_consumers(service)
    problems += [f"subscribes outside consumers.py: {at}" for at in elsewhere]
    return problems


def command_routing_problems(tables: dict[str, set[type]]) -> list[str]:
    """A command goes to exactly one service, its ``SERVICE``; an event comes from a known service."""
    problems = []
    for name, message_type in MESSAGE_TYPES.items():
        takers = sorted(s for s, consumed in tables.items() if message_type in consumed)
        if issubclass(message_type, Command) and takers != [message_type.SERVICE]:
            problems.append(f"command {name} (SERVICE {message_type.SERVICE!r}) is consumed by {takers}")
        if issubclass(message_type, Event) and message_type.SERVICE not in tables:
            problems.append(f"event {name} names an unknown producer {message_type.SERVICE!r}")
    return problems


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_lists_what_it_consumes_in_one_place(service: str):
    # consumers.py has a CONSUMES table {MessageType: async handler(message, envelope, deps)} of
    # registered contracts, subscribe() binds exactly that table, and nothing else subscribes.
    assert consumes_problems(service) == []


def test_every_command_is_consumed_by_its_target_service_and_no_other():
    tables = {service: set(consumes_table(service) or {}) for service in SERVICES}

    assert command_routing_problems(tables) == []


def test_the_consumer_checks_name_what_is_wrong(monkeypatch: pytest.MonkeyPatch):
    """The checks above can fail: a command nobody or two services consume, a binding the table
    does not list, a message type the registry does not know."""
    tables = {service: set(consumes_table(service) or {}) for service in SERVICES}
    without = {**tables, "fulfillment": tables["fulfillment"] - {RaiseSupply}}
    twice = {**tables, "billing": tables["billing"] | {RaiseSupply}}

    assert command_routing_problems(without) == [
        "command RaiseSupply (SERVICE 'fulfillment') is consumed by []"]  # fmt: skip
    assert command_routing_problems(twice) == [
        "command RaiseSupply (SERVICE 'fulfillment') is consumed by ['billing', 'fulfillment']"]  # fmt: skip

    module = consumers_module("fulfillment")
    table = dict(module.CONSUMES)

    def subscribe_one_more(bus, deps):  # type: ignore[no-untyped-def]
        subscribe_all(bus, table, deps)
        bus.subscribe(CancelShipment, table[RaiseSupply])

    monkeypatch.setattr(module, "subscribe", subscribe_one_more)
    assert consumes_problems("fulfillment") == [
        "subscribe binds ['RaiseSupply', 'CancelSupply', 'CheckSupplyChange', 'ChangeSupply', "
        "'CancelShipment'], CONSUMES lists ['RaiseSupply', 'CancelSupply', 'CheckSupplyChange', "
        "'ChangeSupply']"]  # fmt: skip

    class Unregistered(Command):
        SERVICE = "fulfillment"

    monkeypatch.setattr(module, "CONSUMES", {**table, Unregistered: table[RaiseSupply]})
    monkeypatch.setattr(module, "subscribe", lambda bus, deps: subscribe_all(bus, module.CONSUMES, deps))
    assert [p for p in consumes_problems("fulfillment") if "MESSAGE_TYPES" in p] == [
        f"{Unregistered} is not in shared.contracts.MESSAGE_TYPES: deliveries would park"]  # fmt: skip


def test_every_service_package_is_in_the_registry_and_every_entry_has_a_package_and_a_url_setting():
    packages = {p.name for p in (ROOT / "services").iterdir() if (p / "__init__.py").exists()}

    assert packages == set(SERVICES)
    for entry in REGISTRY:
        assert (ROOT / "services" / entry.name / "main.py").exists(), entry.name
        assert ServiceSettings().model_dump()[f"{entry.name}_url"] == entry.default_url
    assert len({entry.port for entry in REGISTRY}) == len(REGISTRY)


def test_overrides_of_bootstrap_mean_settings_fields_in_every_service():
    from shared.settings import settings_for

    class Fake(ServiceSettings):
        pass

    assert settings_for(Fake, Fake(prefetch=4), {"max_attempts": 2}).model_dump() == {
        **Fake().model_dump(), "prefetch": 4, "max_attempts": 2,
    }  # fmt: skip
    assert settings_for(Fake, None, {}) == Fake()
    with pytest.raises(ValueError):
        settings_for(Fake, None, {"prefetch": 0})  # validated like the environment is
    for service in SERVICES:
        main = (ROOT / "services" / service / "main.py").read_text()
        assert "settings = settings_for(Settings, settings, overrides)" in main, service
