"""Nothing in the logs or parked messages of a full run carries a phone number or an API key
(issue 7): an order goes through the whole saga with the shop's phone ``13800138000`` and has its
packing list printed, another is cancelled, a malformed command and a broken copy of the order's
own ``CreateShipment`` are parked, callers knock with keys that are not valid; then every service's
log file and every parking queue of the stack (and every message the probe saw on the bus) is
scanned for mainland mobile numbers, with or without separators or +86, and for key prefixes."""

from __future__ import annotations

import re

import aio_pika

from shared.bus import Names
from tests.support.api import Shop
from tests.support.barriers import handled
from tests.support.probe import BusProbe
from tests.support.stack import Stack

PHONE_USED = "13800138000"  # Shop.order_body's contact phone
# An 11-digit mainland mobile, alone or as 138-0013-8000 / 138 0013 8000 / +86 138 0013 8000 /
# 008613800138000; not inside a longer run of digits or letters (ids, hashes, epoch millis).
MOBILE = re.compile(r"(?<![0-9A-Za-z])(?:(?:\+|00)?86[\s-]?)?1[3-9]\d(?:[\s-]?\d{4}){2}(?![0-9A-Za-z])")
KEY = re.compile(r"oms_[0-9a-f]{12}_")
A_KEY_NOBODY_HAS = "oms_0123456789ab_" + "A" * 43  # well-formed, unknown: the 401 path


def leaks(text: str) -> list[str]:
    return MOBILE.findall(text) + KEY.findall(text)


async def parked_messages(amqp_url: str, stack: Stack) -> dict[str, list[str]]:
    """The body and headers of every message in every parking queue of the stack, as text, read
    without consuming them: got unacked, then handed back when the channel closes."""
    found: dict[str, list[str]] = {}
    connection = await aio_pika.connect_robust(amqp_url)
    try:
        for service in stack.procs:
            channel = await connection.channel()
            queue = await channel.get_queue(Names(stack.prefix, service).parked, ensure=False)
            texts = found[service] = []
            while (message := await queue.get(fail=False, no_ack=False)) is not None:
                texts.append(message.body.decode(errors="replace") + "\n" + repr(dict(message.headers or {})))
            await channel.close()  # unacked: every message goes back to its queue
    finally:
        await connection.close()
    return found


def test_the_patterns_find_what_a_leak_would_look_like(e2e_stack: Stack):
    for shown in (PHONE_USED, "138-0013-8000", "138 0013 8000", "+86 138-0013-8000", "008613800138000",
                  f'"phone": "{PHONE_USED}"', f"input_value='{PHONE_USED}'"):  # fmt: skip
        assert MOBILE.search(shown), shown
    for innocent in ("SO202611001", "1760000000000", "SF138001380001", "a13800138000b", "2026-05-06"):
        assert not MOBILE.search(innocent), innocent
    assert all(KEY.match(key) for key in e2e_stack.keys.values())


async def test_no_log_and_no_parked_message_of_a_full_run_carries_a_phone_or_a_key(
    shop: Shop, probe: BusProbe, e2e_stack: Stack, amqp_url: str
):
    customer = await shop.customer()
    sku = await shop.product(on_hand=10)
    made = await shop.product(on_hand=0, sourcing="make")
    # A whole saga with the shop's phone, and the packing list that prints it.
    assert shop.order_body(customer, [(sku, 1)])["contact"]["phone"] == PHONE_USED
    order_id = (await shop.place(customer, [(sku, 2)]))["order_id"]
    await shop.wait_status(order_id, "ready_to_ship")
    [shipment] = await shop.wait_shipments(order_id)
    sheet = await shop.ok(
        await shop.as_("warehouse")["logistics"].get(f"/shipments/{shipment['shipment_id']}/packing-list")
    )
    done = await shop.deliver(order_id)
    # A cancelled order: every compensation runs.
    cancelled = (await shop.place(customer, [(made, 3)]))["order_id"]
    await shop.wait_supply_orders(cancelled)
    assert (await shop.cancel(cancelled)).status_code == 202
    await shop.wait_status(cancelled, "cancelled")
    # Two parked messages: one that is no envelope, and a broken copy of the order's CreateShipment,
    # which is what held the phone before issue 7.
    [booking] = probe.matching("CreateShipment", order_id)
    await probe.publish_raw("cmd.inventory.ReserveStock", b'{"this is": "not an envelope"')
    broken = booking.model_copy(update={"message_id": f"broken-{booking.message_id}",
                                        "payload": {**booking.payload, "amount": "lots"}})  # fmt: skip
    await probe.publish(booking.message(), envelope=broken)
    [report] = await probe.wait_for("MessageParked", order_id)
    await handled(e2e_stack, "intake", report)  # intake marked the order stuck and logged it
    # Keys that are not valid, and a key sent where no key belongs.
    for service in e2e_stack.procs:
        async with e2e_stack.client(service, as_=None) as anonymous:
            for header in (f"Bearer {A_KEY_NOBODY_HAS}", "Bearer oms_deadbeefcafe_short", A_KEY_NOBODY_HAS):
                response = await anonymous.get("/ops/metrics", headers={"Authorization": header})
                assert response.status_code == 401, (service, response.text)
    misplaced = await shop.http["intake"].get("/orders", params={"api_key": e2e_stack.key("ops")})
    assert misplaced.status_code == 422

    parked = await parked_messages(amqp_url, e2e_stack)
    logs = {name: proc.log_path.read_text(errors="replace") for name, proc in e2e_stack.procs.items()}

    # The scan cannot pass for want of material: the phone was used, the logs and queues were read.
    assert done["status"] == "completed" and sheet["phone"] == PHONE_USED
    assert (await shop.order(order_id))["contact"]["phone"] == PHONE_USED
    assert "contact_phone" not in booking.payload
    assert set(logs) == {"intake", "inventory", "fulfillment", "logistics", "billing", "aftersales"}
    for name, text in logs.items():
        assert '"msg": "service started"' in text, f"{name}'s log was not read"
    assert order_id in logs["logistics"] and cancelled in logs["fulfillment"]
    assert any("not an envelope" in text for text in parked["inventory"])
    assert any(broken.message_id in text for text in parked["logistics"])
    assert sum(len(texts) for texts in parked.values()) >= 2
    # ... and finds nothing.
    found = {name: leaks(text) for name, text in logs.items()}
    found |= {f"{name}.parked": leaks("\n".join(texts)) for name, texts in parked.items()}
    found["bus"] = leaks("\n".join(e.model_dump_json() for e in probe.seen))
    assert {where: hits for where, hits in found.items() if hits} == {}
    for key in e2e_stack.keys.values():  # no key in any form, prefix or not
        assert not any(key in text or key.split("_", 2)[2] in text for text in logs.values())


