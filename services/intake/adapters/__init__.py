"""Intake adapters: the Mongo stores and the HTTP clients used at the door."""

from shared.idempotency import MongoIdempotencyKeys

from .door import HttpCatalogue, HttpCustomers, LastKnown
from .mapping import from_doc, sequence, to_fields
from .mongo_numbering import MongoOrderNumbers
from .mongo_orders import MongoOrderStore

__all__ = [
    "HttpCatalogue",
    "HttpCustomers",
    "LastKnown",
    "MongoIdempotencyKeys",
    "MongoOrderNumbers",
    "MongoOrderStore",
    "from_doc",
    "sequence",
    "to_fields",
]
