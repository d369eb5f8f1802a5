"""The saga table read as a state machine (services/intake/domain/lifecycle.py): the checks CI runs
on it, shown to catch what they are for, and the generated diagram in docs/ARCHITECTURE.md."""

from __future__ import annotations

from dataclasses import replace

from devstack import docs
from services.intake.domain import lifecycle
from services.intake.domain.saga import AUTO, TABLE, Transition
from services.intake.domain.steps import STEPS
from shared import contracts as c


def test_the_order_saga_table_passes_every_check():
    assert lifecycle.problems() == []


def test_a_status_no_row_leads_to_is_reported_unreachable():
    table = [row for row in TABLE if "awaiting_stock" not in row.to]

    assert "status 'awaiting_stock' cannot be reached from 'pending_review'" in lifecycle.problems(table)


def test_a_status_with_no_way_out_is_reported_as_never_ending():
    table = [row for row in TABLE if "cancelling" not in row.source]

    assert "an order in 'cancelling' can never end" in lifecycle.problems(table)


def test_a_step_that_holds_something_without_a_compensation_is_reported():
    steps = [replace(step, compensation=None) if step.name == "stock" else step for step in STEPS]

    assert "step 'stock' holds something but has no compensation" in lifecycle.problems(steps=steps)


def test_a_compensation_whose_reply_no_row_absorbs_is_reported():
    table = [row for row in TABLE if row.on is not c.SupplyCancelled]

    found = lifecycle.problems(table)

    assert "no row absorbs SupplyCancelled, the reply of supply's compensation" in found


def test_an_automatic_row_that_stays_in_its_status_is_reported():
    table = [*TABLE, Transition(frozenset({"shipped"}), AUTO, ("shipped",))]

    assert any(p.startswith("automatic row auto must leave its status") for p in lifecycle.problems(table))


def test_the_diagram_shows_every_status_change_with_its_trigger():
    diagram = lifecycle.mermaid()

    assert "pending_review --> approved : CreditReserved [credit_awaited]" in diagram
    assert "cancelling --> shipped : ShipmentDispatched [shipment_not_undone]" in diagram
    assert "delivered --> completed : auto [invoiced]" in diagram
    assert diagram.startswith("```mermaid\nstateDiagram-v2\n    [*] --> pending_review")


def test_the_architecture_document_carries_the_current_diagram():
    stale = [path.name for path, text in docs.generated().items() if docs._text(path) != text]

    assert stale == [], "run `make docs` and commit the result"
