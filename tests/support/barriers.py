"""Barriers: wait for what a test means (a delivery handled, parked, seen), never a fixed sleep.

A sleep followed by "nothing happened" passes when the service is slow or down. These wait for
evidence that the service did process what the test sent, then the test asserts:

- ``handled(stack, "billing", env)``: the consuming service logged ``message handled`` for that
  message id (shared/bus/bus.py logs it after the ack, so the handler's writes and what it
  published, with confirms, are done). A redelivery of one id is handled once more: pass
  ``count``. A message parked instead never gets there: the failure names what was logged.
- ``parked_logged(stack, service, env)``: the service logged that it parked the message.
- ``synced(probe)``: everything any publisher had confirmed before the call has reached the probe
  (a marker through the same exchange, seen last), so "the probe saw no X" is meaningful after an
  HTTP call (requests publish before they answer) or after ``handled``.
- ``quiet(stack, probe, order_id)``: every message the probe saw for the order was handled by
  every running service that consumes it, as often as it was seen, and nothing new followed.
- ``parked_until(probe, service, count)``: drains the parking queue until ``count`` are out.
- ``eventually(check)``: a deadline poll for anything else (a collector, a handler's own calls).
"""

from __future__ import annotations

import asyncio
import inspect
import json
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aio_pika

from shared.envelope import Envelope, utcnow
from tests.support.consumers import consumed_types
from tests.support.probe import BusProbe
from tests.support.stack import Stack

HANDLED = "message handled"
PARKING = "message cannot be processed, parking it"
REFUSED = "message refused: its sender may not send it, parking it"  # shared/bus/delivery.py
POLL_S = 0.05


@dataclass
class _Tail:
    """What has been read of one service's log so far: the log is only ever appended to."""

    offset: int = 0
    handled: Counter[str] = field(default_factory=Counter)
    handled_per_order: Counter[str] = field(default_factory=Counter)
    by_id: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


_tails: dict[Path, _Tail] = {}


def _tail(stack: Stack, service: str) -> _Tail:
    """Read the new complete lines of the service's log (a line still being written waits)."""
    path = stack.procs[service].log_path
    tail = _tails.setdefault(path, _Tail())
    with path.open("rb") as log:
        if log.seek(0, 2) < tail.offset:  # replaced: start over
            tail = _tails[path] = _Tail()
        log.seek(tail.offset)
        data = log.read()
    end = data.rfind(b"\n")
    if end < 0:
        return tail
    tail.offset += end + 1
    for raw in data[: end + 1].splitlines():
        if not raw.startswith(b"{"):
            continue
        try:
            line = json.loads(raw)
        except ValueError:
            continue
        message_id = line.get("message_id")
        if message_id is None:
            continue
        tail.by_id.setdefault(str(message_id), []).append(line)
        if line.get("msg") == HANDLED:
            tail.handled[str(message_id)] += 1
            tail.handled_per_order[str(line.get("order_id"))] += 1
    return tail


def handled_counts(stack: Stack, service: str) -> Counter[str]:
    """How many times the service logged ``message handled``, per message id."""
    return _tail(stack, service).handled


def handled_count(stack: Stack, service: str, message_id: str) -> int:
    return handled_counts(stack, service)[message_id]


def handled_for_orders(stack: Stack, service: str, order_ids: Iterable[str]) -> int:
    """How many deliveries about these orders the service has handled so far."""
    per_order = _tail(stack, service).handled_per_order
    return sum(per_order[order_id] for order_id in order_ids)


def lines_about(stack: Stack, service: str, message_id: str) -> list[dict[str, Any]]:
    """Every log line of the service that names the message id (handled, retried, parked ...)."""
    return list(_tail(stack, service).by_id.get(message_id, []))


def _about(stack: Stack, service: str, message_id: str) -> str:
    lines = lines_about(stack, service, message_id)
    shown = [(line.get("level"), line.get("msg"), line.get("error")) for line in lines[-10:]]
    alive = stack.procs[service].alive()
    return f"{service} ({'running' if alive else 'not running'}) logged for {message_id}: {shown}"


def is_parking(line: dict[str, Any]) -> bool:
    """The line the bus logs when it parks a delivery its handler refused or failed on too often,
    or whose sender may not send it."""
    msg = str(line.get("msg", ""))
    return msg in (PARKING, REFUSED) or (msg.startswith("handler failed") and msg.endswith("parking"))


async def logged(
    stack: Stack,
    service: str,
    message_id: str | Envelope,
    *,
    where: Callable[[dict[str, Any]], bool],
    what: str,
    count: int = 1,
    within: float = 20,
) -> list[dict[str, Any]]:
    """Wait until ``service`` logged ``count`` lines for the message id that ``where`` accepts."""
    message_id = message_id.message_id if isinstance(message_id, Envelope) else message_id
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        lines = [line for line in lines_about(stack, service, message_id) if where(line)]
        if len(lines) >= count:
            return lines
        if loop.time() > deadline:
            raise AssertionError(
                f"expected {service} to log {what!r} {count} time(s) for {message_id}, it did {len(lines)}; "
                + _about(stack, service, message_id)
            )
        await asyncio.sleep(POLL_S)


async def handled(
    stack: Stack, service: str, message_id: str | Envelope, count: int = 1, within: float = 20
) -> list[dict[str, Any]]:
    """Wait until ``service`` logged ``message handled`` ``count`` times for the message id.

    Returns those log lines. Fails naming what the service did log for the id (retries, parking)
    when the count is not reached, e.g. because the message was parked instead of handled.
    """
    return await logged(
        stack, service, message_id, where=lambda line: line.get("msg") == HANDLED, what=HANDLED,
        count=count, within=within,
    )  # fmt: skip


async def parked_logged(
    stack: Stack, service: str, message_id: str | Envelope, within: float = 20
) -> list[dict[str, Any]]:
    """Wait until ``service`` logged that it parked the message (refused, or failed too often)."""
    return await logged(stack, service, message_id, where=is_parking, what="parking", within=within)


async def eventually(
    check: Callable[[], Any], *, within: float = 20, what: str = "condition", interval: float = 0.1
) -> Any:
    """Poll ``check`` (sync, or returning an awaitable) until it is truthy; fail naming ``what``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        value = check()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {within:.0f} s waiting for {what}")
        await asyncio.sleep(interval)


async def handled_all(
    stack: Stack, service: str, envelopes: list[Envelope], count: int = 1, within: float = 20
) -> None:
    """``handled`` for several messages at once (e.g. a batch published together)."""
    deadline = asyncio.get_running_loop().time() + within
    for env in envelopes:
        remaining = max(deadline - asyncio.get_running_loop().time(), POLL_S)
        await handled(stack, service, env.message_id, count=count, within=remaining)


async def synced(probe: BusProbe, within: float = 10) -> None:
    """Wait until everything confirmed on the exchange before this call has reached the probe.

    A marker goes through the probe's own exchange on a routing key no service binds; the probe's
    queue receives in the order the broker routed, so once the marker is seen, so is every message
    a service had published (with confirms) before. The marker (type ``ProbeSync``, an order id of
    its own) stays in ``probe.seen``: filter by order before asking an envelope for its routing key.
    """
    marker = Envelope(
        message_id=uuid.uuid4().hex,
        type="ProbeSync",
        correlation_id=f"probe-sync-{uuid.uuid4().hex[:8]}",
        occurred_at=utcnow(),
        producer="probe",
        payload={},
    )
    await probe.exchange.publish(
        aio_pika.Message(marker.model_dump_json().encode(), message_id=marker.message_id),
        routing_key=f"probe.sync.{marker.message_id}",
    )
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not any(e.message_id == marker.message_id for e in probe.seen):
        if loop.time() > deadline:
            raise AssertionError("the probe did not see its own marker: is the broker reachable?")
        await asyncio.sleep(POLL_S)


def _unhandled(
    stack: Stack, probe: BusProbe, order_id: str | None, where: Callable[[Envelope], bool] | None
) -> list[tuple[str, str, str, int, int]]:
    """(service, type, message id, seen, handled) for every copy the probe saw but nobody handled."""
    seen = Counter(
        (e.type, e.message_id)
        for e in probe.seen
        if e.type != "ProbeSync"
        and (order_id is None or e.correlation_id == order_id)
        and (where is None or where(e))
    )
    missing = []
    for service in stack.procs:
        consumes = consumed_types(service)
        counts = handled_counts(stack, service)
        for (type_name, message_id), copies in seen.items():
            if type_name in consumes and counts[message_id] < copies:
                missing.append((service, type_name, message_id, copies, counts[message_id]))
    return missing


async def quiet(
    stack: Stack,
    probe: BusProbe,
    order_id: str | None = None,
    *,
    where: Callable[[Envelope], bool] | None = None,
    within: float = 30,
) -> None:
    """Wait until the stack has nothing left to do for the order (or what ``where`` selects).

    Every copy of every message the probe saw was handled by each running service that consumes
    its type; then the probe is synced and checked again, so what those handlers published in turn
    is handled too. Only then does "nothing more was sent / changed" mean something.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        missing = _unhandled(stack, probe, order_id, where)
        if not missing:
            await synced(probe)
            missing = _unhandled(stack, probe, order_id, where)
            if not missing:
                return
        if loop.time() > deadline:
            about = [_about(stack, s, m) for s, _, m, _, _ in missing[:3]]
            raise AssertionError(
                f"not handled (service, type, id, seen, handled): {missing[:10]}; " + "; ".join(about)
            )
        await asyncio.sleep(POLL_S * 2)


async def parked_until(
    probe: BusProbe, service: str, count: int, within: float = 20
) -> list[tuple[bytes, dict[str, object]]]:
    """Drain the service's parking queue until ``count`` messages are out (``probe.parked`` drains)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    parked: list[tuple[bytes, dict[str, object]]] = []
    while True:
        parked.extend(await probe.parked(service))
        if len(parked) >= count:
            return parked
        if loop.time() > deadline:
            errors = [h.get("x-error") for _, h in parked]
            raise AssertionError(f"expected {count} parked by {service}, found {len(parked)}: {errors}")
        await asyncio.sleep(POLL_S * 2)
