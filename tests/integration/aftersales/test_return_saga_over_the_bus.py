"""The return saga (R8.3) in the real aftersales process: HTTP in, commands out, replies in."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from shared.contracts import CreditNoteIssued, LineQty, ReturnRestocked
from shared.envelope import Envelope
from tests.integration.aftersales.fake_intake import FakeIntake
from tests.support.barriers import handled, synced
from tests.support.probe import BusProbe

pytestmark = pytest.mark.integration


async def request_return(
    api: httpx.AsyncClient, order: dict[str, Any], lines: dict[str, int], reason: str = "damaged"
) -> dict[str, Any]:
    body = {
        "order_id": order["order_id"],
        "lines": [{"sku": s, "quantity": q} for s, q in lines.items()],
        "reason": reason,
    }
    response = await api.post("/returns", json=body)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def inspect(api: httpx.AsyncClient, return_id: str, result: str, note: str = "") -> httpx.Response:
    return await api.post(f"/returns/{return_id}/inspection", json={"result": result, "note": note})


async def wait_return(api: httpx.AsyncClient, return_id: str, status: str) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for _ in range(100):
        found = (await api.get(f"/returns/{return_id}")).json()
        if found["status"] == status:
            return found
        await asyncio.sleep(0.1)
    raise AssertionError(f"return {return_id} is {found.get('status')}, expected {status}")


def about(return_id: str):  # type: ignore[no-untyped-def]
    return lambda env: env.payload.get("return_id") == return_id


async def restock(probe: BusProbe, ret: dict[str, Any]) -> Envelope:
    """What inventory does with RestockReturn: put the goods back and say so."""
    (command,) = await probe.wait_for("RestockReturn", ret["order_id"], where=about(ret["return_id"]))
    lines = [LineQty(**line) for line in command.payload["lines"]]
    reply = ReturnRestocked(order_id=ret["order_id"], return_id=ret["return_id"], lines=lines)
    return await probe.publish(reply, producer="inventory", causation=command)


async def credit(probe: BusProbe, ret: dict[str, Any], credit_note_id: str) -> tuple[Envelope, Envelope]:
    """What billing does with IssueCreditNote: book a negative entry (R6.2) and say so."""
    (command,) = await probe.wait_for("IssueCreditNote", ret["order_id"], where=about(ret["return_id"]))
    reply = CreditNoteIssued(
        order_id=ret["order_id"],
        return_id=ret["return_id"],
        credit_note_id=credit_note_id,
        total=-command.payload["total"],
        tax=0,
    )
    return command, await probe.publish(reply, producer="billing", causation=command)


async def test_a_passed_return_is_restocked_refunded_and_completed(api, probe, intake: FakeIntake):
    order = intake.add_order({"LAMP-1": 3, "LAMP-2": 1}, unit_price=12_000)
    ret = await request_return(api, order, {"LAMP-1": 2})
    assert (ret["status"], ret["freight_payer"]) == ("awaiting_inspection", "company")

    inspected = await inspect(api, ret["return_id"], "pass", note="sellable")
    assert (inspected.status_code, inspected.json()["status"]) == (202, "restocking")
    await restock(probe, ret)
    command, _ = await credit(probe, ret, "CN-1")
    (done,) = await probe.wait_for("ReturnCompleted", order["order_id"], where=about(ret["return_id"]))

    assert command.payload["customer_id"] == order["customer_id"]
    assert command.payload["lines"] == [
        {"sku": "LAMP-1", "quantity": 2, "unit_price": 12_000, "amount": 24_000}
    ]
    assert command.payload["total"] == 24_000
    assert done.payload["refund_total"] == 24_000 and done.payload["credit_note_id"] == "CN-1"
    assert done.payload["lines"] == [{"sku": "LAMP-1", "quantity": 2}]
    final = await wait_return(api, ret["return_id"], "completed")
    assert [h["event"] for h in final["history"]] == [
        "requested",
        "reviewed",
        "inspection_passed",
        "ReturnRestocked",
        "CreditNoteIssued",
    ]
    assert final["credit_note_total"] == -24_000


async def test_duplicate_and_late_replies_change_nothing(api, probe, stack, intake: FakeIntake):
    order = intake.add_order({"LAMP-1": 1})
    ret = await request_return(api, order, {"LAMP-1": 1})
    await inspect(api, ret["return_id"], "pass")
    restocked = await restock(probe, ret)
    _, credited = await credit(probe, ret, "CN-2")
    await probe.wait_for("ReturnCompleted", order["order_id"], where=about(ret["return_id"]))
    before = await wait_return(api, ret["return_id"], "completed")

    await probe.publish(ReturnRestocked.model_validate(restocked.payload), envelope=restocked)
    await probe.publish(CreditNoteIssued.model_validate(credited.payload), envelope=credited)
    late = CreditNoteIssued(
        order_id=order["order_id"], return_id=ret["return_id"], credit_note_id="CN-OTHER", total=-1, tax=0
    )
    late_env = await probe.publish(late, producer="billing")
    await handled(stack, "aftersales", restocked, count=2)  # the first delivery and its duplicate
    await handled(stack, "aftersales", credited, count=2)
    await handled(stack, "aftersales", late_env)
    await synced(probe)  # whatever those deliveries published has reached the probe

    assert len(probe.matching("IssueCreditNote", order["order_id"])) == 1
    assert len(probe.matching("ReturnCompleted", order["order_id"])) == 1
    assert (await api.get(f"/returns/{ret['return_id']}")).json() == before
    assert await probe.parked("aftersales") == []


async def test_replies_about_an_unknown_return_are_ignored_not_parked(api, probe, stack):
    restocked = await probe.publish(
        ReturnRestocked(order_id="SO-NOPE", return_id="RT-NOPE", lines=[]), producer="inventory"
    )
    credited = await probe.publish(
        CreditNoteIssued(order_id="SO-NOPE", return_id="RT-NOPE", credit_note_id="CN", total=-1, tax=0),
        producer="billing",
    )
    await handled(stack, "aftersales", restocked)  # handled (acked), so neither retried nor parked
    await handled(stack, "aftersales", credited)
    await synced(probe)

    assert await probe.parked("aftersales") == []
    assert probe.matching("IssueCreditNote", "SO-NOPE") == probe.matching("ReturnCompleted", "SO-NOPE") == []


async def test_a_failed_inspection_rejects_the_return_and_sends_nothing_to_stock_or_billing(
    api, probe, intake: FakeIntake
):
    order = intake.add_order({"LAMP-1": 2})
    ret = await request_return(api, order, {"LAMP-1": 2}, reason="changed my mind")

    failed = await inspect(api, ret["return_id"], "fail", note="used, scratched")
    again = await inspect(api, ret["return_id"], "fail")
    flipped = await inspect(api, ret["return_id"], "pass")
    await synced(probe)  # each request published what it caused before answering

    assert ret["freight_payer"] == "customer"  # the customer's own choice (R8.3)
    assert (failed.status_code, failed.json()["status"]) == (202, "rejected")
    assert (again.status_code, again.json()["status"]) == (202, "rejected")
    assert flipped.status_code == 409 and flipped.json()["error"]["code"] == "invalid_state"
    after = (await api.get(f"/returns/{ret['return_id']}")).json()
    assert after["status"] == "rejected"  # the refused flip changed nothing
    assert [h["event"] for h in after["history"]].count("inspection_passed") == 0
    (rejected,) = probe.matching("ReturnRejected", order["order_id"])  # once, not per request
    assert rejected.payload == {
        "order_id": order["order_id"],
        "return_id": ret["return_id"],
        "reason": "used, scratched",
    }
    assert probe.matching("RestockReturn", order["order_id"]) == []
    assert probe.matching("IssueCreditNote", order["order_id"]) == []


async def test_returning_the_whole_order_refunds_its_total_with_discount_and_freight(
    api, probe, intake: FakeIntake
):
    order = intake.add_order({"LAMP-1": 2, "LAMP-2": 1}, unit_price=10_000, discount=2_000, freight=800)
    ret = await request_return(api, order, {"LAMP-1": 2, "LAMP-2": 1})

    await inspect(api, ret["return_id"], "pass")
    await restock(probe, ret)
    command, _ = await credit(probe, ret, "CN-3")
    (done,) = await probe.wait_for("ReturnCompleted", order["order_id"])

    assert command.payload["total"] == done.payload["refund_total"] == 28_800 == order["total"]


async def test_the_return_that_brings_the_last_unit_back_refunds_the_rest_of_the_order(
    api, probe, intake: FakeIntake
):
    order = intake.add_order({"LAMP-1": 2, "LAMP-2": 1}, unit_price=10_000, discount=2_000, freight=800)
    first = await request_return(api, order, {"LAMP-1": 2})
    last = await request_return(api, order, {"LAMP-2": 1})

    for ret in (first, last):
        await inspect(api, ret["return_id"], "pass")
        await restock(probe, ret)
    first_cmd, _ = await credit(probe, first, "CN-4")
    last_cmd, _ = await credit(probe, last, "CN-5")

    assert (first_cmd.payload["total"], last_cmd.payload["total"]) == (20_000, 8_800)
    listed = (await api.get("/returns", params={"order_id": order["order_id"]})).json()
    assert [r["return_id"] for r in listed] == [first["return_id"], last["return_id"]]
