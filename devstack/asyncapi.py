"""The AsyncAPI 3.0 document of the bus, generated from the code (issue 6): every command and event
of ``shared.contracts``, its channel (routing key on the topic exchange), payload schema, the
services that send it and the services that consume it (their ``consumers.py`` CONSUMES tables).

Who sends a message is read from the source: a service sends the messages its modules construct
(``ReserveStock(...)``); who consumes it is its CONSUMES table. ``make docs`` writes the result to
docs/asyncapi.json and a unit test fails when that file is stale.
"""

from __future__ import annotations

import ast
import importlib
import json
from pathlib import Path
from typing import Any

from shared.contracts import MESSAGE_TYPES, Command, Message
from shared.envelope import Envelope
from shared.registry import SERVICES

ROOT = Path(__file__).resolve().parent.parent
EXCHANGE = "<prefix>.bus"
TIMER_MESSAGES = frozenset({"DeadlinePassed"})  # published by shared.timers to the scheduling service
# Published by shared.bus (delivery.py) of every service when it parks a message of an order (issue 7).
PARKING_MESSAGES = frozenset({"MessageParked"})


def senders() -> dict[str, set[str]]:
    """message type -> the services that publish it: an event's owner; for a command, every other
    service whose code (outside its consumers.py) names it, and for a timer's message the service
    that schedules it (shared.timers sends it to itself); a parking report comes from every service."""
    named: dict[str, set[str]] = {name: set() for name in MESSAGE_TYPES}
    for service in SERVICES:
        for path in sorted((ROOT / "services" / service).rglob("*.py")):
            if path.name == "consumers.py":
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                name = node.id if isinstance(node, ast.Name) else getattr(node, "attr", None)
                if name in named:
                    named[name].add(service)
    found: dict[str, set[str]] = {}
    for name, cls in MESSAGE_TYPES.items():
        if not issubclass(cls, Command):
            found[name] = {cls.SERVICE}
        elif name in TIMER_MESSAGES:
            found[name] = {cls.SERVICE}
        elif name in PARKING_MESSAGES:
            found[name] = set(SERVICES)
        else:
            found[name] = named[name] - {cls.SERVICE}
    return found


def consumers() -> dict[str, set[str]]:
    """message type -> the services whose CONSUMES table binds it."""
    found: dict[str, set[str]] = {name: set() for name in MESSAGE_TYPES}
    for service in SERVICES:
        for cls in importlib.import_module(f"services.{service}.consumers").CONSUMES:
            found[cls.__name__].add(service)
    return found


def enveloped(cls: type[Message]) -> dict[str, Any]:
    """The body on the wire: the envelope, whose ``payload`` is the message (AMQP headers carry the
    W3C trace context and the retry count; message_id, type, correlation_id are also AMQP properties)."""
    schema = Envelope.model_json_schema()
    schema["properties"]["payload"] = cls.model_json_schema()
    schema["properties"]["type"] = {"const": cls.__name__, "title": "Type", "type": "string"}
    schema["title"] = f"{cls.__name__} envelope"
    return schema


def document() -> dict[str, Any]:
    """The AsyncAPI 3.0 document as a dict (sorted, so the file only changes when the code does)."""
    sent, consumed = senders(), consumers()
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for name in sorted(MESSAGE_TYPES):
        cls = MESSAGE_TYPES[name]
        kind = "command" if issubclass(cls, Command) else "event"
        messages[name] = {
            "name": name,
            "title": name,
            "summary": (cls.__doc__ or "").strip(),
            "contentType": "application/json",
            "payload": enveloped(cls),
            "correlationId": {"location": "$message.payload#/correlation_id"},
            "x-kind": kind,
            "x-owner": cls.SERVICE,
        }
        channels[name] = {
            "address": cls.routing_key(),
            "title": f"{name} on {EXCHANGE}",
            "messages": {name: {"$ref": f"#/components/messages/{name}"}},
            "bindings": {"amqp": {"is": "routingKey", "exchange": {"name": EXCHANGE, "type": "topic",
                                                                     "durable": True}}},
        }  # fmt: skip
        for service in sorted(sent[name]):
            ref = {"$ref": f"#/channels/{name}"}
            operations[f"{service}.send.{name}"] = {"action": "send", "channel": ref, "x-service": service}
        for service in sorted(consumed[name]):
            operations[f"{service}.receive.{name}"] = {
                "action": "receive",
                "channel": {"$ref": f"#/channels/{name}"},
                "x-service": service,
                "bindings": {"amqp": {"ack": True}},
                "x-queue": f"<prefix>.{service} (quorum, dead-lettered to <prefix>.{service}.parked)",
            }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Order-management platform: the bus",
            "version": "1",
            "description": "Commands go to exactly one service (cmd.<target>.<Type>), events fan out "
            "(evt.<producer>.<Type>). Every message travels in one envelope (shared/envelope.py); "
            "generated by devstack/asyncapi.py, do not edit.",
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages},
    }


def render() -> str:
    return json.dumps(document(), indent=2, sort_keys=True) + "\n"
