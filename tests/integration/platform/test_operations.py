"""What operations relies on: clean shutdown, traces exported, logs that name the order."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Callable, Iterator

import pytest

from devstack.processes import free_port, start_store
from shared.contracts import LineQty, ReserveStock
from tests.support.api import uid
from tests.support.barriers import eventually, handled_count, parked_logged
from tests.support.probe import BusProbe
from tests.support.stack import Stack

pytestmark = pytest.mark.integration


class Collector(http.server.ThreadingHTTPServer):
    """A stand-in OTLP/HTTP collector on loopback: records what the exporter posts."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, bytes]] = []
        collector = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                collector.posts.append((self.path, body))
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@pytest.fixture
def collector() -> Iterator[Collector]:
    server = Collector()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()


async def test_http_store_and_bus_spans_are_exported_over_otlp_when_an_endpoint_is_set(
    make_stack: Callable[..., Stack], probe_for, collector
):
    stack = make_stack("inventory", env={"OTEL_EXPORTER_OTLP_ENDPOINT": collector.url})
    probe: BusProbe = await probe_for(stack)
    sku = uid("SKU")

    async with stack.client("inventory") as http:
        body = {"name": "Lamp", "unit_price": 100, "sourcing": "buy", "lead_time_days": 1}
        assert (await http.put(f"/products/{sku}", json=body)).status_code < 300
    order_id = uid("SO")
    await probe.publish(ReserveStock(order_id=order_id, lines=[LineQty(sku=sku, quantity=1)]))
    await probe.wait_for("StockShort", order_id)
    # The batch processor exports within about five seconds.
    await eventually(lambda: b"StockShort publish" in b"".join(body for _, body in collector.posts),
                     what="the StockShort publish span at the collector")  # fmt: skip
    exported = b"".join(body for _, body in collector.posts)

    assert {path for path, _ in collector.posts} == {"/v1/traces"}
    assert b"inventory" in exported and sku.encode() in exported  # service name; the HTTP route's span
    assert b"mongodb" in exported  # store spans (db.system)
    assert b"ReserveStock process" in exported and b"StockShort publish" in exported  # AMQP spans
    assert order_id.encode() in exported  # bus spans name the order


async def test_log_lines_of_a_handled_message_carry_the_order_message_and_trace_ids(
    make_stack: Callable[..., Stack], probe_for
):
    stack = make_stack("inventory")
    probe: BusProbe = await probe_for(stack)
    order_id = uid("SO")

    sent = await probe.publish(ReserveStock(order_id=order_id, lines=[LineQty(sku=uid("NOPE"), quantity=1)]))
    [parking] = await parked_logged(stack, "inventory", sent)  # an unknown SKU: the delivery's last line

    lines = [line for line in stack.log_lines("inventory") if line.get("order_id") == order_id]
    assert parking in lines
    assert all(line["message_id"] == sent.message_id for line in lines)
    assert len({line["trace_id"] for line in lines}) == 1  # every line of the delivery, one trace


async def test_sigterm_stops_consuming_finishes_in_flight_work_and_loses_nothing(
    make_stack: Callable[..., Stack], probe_for
):
    stack = make_stack("inventory")
    probe: BusProbe = await probe_for(stack)
    sku = uid("SKU")
    async with stack.client("inventory") as http:
        await http.put(f"/products/{sku}", json={"name": "Lamp", "unit_price": 1, "sourcing": "buy",
                                                 "lead_time_days": 1})  # fmt: skip
        await http.put(f"/stock/{sku}", json={"on_hand": 1000})
    orders = [uid("SO") for _ in range(40)]

    sent = [
        await probe.publish(ReserveStock(order_id=order_id, lines=[LineQty(sku=sku, quantity=1)]))
        for order_id in orders
    ]
    # Stop once the work has begun, so the SIGTERM lands while deliveries are in flight or queued.
    await eventually(lambda: any(handled_count(stack, "inventory", e.message_id) for e in sent),
                     what="inventory handling the first ReserveStock", interval=0.02)  # fmt: skip
    proc = stack.procs["inventory"]
    proc.stop(grace_s=20)  # SIGTERM
    exit_code = proc.popen.returncode
    handled_before = {e.correlation_id for e in probe.matching("StockReserved")}
    stack.start(["inventory"])
    await probe.wait_for("StockReserved", count=len(orders), within=30)

    assert exit_code == 0
    assert any(line.get("msg") == "service stopping" for line in stack.log_lines("inventory"))
    assert {e.correlation_id for e in probe.matching("StockReserved")} == set(orders)
    async with stack.client("inventory") as http:
        stock = (await http.get(f"/stock/{sku}")).json()
    assert stock["reserved"] == len(orders)  # nothing reserved twice across the restart
    assert len(handled_before) <= len(orders)


async def test_a_request_while_the_store_is_down_gets_a_503_not_a_500(amqp_url, work_dir, probe_for):
    store = start_store(work_dir / f"store-{uid('x')}", free_port(), work_dir / "logs")
    stack = Stack(amqp_url=amqp_url, mongo_url=store.url, log_dir=work_dir / "logs")
    try:
        stack.start(["inventory"])
        store.stop()  # the store dies under a running service

        async with stack.client("inventory") as http:
            stock = await http.get(f"/stock/{uid('SKU')}")
            ready = await http.get("/ready")

        assert stock.status_code == 503 and stock.json()["error"]["code"] == "store_unavailable"
        assert ready.status_code == 503 and ready.json()["checks"]["store"] is False
    finally:
        stack.stop()
        store.stop()
