"""Door checks of an order request: completeness (R1.4) and consistency with the catalogue (R1.5)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from services.intake.domain.order import CHANNELS, Line
from shared.bounds import MAX_MONEY, MAX_QUANTITY
from shared.terms import PAYMENT_TERMS, normalise

Catalogue = Mapping[str, Mapping[str, Any]]  # sku -> {name, unit_price, ...}


@dataclass(frozen=True)
class LineRequest:
    """A requested line; name, unit price and amount are optional and checked when given."""

    sku: str | None
    quantity: int | None
    name: str | None = None
    spec: str | None = None
    unit_price: int | None = None
    amount: int | None = None


@dataclass(frozen=True)
class OrderRequest:
    """What a channel sends (API.md `POST /orders`), before any check."""

    customer_id: str | None
    channel: str | None
    delivery_address: str | None
    contact_name: str | None
    contact_phone: str | None
    lines: list[LineRequest] = field(default_factory=list)
    payment_terms: str | None = None
    currency: str = "CNY"
    prices_include_tax: bool = True
    required_by: date | None = None
    discount: int = 0
    freight: int = 0
    remarks: str = ""
    total: int | None = None  # optional: when given it must agree with the lines (R1.5)


def _blank(value: str | None) -> bool:
    return value is None or not str(value).strip()


def _same_name(given: str, listed: str) -> bool:
    return given.strip().casefold() == listed.strip().casefold()


def components_of(product: Mapping[str, Any]) -> dict[str, int]:
    """A bundle's components per unit (R1.9) from its catalogue entry (``[{sku, quantity}]``, as
    inventory's API gives them); empty for a plain product or an entry from before bundles."""
    return {str(c["sku"]): int(c["quantity"]) for c in product.get("components") or ()}


def unit_price(line: LineRequest, catalogue: Catalogue) -> int:
    """The given unit price, or the catalogue's when none was given."""
    return line.unit_price if line.unit_price is not None else int(catalogue[line.sku or ""]["unit_price"])


def _check_line(i: int, line: LineRequest, catalogue: Catalogue, errors: dict[str, str]) -> None:
    at = f"lines.{i}"
    if _blank(line.sku):
        errors[f"{at}.sku"] = "missing"
        return
    product = catalogue.get(line.sku or "")
    if product is None:
        errors[f"{at}.sku"] = f"unknown SKU {line.sku}"
        return
    if line.name is not None and not _same_name(line.name, str(product["name"])):
        errors[f"{at}.name"] = f"SKU {line.sku} is {product['name']!r}, not {line.name!r}"
    if line.quantity is None:
        errors[f"{at}.quantity"] = "missing"
        return
    if line.quantity <= 0:
        errors[f"{at}.quantity"] = "must be a positive whole number"
        return
    if line.unit_price is not None and line.unit_price < 0:
        errors[f"{at}.unit_price"] = "must not be negative"
        return
    most = max(components_of(product).values(), default=1)
    if line.quantity * most > MAX_QUANTITY:  # a bundle's components are reserved and shipped (R1.9)
        errors[f"{at}.quantity"] = (
            f"{line.quantity} bundles need {line.quantity * most} units of a component, "
            f"over the bound of {MAX_QUANTITY}"
        )
        return
    expected = line.quantity * unit_price(line, catalogue)
    if expected > MAX_MONEY:  # a sum the store and every later step can still hold (issue 7)
        errors[f"{at}.amount"] = f"quantity x unit price is {expected}, over the bound of {MAX_MONEY}"
    elif line.amount is not None and line.amount != expected:
        errors[f"{at}.amount"] = f"quantity x unit price is {expected}, not {line.amount}"


def validate(
    request: OrderRequest,
    catalogue: Catalogue,
    *,
    today: date | None = None,
    date_optional: Collection[str] = (),
) -> dict[str, str]:
    """Field errors of the request (field path -> message); empty when the order may be accepted.

    ``required_by`` is mandatory (R1.4) except on the channels in ``date_optional`` (a setting),
    and is never before ``today`` (the business's calendar day).
    """
    errors: dict[str, str] = {}
    if request.required_by is None:
        if request.channel not in date_optional:
            errors["required_by"] = "missing: the date the customer needs the goods (R1.4)"
    elif today is not None and request.required_by < today:
        past = request.required_by.isoformat()
        errors["required_by"] = f"{past} is in the past (today is {today.isoformat()})"
    for name in ("customer_id", "delivery_address", "contact_name", "contact_phone"):
        if _blank(getattr(request, name)):
            errors[name.replace("contact_", "contact.")] = "missing"  # R1.4
    if request.channel not in CHANNELS:
        errors["channel"] = f"must be one of {', '.join(CHANNELS)}"  # R1.1
    if not request.lines:
        errors["lines"] = "at least one line is required"
    for i, line in enumerate(request.lines):
        _check_line(i, line, catalogue, errors)
    for name in ("discount", "freight"):
        if getattr(request, name) < 0:
            errors[name] = "must not be negative"
    if request.payment_terms is not None and normalise(request.payment_terms) is None:
        errors["payment_terms"] = f"must be one of {', '.join(PAYMENT_TERMS)} (R3.2)"
    if errors:
        return errors
    subtotal = sum((line.quantity or 0) * unit_price(line, catalogue) for line in request.lines)
    total = subtotal - request.discount + request.freight
    if total > MAX_MONEY:
        errors["total"] = f"lines - discount + freight is {total}, over the bound of {MAX_MONEY}"
    elif total < 0:
        value = subtotal + request.freight
        errors["discount"] = f"discount {request.discount} exceeds the order value {value}"
    elif request.total is not None and request.total != total:
        errors["total"] = f"lines - discount + freight is {total}, not {request.total}"  # R1.5
    return errors


def build_lines(request: OrderRequest, catalogue: Catalogue) -> list[Line]:
    """Priced order lines of a request that passed `validate` (names come from the catalogue, and
    a bundle's components, which the line keeps for stock, supply and shipping: R1.9)."""
    return [
        Line(
            sku=line.sku or "",
            name=str(catalogue[line.sku or ""]["name"]),
            quantity=line.quantity or 0,
            unit_price=unit_price(line, catalogue),
            spec=line.spec,
            components=components_of(catalogue[line.sku or ""]),  # as the catalogue has it now (R1.9)
        )
        for line in request.lines
    ]
