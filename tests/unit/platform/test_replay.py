"""Replay compatibility (issue 9): what an earlier version put on the bus and in the stores still
loads, and an order recorded mid-saga still continues, with the code as it is now.

tests/fixtures/replay/<set>/<scenario>/ holds one order's saga as a version of the code wrote it
(tests/support/replay_record.py; ``v1`` is the first). These files are never re-recorded over:
when a change makes one of these tests fail, the change must keep reading the old form (a default
for a new field, a migration on load), not the fixture. Each scenario is checked three ways:

- every envelope parses (``Envelope``), names a registered type, is of a version the contract
  reads and its payload is a valid message of that type;
- every stored document loads through its service's Mongo adapter mapping (``from_doc``), and a
  collection that appears with no mapping here fails until it is given one;
- from every recorded version of intake's order document, the current saga, fed what moved the
  order on next (the reply the next version absorbed, or the person's cancel or approval), reaches
  the recorded next status and sends the commands that next version staged.
"""

from __future__ import annotations

import importlib
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from bson import json_util

from shared.contracts import MESSAGE_TYPES, Event
from shared.envelope import Envelope, message_class
from shared.store import staged_by

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "replay"
JSON_OPTIONS = json_util.JSONOptions(json_mode=json_util.JSONMode.RELAXED, tz_aware=True, tzinfo=UTC)
SCENARIOS = sorted(p.parent for p in FIXTURES.glob("*/*/scenario.json"))
IDS = [f"{p.parent.name}/{p.name}" for p in SCENARIOS]

# Each stored collection and the mapping its adapter reads a document with ("module:function").
LOADERS: dict[str, str] = {
    "intake.orders": "services.intake.adapters.mapping:from_doc",
    "intake.idempotency_keys": "shared.idempotency:Claim.from_doc",
    "inventory.products": "services.inventory.adapters.mongo_products:from_doc",
    "inventory.stock": "services.inventory.adapters.mongo_stock:from_doc",
    "inventory.reservations": "services.inventory.adapters.mongo_reservations:from_doc",
    "inventory.return_receipts": "services.inventory.adapters.mongo_receipts:from_doc",
    "fulfillment.supply_orders": "services.fulfillment.adapters.mongo_supply_orders:from_doc",
    "fulfillment.supply_requests": "services.fulfillment.adapters.mongo_supply_requests:from_doc",
    "logistics.shipments": "services.logistics.adapters.mongo_shipments:from_doc",
    "billing.customers": "services.billing.adapters.mongo_customers:from_doc",
    "billing.order_accounts": "services.billing.adapters.mongo_accounts:from_doc",
    "billing.invoices": "services.billing.adapters.mongo_invoices:from_doc",
    "billing.payments": "services.billing.adapters.mongo_payments:from_doc",
    "billing.refunds": "services.billing.adapters.mongo_refunds:from_doc",
    "aftersales.returns": "services.aftersales.adapters.documents:from_doc",
    "aftersales.idempotency_keys": "shared.idempotency:Claim.from_doc",
    "intake.timers": "shared.timers:Timer.from_doc",
}
# The refund ledger's loader takes the order id (its _id) as well.
SPECIAL: dict[str, Callable[[dict[str, Any]], Any]] = {
    "aftersales.refund_ledgers": lambda doc: _resolve(
        "services.aftersales.adapters.mongo_ledgers:ledger_from_doc"
    )(doc["_id"], doc),
}

# What the recorded sets must cover between them: every step of the order saga and the return saga.
SAGA_MESSAGES = {
    "ReserveCredit", "CreditReserved", "CreditLimitExceeded", "ReleaseCredit", "CreditReleased",
    "ReserveStock", "StockReserved", "StockShort", "ReleaseStock", "StockReleased",
    "RaiseSupply", "SupplyRaised", "SupplyCompleted", "CancelSupply", "SupplyCancelled",
    "ReceiveSupply", "StockReceived", "CreateShipment", "ShipmentCreated", "ShipmentDispatched",
    "ShipmentDelayed", "ShipmentLost", "ShipmentDelivered", "CancelShipment", "ShipmentCancelled",
    "CommitStock", "StockCommitted", "IssueInvoice", "InvoiceIssued", "RestockReturn", "ReturnRestocked",
    "IssueCreditNote", "CreditNoteIssued", "ReturnCompleted", "ReturnRejected",
}  # fmt: skip


@cache
def _resolve(target: str) -> Any:
    module, _, name = target.partition(":")
    found: Any = importlib.import_module(module)
    for part in name.split("."):
        found = getattr(found, part)
    return found


def extended(path: Path) -> Any:
    return json_util.loads(path.read_text(encoding="utf-8"), json_options=JSON_OPTIONS)


@dataclass
class Recorded:
    scenario: dict[str, Any]
    envelopes: list[dict[str, Any]]
    order_versions: list[dict[str, Any]]
    documents: dict[str, list[dict[str, Any]]]

    @classmethod
    def load(cls, directory: Path) -> Recorded:
        return cls(
            scenario=json.loads((directory / "scenario.json").read_text(encoding="utf-8")),
            envelopes=json.loads((directory / "envelopes.json").read_text(encoding="utf-8")),
            order_versions=extended(directory / "order_versions.json"),
            documents=extended(directory / "documents.json"),
        )


def test_there_are_recorded_sets_and_they_cover_every_step_of_both_sagas():
    assert (FIXTURES / "v1").is_dir() and len(SCENARIOS) >= 4
    covered = {envelope["type"] for directory in SCENARIOS for envelope in Recorded.load(directory).envelopes}
    assert SAGA_MESSAGES <= covered, sorted(SAGA_MESSAGES - covered)
    names = {p.name for p in SCENARIOS}
    assert {"happy", "shortage", "cancel_awaiting_stock", "returned"} <= names


@pytest.mark.parametrize("directory", SCENARIOS, ids=IDS)
def test_every_recorded_envelope_loads_through_the_current_contracts(directory: Path):
    recorded = Recorded.load(directory)

    for raw in recorded.envelopes:
        envelope = Envelope.model_validate(raw)
        cls = message_class(envelope.type)
        message = envelope.message()  # its version is one the contract reads, its payload valid

        assert isinstance(message, cls) and cls is MESSAGE_TYPES[envelope.type]
        assert message.order_id == envelope.correlation_id == recorded.scenario["order_id"]
        assert envelope.routing_key == cls.routing_key()
        assert Envelope.model_validate_json(envelope.model_dump_json()) == envelope


@pytest.mark.parametrize("directory", SCENARIOS, ids=IDS)
def test_every_recorded_document_loads_through_its_adapters_mapping(directory: Path):
    recorded = Recorded.load(directory)
    unmapped = sorted(set(recorded.documents) - set(LOADERS) - set(SPECIAL))

    assert not unmapped, f"recorded collections with no mapping in this test: {unmapped} (add their from_doc)"
    for collection, docs in recorded.documents.items():
        load = SPECIAL.get(collection) or _resolve(LOADERS[collection])
        for doc in docs:
            assert load(doc) is not None, (collection, doc["_id"])
    for doc in recorded.order_versions:
        _resolve(LOADERS["intake.orders"])(doc)
    assert recorded.documents["intake.orders"][0]["status"] == recorded.scenario["final_status"]


@pytest.mark.parametrize("directory", SCENARIOS, ids=IDS)
def test_the_current_saga_continues_every_recorded_order_version_as_recorded(directory: Path):
    from services.intake.adapters.mapping import from_doc
    from services.intake.domain import saga

    recorded = Recorded.load(directory)
    envelopes = {raw["message_id"]: Envelope.model_validate(raw) for raw in recorded.envelopes}
    actions = list(recorded.scenario["actions"])
    versions = recorded.order_versions
    assert [doc["version"] for doc in versions] == list(range(1, len(versions) + 1))

    for before, after in itertools.pairwise(versions):
        order = from_doc(before)
        absorbed = [i for i in after["saga"]["processed"] if i not in before["saga"]["processed"]]
        added = after["history"][len(before["history"]) :]
        at = added[0]["at"] if added else None  # the decision's own clock, so history compares too
        if absorbed:
            assert len(absorbed) == 1, (after["version"], absorbed)
            reply = envelopes[absorbed[0]]
            message = reply.message()
            assert isinstance(message, Event)
            commands = saga.on_reply(order, message, message_id=reply.message_id, at=at)
            cause = reply.type
        else:
            assert actions, f"version {after['version']} absorbed no reply and no action explains it"
            action = actions.pop(0)
            step = {"cancel": saga.cancel, "approve": saga.approve, "reject": saga.reject}[action["action"]]
            commands = step(order, action["by"], action["reason"], at)
            cause = action["action"]

        staged = sorted(raw["type"] for raw in staged_by(after).values())
        assert order.status == after["status"], (after["version"], cause)
        assert sorted(type(c).__name__ for c in commands) == staged, (after["version"], cause)
    assert not actions, f"actions never seen in the recorded versions: {actions}"
