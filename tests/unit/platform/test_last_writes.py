"""The stores' memory of their last writes (shared.aggregates.LastWrites, issue 9): every reader
gets a copy of its own, so a decision that is never saved leaves no trace for the next one.

Found by the reordering stress run: a decision on an order read from the cache marked a
compensation step as under way, lost its race and was never saved - but its change to the
nested ``saga.steps`` map stayed in the cached document, and the next decision saved it under
the right version: the step's compensation was never sent (stock or credit left held).
"""

from __future__ import annotations

from services.intake.adapters.mapping import from_doc, to_fields
from shared.aggregates import LastWrites
from tests.unit.intake.builders import Builders


def test_a_change_to_an_aggregate_read_from_the_cache_does_not_reach_the_next_reader():
    order = Builders().order("awaiting_stock")
    written = LastWrites()
    written.keep({**to_fields(order), "version": 3})

    lost = from_doc(written.get(order.order_id))  # a decision that will lose its race
    lost.saga.steps["stock"] = "compensating"
    lost.payments.passed.append("deposit")
    lost.history.clear()

    again = from_doc(written.get(order.order_id))
    assert again.saga.steps == order.saga.steps and again.payments.passed == []
    assert len(again.history) == len(order.history)


def test_what_was_kept_does_not_change_with_the_document_the_writer_holds_on_to():
    written = LastWrites()
    doc = {"_id": "A", "version": 1, "saga": {"steps": {"credit": "done"}}}
    written.keep(doc)

    doc["saga"]["steps"]["credit"] = "compensated"  # e.g. the writer reusing its document

    assert written.get("A") == {"_id": "A", "version": 1, "saga": {"steps": {"credit": "done"}}}
