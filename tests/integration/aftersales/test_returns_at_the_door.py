"""The door of the return saga: policy refusals, the order read from intake, units already returned."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from devstack.processes import free_port
from services.aftersales.adapters import HttpOrderLookup
from shared.errors import DependencyUnavailable
from tests.integration.aftersales.fake_intake import FakeIntake

pytestmark = pytest.mark.integration


async def returns_of(api: httpx.AsyncClient, order_id: str) -> list[dict[str, object]]:
    response = await api.get("/returns", params={"order_id": order_id})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def body(order_id: str, reason: str = "quality_fault", **lines: int) -> dict[str, object]:
    return {
        "order_id": order_id,
        "lines": [{"sku": s, "quantity": q} for s, q in lines.items()],
        "reason": reason,
    }


async def test_a_return_of_more_than_was_shipped_is_refused_with_the_line_named(api, intake: FakeIntake):
    order = intake.add_order({"LAMP-1": 1})

    response = await api.post("/returns", json=body(order["order_id"], **{"LAMP-1": 2}))

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "quantity_exceeds_shipped"
    assert "lines.LAMP-1" in response.json()["error"]["fields"]
    assert await returns_of(api, order["order_id"]) == []


async def test_a_return_of_an_order_that_has_not_shipped_is_refused(api, intake: FakeIntake):
    order = intake.add_order({"LAMP-1": 1}, status="ready_to_ship")

    response = await api.post("/returns", json=body(order["order_id"], **{"LAMP-1": 1}))

    assert (response.status_code, response.json()["error"]["code"]) == (422, "order_not_returnable")
    assert await returns_of(api, order["order_id"]) == []


async def test_a_return_of_an_unknown_order_is_refused(api):
    response = await api.post("/returns", json=body("SO-NEVER-PLACED", **{"LAMP-1": 1}))

    assert response.status_code == 422
    assert response.json()["error"] == {
        "code": "unknown_order",
        "message": "there is no order SO-NEVER-PLACED",
        "fields": {"order_id": "unknown order"},
    }
    assert await returns_of(api, "SO-NEVER-PLACED") == []


async def test_when_intake_fails_the_request_can_be_retried_later(api):
    response = await api.post("/returns", json=body("BROKEN-1", **{"LAMP-1": 1}))

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "dependency_unavailable"
    assert await returns_of(api, "BROKEN-1") == []


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"order_id": "SO1", "lines": [], "reason": "x"},
        {"order_id": "SO1", "lines": [{"sku": "A", "quantity": 0}], "reason": "x"},
        {"order_id": "SO1", "lines": [{"sku": "A", "quantity": 1.5}], "reason": "x"},
        {"order_id": "SO1", "lines": [{"sku": "A", "quantity": "1"}], "reason": "x"},
        {"order_id": "SO1", "lines": [{"sku": "A", "quantity": 1}], "reason": ""},
    ],
)
async def test_bad_input_is_a_422_with_the_fields_named(api, payload):
    response = await api.post("/returns", json=payload)

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_failed"
    assert response.json()["error"]["fields"]


async def test_units_already_returned_count_and_a_rejected_return_frees_them(api, intake: FakeIntake):
    order = intake.add_order({"LAMP-1": 2})
    first = (await api.post("/returns", json=body(order["order_id"], **{"LAMP-1": 2}))).json()

    too_many = await api.post("/returns", json=body(order["order_id"], **{"LAMP-1": 1}))
    await api.post(f"/returns/{first['return_id']}/inspection", json={"result": "fail"})
    again = await api.post("/returns", json=body(order["order_id"], **{"LAMP-1": 2}))

    assert (too_many.status_code, too_many.json()["error"]["code"]) == (422, "quantity_exceeds_shipped")
    assert again.status_code == 201, again.text
    listed = await returns_of(api, order["order_id"])
    assert [(r["return_id"], r["status"]) for r in listed] == [
        (first["return_id"], "rejected"), (again.json()["return_id"], "awaiting_inspection")]  # fmt: skip


async def test_racing_requests_never_return_more_than_was_shipped(api, intake: FakeIntake):
    order = intake.add_order({"LAMP-1": 3})

    responses = await asyncio.gather(
        *(api.post("/returns", json=body(order["order_id"], **{"LAMP-1": 1})) for _ in range(6))
    )

    assert sorted(r.status_code for r in responses) == [201, 201, 201, 422, 422, 422]
    refused = [r.json()["error"]["code"] for r in responses if r.status_code == 422]
    assert refused == ["quantity_exceeds_shipped"] * 3
    listed = await returns_of(api, order["order_id"])
    assert len(listed) == 3
    assert sum(r["lines"][0]["quantity"] for r in listed) == 3


async def test_return_numbers_are_rt_yyyymm_serial_and_unique(api, intake: FakeIntake):
    order = intake.add_order({"LAMP-1": 5})

    ids = [
        (await api.post("/returns", json=body(order["order_id"], **{"LAMP-1": 1}))).json()["return_id"]
        for _ in range(3)
    ]

    assert len(set(ids)) == 3
    assert all(i.startswith("RT") and i[2:8].isdigit() and len(i) >= 11 for i in ids)


async def test_unknown_returns_answer_404(api):
    got = await api.get("/returns/RT-NOPE")
    inspected = await api.post("/returns/RT-NOPE/inspection", json={"result": "pass"})

    assert got.status_code == inspected.status_code == 404
    assert got.json()["error"]["code"] == inspected.json()["error"]["code"] == "not_found"


async def test_an_unknown_inspection_result_is_a_422(api, intake: FakeIntake):
    order = intake.add_order({"LAMP-1": 1})
    ret = (await api.post("/returns", json=body(order["order_id"], **{"LAMP-1": 1}))).json()

    response = await api.post(f"/returns/{ret['return_id']}/inspection", json={"result": "maybe"})

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_failed" and "result" in error["fields"]
    after = (await api.get(f"/returns/{ret['return_id']}")).json()
    assert (after["status"], len(after["history"])) == ("awaiting_inspection", len(ret["history"]))


async def test_the_service_reports_ready(api):
    assert (await api.get("/health")).json()["status"] == "ok"
    assert (await api.get("/ready")).status_code == 200


async def test_an_unreachable_intake_is_reported_as_unavailable_so_callers_get_a_503():
    async with httpx.AsyncClient(timeout=2) as http:
        lookup = HttpOrderLookup(http, f"http://127.0.0.1:{free_port()}")

        with pytest.raises(DependencyUnavailable):
            await lookup.get("SO1")


async def test_the_same_idempotency_key_and_body_give_back_the_same_return(api, intake: FakeIntake):
    order = intake.add_order({"LAMP-1": 3})
    headers = {"Idempotency-Key": f"key-{order['order_id']}"}

    first = await api.post("/returns", json=body(order["order_id"], **{"LAMP-1": 1}), headers=headers)
    again = await api.post("/returns", json=body(order["order_id"], **{"LAMP-1": 1}), headers=headers)
    other = await api.post("/returns", json=body(order["order_id"], **{"LAMP-1": 2}), headers=headers)

    assert first.status_code == again.status_code == 201
    assert again.json()["return_id"] == first.json()["return_id"]
    assert (other.status_code, other.json()["error"]["code"]) == (422, "idempotency_key_reused")
    assert len((await api.get("/returns", params={"order_id": order["order_id"]})).json()) == 1


async def test_racing_requests_with_one_idempotency_key_create_one_return(api, intake: FakeIntake):
    order = intake.add_order({"LAMP-1": 5})
    headers = {"Idempotency-Key": f"race-{order['order_id']}"}

    responses = await asyncio.gather(
        *(
            api.post("/returns", json=body(order["order_id"], **{"LAMP-1": 1}), headers=headers)
            for _ in range(5)
        )
    )

    created = {r.json()["return_id"] for r in responses if r.status_code == 201}
    assert len(created) == 1
    assert all(r.status_code in (201, 409) for r in responses)
    # A twin still in progress gets the platform's 409 (shared.http): it may simply try again.
    assert {r.json()["error"]["code"] for r in responses if r.status_code == 409} <= {"conflict"}
    assert len((await api.get("/returns", params={"order_id": order["order_id"]})).json()) == 1
