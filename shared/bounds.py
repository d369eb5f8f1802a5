"""The bounds of every number and id a client may send (issue 7), in one place.

Every integer of every request body has explicit bounds, so absurd input is a 422 at the door
and never reaches the store or the bus: BSON integers are 64-bit (2**63 raised OverflowError,
a 500), and a catalogue lead time of 10**8 days made fulfillment's date arithmetic overflow on
RaiseSupply. The bounds are far above any real order and leave room for the sums computed from
them (500 lines x MAX_MONEY stays far below 2**63). They are limits of the representation, not
business thresholds, so they are constants; the business limits (lines per order, body size) are
settings. Request models use the annotated types below, which put the bounds in the OpenAPI.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StrictInt

# Money in fen: 10**13 fen is 100 billion yuan, for a unit price, a line, an order's total, a
# discount, freight, a payment or a credit limit. A line's quantity x price is checked against it too.
MAX_MONEY = 10**13
# Units of a line, a stock count or a return line.
MAX_QUANTITY = 10**9
# A catalogue lead time: ten years.
MAX_LEAD_TIME_DAYS = 3650
# The lines a request model accepts at all; the lines an order may have is intake's setting
# ``max_lines`` (default 500), at most this.
MAX_LINES = 10_000
# Order numbers are SO + yyyymm + serial (R1.3); intake's path parameter has the same bound, so an
# order id another service passes on to intake is never refused there for its length.
MAX_ORDER_ID = 40
# The request body of every service, unless the setting max_body_bytes says otherwise.
DEFAULT_MAX_BODY_BYTES = 1024 * 1024

Money = Annotated[StrictInt, Field(ge=0, le=MAX_MONEY, description="fen")]
PositiveMoney = Annotated[StrictInt, Field(gt=0, le=MAX_MONEY, description="fen")]
Quantity = Annotated[StrictInt, Field(gt=0, le=MAX_QUANTITY)]
Count = Annotated[StrictInt, Field(ge=0, le=MAX_QUANTITY)]  # a quantity that may be 0 (a stock count)
LeadTimeDays = Annotated[
    StrictInt, Field(ge=0, le=MAX_LEAD_TIME_DAYS, description="days; 0 means unknown (the default applies)")
]
OrderId = Annotated[str, Field(min_length=1, max_length=MAX_ORDER_ID)]
