"""The order saga's table read as a state machine: its Mermaid diagram and its static checks.

``make diagram`` writes ``mermaid()`` into docs/ARCHITECTURE.md; a unit test fails when the file
is stale, and another runs ``problems()`` so a row that strands an order fails CI (issue 6).
"""

from __future__ import annotations

from collections.abc import Iterable

from services.intake.domain.order import STATUSES
from services.intake.domain.placing import INITIAL
from services.intake.domain.saga import AUTO, ENDS, TABLE, Transition
from services.intake.domain.steps import STEPS, Step

BEGIN, END = "<!-- saga-diagram:begin (make diagram) -->", "<!-- saga-diagram:end -->"


def _label(row: Transition) -> str:
    trigger = row.on.__name__ if isinstance(row.on, type) else row.on
    guard = f" [{row.when.__name__}]" if row.when is not None else ""
    return f"{trigger}{guard}"


def edges(table: Iterable[Transition] = TABLE) -> list[tuple[str, str, str]]:
    """(from, to, label) for every status change the table can make, in table order."""
    out: list[tuple[str, str, str]] = []
    for row in table:
        for source in sorted(row.source):
            here, label = source, _label(row)
            for target in row.to:
                edge = (here, target, label)
                if edge not in out:
                    out.append(edge)
                here, label = target, "then"  # a row that passes through a status (lost dispatch report)
    return out


def mermaid(table: Iterable[Transition] = TABLE) -> str:
    """The state diagram (Mermaid ``stateDiagram-v2``) of the table; waits on a status are notes."""
    lines = ["```mermaid", "stateDiagram-v2", f"    [*] --> {INITIAL}"]
    lines += [f"    {a} --> {b} : {label}" for a, b, label in edges(table)]
    lines += [f"    {end} --> [*]" for end in sorted(ENDS)]
    lines.append("```")
    return "\n".join(lines)


def reachable(table: Iterable[Transition], start: str) -> set[str]:
    graph: dict[str, set[str]] = {}
    for a, b, _ in edges(table):
        graph.setdefault(a, set()).add(b)
    seen, todo = {start}, [start]
    while todo:
        for nxt in graph.get(todo.pop(), set()) - seen:
            seen.add(nxt)
            todo.append(nxt)
    return seen


def problems(
    table: Iterable[Transition] = TABLE, steps: Iterable[Step] = STEPS, statuses: Iterable[str] = STATUSES
) -> list[str]:
    """What is wrong with the table, in words; empty when every check passes:

    every status is reachable from the first and can reach an end; every step that holds
    something has a compensation whose reply some row absorbs while undoing; every row's
    statuses exist; an automatic row leaves its status (or it would fire for ever).
    """
    table, statuses = list(table), list(statuses)
    found: list[str] = []
    known = set(statuses)
    for row in table:
        for status in (*row.source, *row.to):
            if status not in known:
                found.append(f"row {_label(row)} names unknown status {status!r}")
        if row.on == AUTO and (not row.to or set(row.to) & row.source):
            found.append(f"automatic row {_label(row)} must leave its status")
    from_start = reachable(table, INITIAL)
    for status in statuses:
        if status not in from_start:
            found.append(f"status {status!r} cannot be reached from {INITIAL!r}")
        elif status not in ENDS and not (reachable(table, status) & ENDS):
            found.append(f"an order in {status!r} can never end")
    absorbed = {row.on for row in table if isinstance(row.on, type)}
    for step in steps:
        if step.holds and step.compensation is None:
            found.append(f"step {step.name!r} holds something but has no compensation")
        if step.compensated_by is not None and step.compensated_by not in absorbed:
            reply = step.compensated_by.__name__
            found.append(f"no row absorbs {reply}, the reply of {step.name}'s compensation")
        if not step.holds and step.compensation is None and not step.why_none:
            found.append(f"step {step.name!r} has no compensation and does not say what undoes it")
    return found


def embed(document: str, diagram: str) -> str:
    """``document`` with the text between the diagram markers replaced by ``diagram``."""
    head, _, rest = document.partition(BEGIN)
    _, _, tail = rest.partition(END)
    if not rest:
        raise ValueError(f"the document has no {BEGIN} marker")
    return f"{head}{BEGIN}\n{diagram}\n{END}{tail}"
