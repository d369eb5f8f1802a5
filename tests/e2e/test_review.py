"""Review with every service running (issue 8, R2.1-R2.3): a flagged order waits in the queue, one
of two reviewers claims it, and the largest orders need a manager, then the general manager."""

from __future__ import annotations

from tests.support.api import Shop


async def queue_ids(shop: Shop, role: str = "ops") -> list[str]:
    answer = await shop.ok(await shop.as_(role)["intake"].get("/review-queue", params={"limit": 500}))
    return [o["order_id"] for o in answer["items"]]


async def test_a_flagged_order_is_claimed_by_one_of_two_reviewers_and_approved(shop: Shop) -> None:
    customer = await shop.customer()
    sku = await shop.product(on_hand=3)
    body = shop.order_body(customer, [(sku, 1)])
    body["contact"]["phone"] = "12345"  # not a mainland mobile: flagged (R1.6)
    placed = await shop.ok(await shop.as_("storefront")["intake"].post("/orders", json=body))
    waiting = await shop.wait_status(placed["order_id"], "on_hold")
    assert placed["order_id"] in await queue_ids(shop)

    first = await shop.as_("ops")["intake"].post("/review-queue/claims", json={"count": 100})
    second = await shop.as_("manager")["intake"].post("/review-queue/claims", json={"count": 100})
    mine = [o["order_id"] for o in (await shop.ok(first))["items"]]
    theirs = [o["order_id"] for o in (await shop.ok(second))["items"]]
    assert placed["order_id"] in mine and placed["order_id"] not in theirs  # never both (R2.3)

    refused = await shop.as_("manager")["intake"].post(f"/orders/{placed['order_id']}/approve",
                                                      json={"reason": "looks fine"})  # fmt: skip
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "claimed_by_another"
    why = {"reason": "called: the number had a typo"}
    approve = await shop.as_("ops")["intake"].post(f"/orders/{placed['order_id']}/approve", json=why)
    approved = await shop.ok(approve)

    assert waiting["hold"] == "review" and approved["status"] == "approved"
    assert any(h["by"] == "ops.zhao" and h["status"] == "approved" for h in approved["history"])
    done = await shop.deliver(placed["order_id"])
    assert done["status"] == "completed"


async def test_a_large_order_needs_a_manager_then_the_general_manager(shop: Shop) -> None:
    customer = await shop.customer(credit_limit=100_000_000)
    sku = await shop.product(on_hand=200, price=100_000)
    order_id = (await shop.place(customer, [(sku, 150)]))["order_id"]  # 15,000,000: over both tiers
    held = await shop.wait_status(order_id, "on_hold")
    assert held["approval_tier"] == "general_manager" and held["approval_reasons"]

    ops = await shop.as_("ops")["intake"].post(f"/orders/{order_id}/approve", json={"reason": "ok"})
    assert ops.status_code == 403  # a reviewer is not a manager (R2.2)
    signed = await shop.ok(await shop.as_("manager")["intake"].post(f"/orders/{order_id}/approve",
                                                                 json={"reason": "key account"}))  # fmt: skip
    assert signed["status"] == "on_hold" and signed["hold"] == "general_manager"
    again = await shop.as_("manager")["intake"].post(f"/orders/{order_id}/approve", json={"reason": "ok"})
    assert again.status_code == 403
    approved = await shop.ok(await shop.as_("general_manager")["intake"].post(
        f"/orders/{order_id}/approve", json={"reason": "strategic"}))  # fmt: skip

    assert approved["status"] == "approved"
    events = [(h.get("event"), h["by"]) for h in approved["history"] if h.get("event") == "manager_approved"]
    assert events == [("manager_approved", "manager.wang")]
