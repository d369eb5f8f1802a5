"""Aftersales adapters: the Mongo stores and the HTTP client for intake's orders."""

from shared.idempotency import MongoIdempotencyKeys

from .intake import HttpOrderLookup, OrderLookup, order_from_json
from .mongo_ledgers import MongoRefundLedgerStore
from .mongo_returns import MongoReturnStore

__all__ = [
    "HttpOrderLookup",
    "MongoIdempotencyKeys",
    "MongoRefundLedgerStore",
    "MongoReturnStore",
    "OrderLookup",
    "order_from_json",
]
