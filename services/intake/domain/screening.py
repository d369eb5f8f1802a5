"""Priority (R1.7) and plausibility flags (R1.6): they sort and warn, they never reject."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

# A mainland mobile number: 11 digits starting 13-19 (R1.6); +86 / 0086 prefixes are tolerated.
_MOBILE = re.compile(r"1[3-9]\d{9}")
_SEPARATORS = re.compile(r"[\s\-()]")
# Placeholder names the documents call vague ("某公司": "some company").
_VAGUE_MARKERS = ("某", "xx", "**", "???")
_VAGUE_NAMES = frozenset(
    {"test", "unknown", "n/a", "na", "none", "company", "customer", "公司", "客户", "个人"}
)


@dataclass(frozen=True)
class Policy:
    """The thresholds of R1.7 and R2.2, passed in from settings (never constants)."""

    urgent_within_days: int = 3
    key_order_units: int = 100
    approval_over: int | None = None  # fen; None switches manager approval off
    duplicate_within_hours: int = 24  # R1.6 "a recent order"
    unusual_volume_factor: int = 10  # R1.6 "far above the customer's usual volume"
    usual_volume_min_orders: int = 3  # fewer earlier orders than this: no "usual" yet
    # Payment terms (R3.2, issue 5): the deposit share, how long an order waits for money (then it
    # is cancelled), when reminders go out, and the terms a manager signs every order off on.
    vat_rate_bp: int = 1300
    deposit_percent: int = 30
    payment_wait_s: int = 72 * 3600
    payment_reminders_s: tuple[int, ...] = (24 * 3600, 48 * 3600)
    sign_off_terms: tuple[str, ...] = ("monthly", "prepaid")  # R3.2 monthly, R2.2 prepayment
    # R2.2: the largest orders need the general manager after a manager (fen; None: one tier).
    general_manager_over: int | None = 10_000_000
    # R2.4: the first order confirmation is due this long after receipt.
    confirmation_due_s: int = 2 * 3600
    # R1.4: channels on which the delivery date may be left out (none by default).
    date_optional_channels: tuple[str, ...] = ()
    # R1.6 "brushing": at least N small orders (at most M units) to one address or phone under
    # different contact names within H hours, this one included.
    brushing_min_names: int = 3
    brushing_max_units: int = 2
    brushing_within_hours: int = 24
    # R1.5, R2.2: channels that may negotiate a price, the discount they may give on their own
    # (percent of the catalogue price); beyond it a manager approves the margin.
    negotiating_channels: tuple[str, ...] = ("sales_rep", "distributor", "erp", "edi")
    max_discount_percent: int = 10


# What each flag means, for the history line every flag gets (R1.6: a flag says why).
FLAG_WHY: dict[str, str] = {
    "vague_customer_name": "the customer's name is a placeholder such as 某公司",
    "invalid_phone": "the contact phone is not an 11-digit mainland mobile number",
    "missing_required_by": "no delivery date (R1.4), allowed on this channel",
    "price_below_catalogue": "a unit price below the catalogue's (R1.5, R2.2)",
    "possible_duplicate": "the same lines to the same address as a recent order of the customer",
    "unusual_volume": "far above the customer's usual volume",
}


@dataclass(frozen=True)
class PastOrder:
    """What screening needs of one of the customer's earlier orders."""

    delivery_address: str
    quantities: dict[str, int]
    created_at: datetime
    status: str
    phone: str = ""
    contact_name: str = ""


def priority(required_by: date | None, total_quantity: int, today: date, policy: Policy) -> str:
    """`urgent` when the customer needs it within N days, else `key` over M units, else `normal`.

    Urgent wins over key: a date cannot wait, a bulk order can (both are worked first, R1.7).
    """
    if required_by is not None and (required_by - today).days <= policy.urgent_within_days:
        return "urgent"
    if total_quantity > policy.key_order_units:
        return "key"
    return "normal"


def is_mainland_mobile(phone: str) -> bool:
    """True for an 11-digit mainland mobile number, ignoring separators and a +86 prefix."""
    digits = _SEPARATORS.sub("", phone or "")
    for prefix in ("+86", "0086", "86"):
        if digits.startswith(prefix) and len(digits) == len(prefix) + 11:
            digits = digits[len(prefix) :]
            break
    return bool(_MOBILE.fullmatch(digits))


def is_vague_name(name: str) -> bool:
    """True for placeholder customer names such as 某公司 (R1.6)."""
    text = (name or "").strip().casefold()
    if len(text) < 2 or text in _VAGUE_NAMES:
        return True
    return any(marker in text for marker in _VAGUE_MARKERS)


def plausibility_flags(
    *, customer_name: str, phone: str, required_by: date | None, below_catalogue_price: bool
) -> list[str]:
    """The R1.6 flags that can be decided from the order alone (duplicates need the store)."""
    flags = []
    if is_vague_name(customer_name):
        flags.append("vague_customer_name")
    if not is_mainland_mobile(phone):
        flags.append("invalid_phone")
    if required_by is None:
        # R1.4 wants a delivery date but API.md makes it optional: accept, and ask a person.
        flags.append("missing_required_by")
    if below_catalogue_price:
        flags.append("price_below_catalogue")  # zero/negative-profit orders need a look (R2.2)
    return flags


def _same_place(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def _digits(phone: str) -> str:
    return _SEPARATORS.sub("", phone or "")[-11:]


def brushing(
    *, address: str, phone: str, contact_name: str, units: int, at: datetime,
    past: Sequence[PastOrder], policy: Policy,
) -> str | None:
    """Why the order looks like a fake ("brushing") one, or None (R1.6): many small orders to one
    address or phone under different names in a short time."""
    if units > policy.brushing_max_units:
        return None
    since = at - timedelta(hours=policy.brushing_within_hours)
    alike = [
        p for p in past
        if p.created_at >= since and sum(p.quantities.values()) <= policy.brushing_max_units
        and (_same_place(p.delivery_address, address) or (phone and _digits(p.phone) == _digits(phone)))
    ]  # fmt: skip
    names = {" ".join(n.split()).casefold() for n in [contact_name, *(p.contact_name for p in alike)] if n}
    if len(names) < policy.brushing_min_names:
        return None
    return (f"{len(alike) + 1} orders of at most {policy.brushing_max_units} units to this address or phone "
            f"under {len(names)} names within {policy.brushing_within_hours} h")  # fmt: skip


def history_flags(
    *, address: str, quantities: dict[str, int], at: datetime, past: Sequence[PastOrder], policy: Policy
) -> list[str]:
    """R1.6 flags that compare the order with the customer's earlier ones."""
    flags = []
    since = at - timedelta(hours=policy.duplicate_within_hours)
    live = [p for p in past if p.status not in ("cancelled", "rejected")]
    if any(
        p.created_at >= since and p.quantities == quantities and _same_place(p.delivery_address, address)
        for p in live
    ):
        flags.append("possible_duplicate")
    volumes = sorted(sum(p.quantities.values()) for p in live)
    if len(volumes) >= policy.usual_volume_min_orders:
        usual = volumes[len(volumes) // 2]  # the median: one past bulk order does not move it
        if sum(quantities.values()) > policy.unusual_volume_factor * usual:
            flags.append("unusual_volume")
    return flags
