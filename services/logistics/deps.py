"""What logistics' handlers depend on, and the one way they change a shipment (shared.aggregates)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from pymongo.errors import DuplicateKeyError

from services.logistics.domain import CarrierRules, Shipment
from services.logistics.ports import ConsigneePhones, ShipmentsById, ShipmentStore
from services.logistics.settings import Settings
from shared.aggregates import AggregateStore, Answers, Changed, Decision, NotFound, change
from shared.contracts import Message
from shared.envelope import Envelope
from shared.notices import FakeNotices, Notices

Decide = Callable[[Shipment], Decision]
First = Callable[[], tuple[Shipment, list[Message]]]


@dataclass
class Logistics:
    """Built once by ``main.bootstrap``; handler tests pass a ``FakeShipmentStore``."""

    settings: Settings
    shipments: ShipmentStore
    # Intake, asked for the consignee's phone when a packing list is printed (issue 7).
    phones: ConsigneePhones | None = None
    # Carrier booking requests of confirmed orders (R2.5), ahead of CreateShipment.
    notices: Notices = field(default_factory=FakeNotices)

    @property
    def rules(self) -> CarrierRules:
        s = self.settings
        return CarrierRules(
            s.default_carrier, s.dedicated_carrier, s.dedicated_vehicle_above, s.region_carriers
        )

    def envelopes(self, messages: Sequence[Message], cause: Envelope | None) -> list[Envelope]:
        return Answers(self.settings.service_name, cause)(messages)

    async def _change(
        self, store: AggregateStore[Shipment], key: str, decide: Decide, cause: Envelope | None
    ) -> Changed[Shipment]:
        return await change(
            store,
            key,
            decide,
            envelopes=lambda messages, _: self.envelopes(messages, cause),
            attempts=self.settings.write_attempts,
        )

    async def change(self, order_id: str, decide: Decide, cause: Envelope) -> Changed[Shipment]:
        """The order's shipment through ``decide``; NotFound when the order has none."""
        return await self._change(self.shipments, order_id, decide, cause)

    async def change_by_id(self, shipment_id: str, decide: Decide) -> Changed[Shipment]:
        """A shipment named by its own id (a carrier's report: no command, so new message ids)."""
        return await self._change(ShipmentsById(self.shipments), shipment_id, decide, None)

    async def change_or_insert(
        self, order_id: str, decide: Decide, first: First, cause: Envelope
    ) -> Changed[Shipment]:
        """``decide`` on the order's shipment; when there is none yet, insert ``first()`` (a booking
        or a tombstone) with its messages. A racing twin that inserted first makes the unique
        ``order_id`` refuse ours: then ``decide`` runs on what the twin wrote."""
        try:
            return await self.change(order_id, decide, cause)
        except NotFound:
            pass
        shipment, messages = first()
        try:
            saved = await self.shipments.insert(shipment, self.envelopes(messages, cause))
        except DuplicateKeyError:
            return await self.change(order_id, decide, cause)
        await self.shipments.flush(saved)
        return Changed(saved, True, messages)
