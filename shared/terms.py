"""Payment terms (R3.2): one vocabulary for customers (their default) and orders (an override),
and, for each term, the gates it puts in an order's way. Terms are data: a new term is an entry
in TERMS, never a code path in the saga (issue 5).

A gate is a point where the order saga waits (status ``awaiting_payment``) until money is in or
a person of finance has checked something:

- ``before="supply"``: before a production or purchase order is raised for a shortage (R4.2);
- ``before="shipping"``: before the carrier is booked, i.e. before the goods can leave (R3.3).

Gates of the supply point that were never passed (nothing was short) are checked again before
shipping, so a letter of credit is checked before any order on L/C terms leaves. A payment gate
asks for a share of the order total *paid so far* (cumulative, net of refunds); the deposit
share is a setting (``DEPOSIT_PERCENT``, default 30). Amounts are integer minor units; a share
is rounded up to the fen (a deposit never asks for less than the percentage says).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

PaymentTerm = Literal["prepaid", "deposit", "tt", "lc", "monthly", "credit"]
PAYMENT_TERMS: tuple[str, ...] = PaymentTerm.__args__  # type: ignore[attr-defined]

GatePoint = Literal["supply", "shipping"]
GATE_POINTS: tuple[str, ...] = ("supply", "shipping")
FULL = 10_000  # basis points of the order total
DEPOSIT = -1  # share_bp placeholder: the deposit setting applies


@dataclass(frozen=True)
class Gate:
    """One wait of an order on its terms: a share of the total paid, or a finance check."""

    name: str  # "deposit", "balance", "payment", "lc_check": unique within a term
    before: GatePoint
    kind: Literal["payment", "check"] = "payment"
    share_bp: int = FULL  # for payment gates: cumulative share of the total, DEPOSIT = the setting
    what: str = ""  # in words, for the order's history and the finance view


@dataclass(frozen=True)
class Term:
    """What a payment term means for an order."""

    name: str
    gates: tuple[Gate, ...] = ()
    holds_credit: bool = True  # prepaid orders put no credit at risk: billing skips the check
    sign_off: bool = False  # a manager signs every order on these terms off (R3.2 "monthly")
    what: str = ""


TERMS: dict[str, Term] = {
    t.name: t
    for t in (
        Term("prepaid", (
            Gate("payment", "supply", what="full payment before production, purchase or dispatch"),
        ), holds_credit=False, what="full payment before production or dispatch (R3.2, R3.3)"),
        Term("deposit", (
            Gate("deposit", "supply", share_bp=DEPOSIT, what="the deposit before production or purchase"),
            Gate("balance", "shipping", what="the balance before shipping"),
        ), what="a deposit before production or purchase, the balance before shipping (R3.2)"),
        Term("tt", (
            Gate("deposit", "supply", share_bp=DEPOSIT, what="the T/T deposit before production"),
            Gate("balance", "shipping", what="the T/T balance before shipping"),
        ), what="telegraphic transfer: deposit received before production, balance before shipping"),
        Term("lc", (
            Gate("lc_check", "supply", kind="check", share_bp=0,
                 what="finance checks the letter of credit before production"),
        ), what="letter of credit, checked by finance before production (R3.2)"),
        Term("monthly", sign_off=True, what="monthly settlement on open account, a manager signs off (R3.2)"),
        Term("credit", what="open account within the credit limit (R3.1)"),
    )
}
assert set(TERMS) == set(PAYMENT_TERMS)
# Words clients used before the vocabulary was one (API.md): accepted, stored as the term.
ALIASES: dict[str, str] = {"t/t": "tt", "l/c": "lc", "open_account": "credit", "month_end": "monthly"}


def normalise(term: str | None) -> str | None:
    """The term for a client's word, or None for a word that is not a term (the caller's 422)."""
    if term is None:
        return None
    word = term.strip().lower().replace(" ", "_")
    word = ALIASES.get(word, word)
    return word if word in TERMS else None


def share(total: int, share_bp: int) -> int:
    """``share_bp`` basis points of ``total``, rounded up to the minor unit (never under-asks)."""
    return -((-total * share_bp) // FULL)


def gate_amount(gate: Gate, total: int, deposit_percent: int) -> int:
    """What must have been paid in all before ``gate`` opens (0 for a finance check)."""
    if gate.kind != "payment":
        return 0
    bp = deposit_percent * 100 if gate.share_bp == DEPOSIT else gate.share_bp
    return share(total, bp)


def gates_before(term: str, point: str) -> tuple[Gate, ...]:
    """The gates an order on ``term`` must pass at ``point``: that point's own gates and, before
    shipping, those of the supply point too (passed ones are skipped by the saga)."""
    rule = TERMS.get(term)
    if rule is None:
        return ()
    points = GATE_POINTS[: GATE_POINTS.index(point) + 1]
    return tuple(g for g in rule.gates if g.before in points)
