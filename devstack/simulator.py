"""SIMULATION ONLY - a fake carrier and a fake factory/supplier for local runs.

Nothing here is part of the platform. In production the carrier posts its own events
(``POST /shipments/{id}/events``) and the factory or supplier completes supply orders
(``POST /supply-orders/{id}/complete``). ``make run`` starts this with SIMULATE=1 (the
default there) so a demo order walks all the way to ``completed`` on its own; tests
never start it (SIMULATE=0).

It only uses the public HTTP API: it lists orders waiting for the carrier
(``GET /orders?status=``), looks up their shipments by ``order_id``, lists open supply
orders (``GET /supply-orders?status=open``), and reports after configurable delays
(SIM_* settings below):
  booked shipment     --SIM_PICKUP_DELAY_S-->   picked_up
  dispatched shipment --SIM_DELIVERY_DELAY_S--> delivered
  open supply order   --SIM_SUPPLY_DELAY_S-->   complete
  awaiting_payment    --SIM_PAYMENT_DELAY_S-->  POST /payments of what is outstanding (the
                                                customer pays, finance records it: R3.2, R3.3)

    python -m devstack.simulator
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

log = logging.getLogger("devstack.simulator")


class SimulatorSettings(BaseSettings):
    """Delays and URLs of the simulation; every delay is a setting (SIM_...)."""

    model_config = SettingsConfigDict(env_prefix="SIM_", extra="ignore", populate_by_name=True)

    intake_url: str = Field(default="http://127.0.0.1:8001", validation_alias="INTAKE_URL")
    logistics_url: str = Field(default="http://127.0.0.1:8004", validation_alias="LOGISTICS_URL")
    fulfillment_url: str = Field(default="http://127.0.0.1:8003", validation_alias="FULFILLMENT_URL")
    billing_url: str = Field(default="http://127.0.0.1:8005", validation_alias="BILLING_URL")
    poll_interval_s: float = Field(default=1.0, gt=0)
    pickup_delay_s: float = Field(default=3.0, ge=0)
    delivery_delay_s: float = Field(default=5.0, ge=0)
    supply_delay_s: float = Field(default=8.0, ge=0)
    payment_delay_s: float = Field(default=6.0, ge=0)
    page_limit: int = Field(default=100, ge=1)
    max_pages: int = Field(default=20, ge=1)
    # The simulator is the carrier, the factory and a reader of orders at once: `make run` hands
    # it the development admin key (issue 7); SIM_API_KEY or API_KEY.
    api_key: str | None = Field(default=None, validation_alias=AliasChoices("SIM_API_KEY", "API_KEY"),
                                repr=False, exclude=True)  # fmt: skip


def _items(body: Any) -> tuple[list[dict[str, Any]], str | None]:
    """Accept a bare list or a page object ({items|orders|data, next_cursor|cursor})."""
    if isinstance(body, list):
        return body, None
    if isinstance(body, dict):
        items = body.get("items") or body.get("orders") or body.get("data") or []
        return list(items), body.get("next_cursor") or body.get("cursor")
    return [], None


class Simulator:
    """One poll of the world per ``tick``; remembers when it first saw each state."""

    def __init__(self, settings: SimulatorSettings, http: httpx.Client,
                 clock: Callable[[], float] = time.monotonic) -> None:  # fmt: skip
        self.settings = settings
        self.http = http
        self.clock = clock
        self.first_seen: dict[tuple[str, str], float] = {}
        self.done: set[tuple[str, str]] = set()

    def tick(self) -> None:
        """Report every carrier event and supply completion that is due."""
        s = self.settings
        for order_id in self._orders("ready_to_ship", "shipped"):
            for shipment in self._get(f"{s.logistics_url}/shipments", order_id=order_id):
                self._carrier(shipment)
        for order in self._awaiting_payment():
            self._customer_pays(order)
        # Fulfillment lists open supply orders directly (an extension of API.md).
        for supply in self._get(f"{s.fulfillment_url}/supply-orders", status="open", limit=s.page_limit):
            self._factory(supply)

    def _carrier(self, shipment: dict[str, Any]) -> None:
        status, sid = shipment.get("status"), shipment["shipment_id"]
        url = f"{self.settings.logistics_url}/shipments/{sid}/events"
        if status == "booked":
            delay = self.settings.pickup_delay_s
            self._when_due((sid, "booked"), delay, "carrier", url, {"type": "picked_up"})
        elif status in ("dispatched", "in_transit"):
            delay = self.settings.delivery_delay_s
            self._when_due((sid, "dispatched"), delay, "carrier", url, {"type": "delivered"})

    def _factory(self, supply: dict[str, Any]) -> None:
        if supply.get("status") != "open":
            return
        sid = supply["supply_order_id"]
        self._when_due((sid, "open"), self.settings.supply_delay_s, "factory",
                       f"{self.settings.fulfillment_url}/supply-orders/{sid}/complete", None)  # fmt: skip

    def _customer_pays(self, order: dict[str, Any]) -> None:
        gate = order.get("awaiting") or {}
        if not gate.get("outstanding"):
            return  # a finance check (L/C), not money: a person does it
        oid, name = order["order_id"], gate.get("gate", "payment")
        body = {"order_id": oid, "amount": gate["outstanding"], "reference": f"SIM-{oid}-{name}"}
        self._when_due((oid, f"pay-{name}"), self.settings.payment_delay_s, "customer",
                       f"{self.settings.billing_url}/payments", body)  # fmt: skip

    def _awaiting_payment(self) -> list[dict[str, Any]]:
        url = f"{self.settings.intake_url}/finance/awaiting-payment"
        return self._get(url, limit=self.settings.page_limit)

    def _when_due(self, key: tuple[str, str], delay: float, actor: str, url: str, body: Any) -> None:
        if key in self.done:
            return
        first = self.first_seen.setdefault(key, self.clock())
        if self.clock() - first < delay:
            return
        self.done.add(key)  # one attempt per state: a refusal is logged, never retried in a loop
        response = self.http.post(url, json=body)
        what = (body.get("type") or f"pays {body.get('amount')}") if body else "complete"
        if response.status_code < 300:
            log.info("[SIMULATED %s] %s %s", actor, what, key[0])
        else:
            log.warning("[SIMULATED %s] %s %s refused: %s %s", actor, what, key[0],
                        response.status_code, response.text[:300])  # fmt: skip

    def _orders(self, *statuses: str) -> Iterator[str]:
        for status in statuses:
            cursor: str | None = None
            for _ in range(self.settings.max_pages):
                params: dict[str, Any] = {"status": status, "limit": self.settings.page_limit}
                if cursor:
                    params["cursor"] = cursor
                response = self.http.get(f"{self.settings.intake_url}/orders", params=params)
                response.raise_for_status()
                orders, cursor = _items(response.json())
                yield from (o["order_id"] for o in orders if o.get("status", status) == status)
                if not cursor or not orders:
                    break

    def _get(self, url: str, **params: Any) -> list[dict[str, Any]]:
        response = self.http.get(url, params=params)
        response.raise_for_status()
        return _items(response.json())[0]


def run(settings: SimulatorSettings | None = None, stop: threading.Event | None = None) -> None:
    """Poll until ``stop`` is set; an unreachable service is logged and tried again."""
    settings = settings or SimulatorSettings()
    stop = stop or threading.Event()
    log.warning("SIMULATION of the carrier and the factory is running (local use only): %s",
                settings.model_dump(exclude={"page_limit", "max_pages"}))  # fmt: skip
    headers = {"Authorization": f"Bearer {settings.api_key}"} if settings.api_key else None
    with httpx.Client(timeout=10, headers=headers) as http:
        sim = Simulator(settings, http)
        while not stop.is_set():
            try:
                sim.tick()
            except httpx.HTTPError as exc:
                log.warning("[SIMULATED] poll failed, retrying: %s", exc)
            stop.wait(settings.poll_interval_s)
    log.info("simulation stopped")


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per poll drowns the reports
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    run(stop=stop)


if __name__ == "__main__":
    main()
