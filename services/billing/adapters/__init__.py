"""MongoDB adapters of billing: documents <-> domain objects, conditional writes."""

from services.billing.adapters.mongo_accounts import MongoOrderAccountStore
from services.billing.adapters.mongo_customers import MongoCustomerStore
from services.billing.adapters.mongo_invoices import MongoInvoiceStore, credit_note_key, invoice_key
from services.billing.adapters.mongo_payments import MongoPaymentStore
from services.billing.adapters.mongo_refunds import MongoRefundStore
from shared.keys import decode_key, encode_key

__all__ = [
    "MongoCustomerStore",
    "MongoInvoiceStore",
    "MongoOrderAccountStore",
    "MongoPaymentStore",
    "MongoRefundStore",
    "credit_note_key",
    "decode_key",
    "encode_key",
    "invoice_key",
]
