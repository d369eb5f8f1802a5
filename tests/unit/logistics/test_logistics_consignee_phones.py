"""The consignee's phone is asked of intake when a packing list is printed (issue 7): what each of
intake's answers becomes (services/logistics/adapters/intake.py), over an in-process transport."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from services.logistics.adapters import HttpConsigneePhones
from services.logistics.domain import ConsigneeUnknown
from shared.errors import DependencyUnavailable

INTAKE = "http://intake.test"


def phones(
    answer: Callable[[httpx.Request], httpx.Response], seen: list[httpx.Request]
) -> HttpConsigneePhones:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answer(request)

    client = httpx.AsyncClient(transport=httpx.MockTransport(handler), headers={"Authorization": "Bearer K"})
    return HttpConsigneePhones(client, INTAKE + "/")


def internal_order(phone: str = "13800138000") -> dict:
    return {
        "order_id": "SO202611001",
        "contact": {"name": "Li Lei", "phone": phone},
        "status": "ready_to_ship",
    }


async def test_the_phone_is_intakes_internal_view_asked_with_the_services_own_key():
    seen: list[httpx.Request] = []
    lookup = phones(lambda _: httpx.Response(200, json=internal_order("+86 138-0013-8000")), seen)

    assert await lookup.phone("SO202611001") == "+86 138-0013-8000"  # whole, as intake has it
    [request] = seen
    assert str(request.url) == f"{INTAKE}/orders/SO202611001"
    assert request.headers["authorization"] == "Bearer K"


async def test_an_order_intake_does_not_have_is_a_404_that_says_so():
    lookup = phones(lambda _: httpx.Response(404, json={"error": {"code": "not_found"}}), [])

    with pytest.raises(ConsigneeUnknown) as refused:
        await lookup.phone("SO202611999")
    assert refused.value.status == 404 and "SO202611999" in refused.value.message


@pytest.mark.parametrize("status", [401, 403, 429, 500, 503])
async def test_intake_failing_overloaded_or_refusing_our_key_is_a_503(status: int):
    lookup = phones(lambda _: httpx.Response(status, json={"error": {"code": "x"}}), [])

    with pytest.raises(DependencyUnavailable):
        await lookup.phone("SO202611001")


async def test_intake_unreachable_is_a_503():
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with pytest.raises(DependencyUnavailable, match="not reachable"):
        await phones(down, []).phone("SO202611001")


@pytest.mark.parametrize(
    "body", [{"order_id": "SO1", "contact": {"name": "Li Lei"}}, ["no"], {"contact": None}]
)
async def test_an_answer_without_the_phone_is_a_503_never_a_list_without_it(body: object):
    lookup = phones(lambda _: httpx.Response(200, json=body), [])

    with pytest.raises(DependencyUnavailable, match="without the consignee's phone"):
        await lookup.phone("SO1")
