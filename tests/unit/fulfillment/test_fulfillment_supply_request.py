"""The per-order supply request: what was raised, and the cancellation tombstone."""

from services.fulfillment.domain import SupplyRequest, SupplyRequestStatus


def test_a_cancellation_before_any_raise_leaves_a_tombstone():
    request = SupplyRequest.tombstone("SO1")

    assert request.is_cancelled
    assert request.supply_order_ids == []


def test_raised_supply_orders_are_recorded_once_each():
    request = SupplyRequest("SO1")

    request.record(["MO-1", "PO-2"])
    request.record(["MO-1"])

    assert request.supply_order_ids == ["MO-1", "PO-2"]
    assert request.status is SupplyRequestStatus.RAISED


def test_cancelling_records_which_supply_orders_were_cancelled():
    request = SupplyRequest("SO1", supply_order_ids=["MO-1", "PO-2"])

    request.cancel(["PO-2"])

    assert request.is_cancelled
    assert request.cancelled_ids == ["PO-2"]
