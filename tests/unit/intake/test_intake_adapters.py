"""Adapters that need no server: the order <-> document mapping and the door's HTTP clients."""

import httpx
import pytest

from services.intake.adapters import HttpCatalogue, HttpCustomers, LastKnown, from_doc, sequence, to_fields
from services.intake.domain import saga
from services.intake.schemas import OrderCreate, order_view
from shared.errors import DependencyUnavailable
from tests.unit.intake.builders import STAGES


@pytest.mark.parametrize("stage", list(STAGES))
def test_an_order_at_any_stage_survives_the_round_trip_through_its_document(make, stage):
    order = make.order(stage)
    if stage == "awaiting_stock":
        saga.cancel(order, by="customer", reason="test the compensation fields too")

    assert from_doc(to_fields(order)) == order


def test_document_maps_keyed_by_outside_ids_are_lists_so_no_id_becomes_a_field_name(make):
    order = make.order("completed")
    saga.on_reply(order, make.returned(order, {"LAMP-1": 1}, return_id="RT.1$"))

    doc = to_fields(order)

    assert doc["returned_quantities"] == [{"sku": "LAMP-1", "quantity": 1}]
    assert doc["returns"] == [{"return_id": "RT.1$", "outcome": "completed"}]


def test_the_sequence_sorts_like_order_numbers_past_999():
    assert sequence("SO202405999") < sequence("SO2024051000") < sequence("SO202406001")


def test_the_internal_view_has_the_whole_phone_and_the_supply_orders(make):
    order = make.order("supply_raised")

    internal = order_view({**to_fields(order), "version": 3}, internal=True).model_dump()

    assert internal["contact"]["phone"] == order.contact.phone  # whole, never sliced (issue 7)
    assert [s["supply_order_id"] for s in internal["supply_orders"]] == ["MO-1"]
    assert internal["total"] == order.total and internal["history"][0]["status"] == "pending_review"


def test_the_customer_view_leaves_out_phone_flags_reasons_and_supply(make):
    order = make.order("supply_raised")

    public = order_view({**to_fields(order), "version": 3}, internal=False).model_dump()

    # Left out by model (issue 7): no key of an internal field, no digit of the phone anywhere.
    assert public["contact"] == {"name": order.contact.name}
    assert not {"flags", "priority", "hold", "supply_orders", "credit_notes"} & set(public)
    assert set(public["history"][0]) == {"at", "status", "event"}
    assert order.contact.phone not in str(public) and order.contact.phone[-4:] not in str(public)
    assert public["total"] == order.total


def test_the_body_fingerprint_ignores_key_order_but_not_content():
    a = {
        "customer_id": "C",
        "channel": "edi",
        "delivery_address": "x",
        "contact": {"name": "n", "phone": "p"},
        "lines": [{"sku": "A", "quantity": 1}],
    }
    b = dict(reversed(list(a.items())))

    assert OrderCreate(**a).fingerprint() == OrderCreate(**b).fingerprint()
    assert OrderCreate(**a).fingerprint() != OrderCreate(**{**a, "remarks": "x"}).fingerprint()


def client(handler) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.MockTransport(handler))


async def test_the_catalogue_asks_for_each_sku_once_and_keeps_only_what_was_asked():
    seen = []

    def handler(request):
        seen.append(request.url.params.get_list("sku"))
        return httpx.Response(200, json=[{"sku": "A", "name": "Lamp", "unit_price": 1}, {"sku": "Z"}])

    async with client(handler) as http:
        found = await HttpCatalogue(http, "http://inventory/").products(["A", "B", "A"])

    assert seen == [["A", "B"]]
    assert list(found) == ["A"]


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(500),
        httpx.Response(200, text="<html>"),
        httpx.Response(200, json=[1]),
        httpx.Response(200, json=[{"sku": "A", "name": "Lamp", "unit_price": 1.5}]),
        httpx.Response(200, json=[{"sku": "A", "unit_price": 1}]),
    ],
)
async def test_a_catalogue_that_answers_badly_is_unavailable_not_a_client_error(response):
    async with client(lambda request: response) as http:
        with pytest.raises(DependencyUnavailable):
            await HttpCatalogue(http, "http://inventory").products(["A"])


async def test_an_unreachable_dependency_is_unavailable():
    def refuse(request):
        raise httpx.ConnectError("refused", request=request)

    async with client(refuse) as http:
        with pytest.raises(DependencyUnavailable):
            await HttpCustomers(http, "http://billing").get("C1")


async def test_an_unknown_customer_is_none_and_its_id_is_escaped_in_the_path():
    paths = []

    def handler(request):
        paths.append(request.url.raw_path)
        return httpx.Response(404, json={"error": {"code": "customer_not_found"}})

    async with client(handler) as http:
        assert await HttpCustomers(http, "http://billing").get("a/b c") is None

    assert paths == [b"/customers/a%2Fb%20c"]


class Outage:
    """A dependency that answers until it is switched off."""

    def __init__(self, body):
        self.body, self.down = body, False

    def __call__(self, request):
        if self.down:
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(200, json=self.body)


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


async def test_during_a_short_catalogue_outage_orders_are_checked_against_its_last_answer():
    inventory, clock = Outage([{"sku": "A", "name": "Lamp", "unit_price": 100}]), Clock()
    async with client(inventory) as http:
        catalogue = HttpCatalogue(http, "http://inventory", LastKnown(60, clock=clock))
        await catalogue.products(["A"])
        inventory.down = True
        clock.now = 59

        found = await catalogue.products(["A"])

    assert found["A"]["unit_price"] == 100


async def test_a_sku_never_seen_or_seen_too_long_ago_is_not_guessed_during_an_outage():
    inventory, clock = Outage([{"sku": "A", "name": "Lamp", "unit_price": 100}]), Clock()
    async with client(inventory) as http:
        catalogue = HttpCatalogue(http, "http://inventory", LastKnown(60, clock=clock))
        await catalogue.products(["A"])
        inventory.down = True

        with pytest.raises(DependencyUnavailable):
            await catalogue.products(["A", "B"])  # B was never seen
        clock.now = 61
        with pytest.raises(DependencyUnavailable):
            await catalogue.products(["A"])  # A is too old to trust


async def test_during_a_billing_outage_a_recently_seen_customer_is_still_known():
    billing = Outage({"customer_id": "C1", "name": "Acme Ltd"})
    async with client(billing) as http:
        customers = HttpCustomers(http, "http://billing", LastKnown(60))
        await customers.get("C1")
        billing.down = True

        assert (await customers.get("C1"))["name"] == "Acme Ltd"
        with pytest.raises(DependencyUnavailable):
            await customers.get("C2")


def test_the_memory_forgets_the_least_recently_seen_beyond_its_size():
    memory = LastKnown(60, max_entries=2)
    for key in ("a", "b", "c"):
        memory.remember(key, key.upper())

    assert memory.recall(["a"]) is None
    assert memory.recall(["b", "c"]) == {"b": "B", "c": "C"}
