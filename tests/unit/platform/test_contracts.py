"""The message contracts (shared/contracts/): a registry that builds itself, documented messages,
routing keys that name their owner, and every command consumed by exactly the service it names."""

from __future__ import annotations

import importlib

import pytest

from shared.contracts import MESSAGE_TYPES, Command, Event
from shared.registry import SERVICES


def test_every_message_declared_in_the_package_is_registered():
    declared = {
        name
        for module in (
            "intake", "billing", "inventory", "fulfillment", "logistics", "aftersales", "timers", "parking"
        )
        for name, obj in vars(importlib.import_module(f"shared.contracts.{module}")).items()
        if isinstance(obj, type) and issubclass(obj, Command | Event) and obj not in (Command, Event)
    }

    assert declared == set(MESSAGE_TYPES)
    assert {"ShipmentLost", "DeadlinePassed", "ReserveCredit"} <= declared


@pytest.mark.parametrize("name", sorted(MESSAGE_TYPES))
def test_every_message_says_in_one_line_what_it_means(name: str):
    doc = (MESSAGE_TYPES[name].__doc__ or "").strip()

    assert doc and "\n" not in doc, f"{name} needs a one-line docstring"


@pytest.mark.parametrize("name", sorted(MESSAGE_TYPES))
def test_every_routing_key_names_a_registered_service(name: str):
    kind, service, type_name = MESSAGE_TYPES[name].routing_key().split(".")

    assert (kind, type_name) == ("cmd" if issubclass(MESSAGE_TYPES[name], Command) else "evt", name)
    assert service in SERVICES


def test_every_command_is_consumed_by_the_service_it_is_addressed_to_and_no_other():
    consumes = {s: set(importlib.import_module(f"services.{s}.consumers").CONSUMES) for s in SERVICES}

    for command in (cls for cls in MESSAGE_TYPES.values() if issubclass(cls, Command)):
        owners = {s for s, types in consumes.items() if command in types}
        assert owners == {command.SERVICE}, f"{command.__name__} is consumed by {owners or 'nobody'}"


def test_the_asyncapi_document_names_a_channel_sender_and_schema_for_every_message():
    from devstack import asyncapi

    doc = asyncapi.document()
    operations = doc["operations"].values()

    assert doc["asyncapi"] == "3.0.0" and set(doc["channels"]) == set(MESSAGE_TYPES)
    for name, cls in MESSAGE_TYPES.items():
        assert doc["channels"][name]["address"] == cls.routing_key()
        payload = doc["components"]["messages"][name]["payload"]
        assert payload["properties"]["payload"]["title"] == name and "message_id" in payload["required"]
        actions = {op["action"] for op in operations if op["channel"]["$ref"] == f"#/channels/{name}"}
        assert "send" in actions, f"nobody sends {name}"
        if issubclass(cls, Command):
            assert "receive" in actions, f"nobody receives {name}"
    sends = [op for op in operations if op["action"] == "send"]
    senders = {op["x-service"] for op in sends if op["channel"]["$ref"] == "#/channels/ReleaseStock"}
    assert senders == {"intake"}  # a compensation, sent from the saga's STEPS table
