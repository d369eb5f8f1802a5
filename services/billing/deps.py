"""What billing's handlers and routes depend on, built once by ``main.bootstrap``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from services.billing.domain import Mark, OrderAccount
from services.billing.ports import CustomerStore, InvoiceStore, OrderAccountStore, PaymentStore, RefundStore
from services.billing.settings import Settings
from shared.aggregates import Answers, Changed, Decision, Loaded, NotFound, change
from shared.envelope import Envelope
from shared.notices import FakeNotices, Notices

# Run after an account's write and before what it sends: (the account as written, its mark before
# the change, or None for a duplicate's answer, which changed nothing here but may repair a crash).
Then = Callable[[OrderAccount, Mark | None], Awaitable[None]]


@dataclass
class Billing:
    """The handlers' dependencies: Mongo adapters in the service, fakes in handler tests."""

    settings: Settings
    customers: CustomerStore
    accounts: OrderAccountStore
    invoices: InvoiceStore
    payments: PaymentStore
    refunds: RefundStore
    # What finance was told of confirmed orders (R2.5): amount, payment terms, invoice type.
    notices: Notices = field(default_factory=FakeNotices)

    def answers(self, cause: Envelope | None) -> Answers:
        return Answers(self.settings.service_name, cause)

    async def update_account(
        self,
        order_id: str,
        decide: Callable[[OrderAccount], Decision],
        cause: Envelope | None,
        then: Then | None = None,
    ) -> Changed[OrderAccount] | None:
        """Change the order's account (``shared.aggregates.change``); None when billing has none.
        ``then`` runs after the write, before its messages go out: whoever hears them finds the
        customer's figures already moved (exposure.sync)."""
        store = self.accounts if then is None else _ThenStore(self.accounts, then)
        try:
            return await change(
                store, order_id, decide, envelopes=self.answers(cause), attempts=self.settings.write_attempts
            )
        except NotFound:
            return None


class _ThenStore:
    """The account store as ``change`` sees it, with ``then`` before every flush or publish."""

    def __init__(self, store: OrderAccountStore, then: Then) -> None:
        self.store, self.then = store, then
        self.last: Loaded[OrderAccount] | None = None
        self.before: Mark | None = None

    def _seen(self, loaded: Loaded[OrderAccount] | None) -> Loaded[OrderAccount] | None:
        self.last, self.before = loaded, (loaded.aggregate.mark() if loaded else None)
        return loaded

    async def load(self, key: str) -> Loaded[OrderAccount] | None:
        return self._seen(await self.store.load(key))

    async def load_cached(self, key: str) -> Loaded[OrderAccount] | None:
        return self._seen(await self.store.load_cached(key))

    async def save(self, loaded: Loaded[OrderAccount], envelopes: Sequence[Envelope]) -> Loaded[OrderAccount]:
        return await self.store.save(loaded, envelopes)

    async def flush(self, saved: Loaded[OrderAccount]) -> None:
        await self.then(saved.aggregate, self.before)
        await self.store.flush(saved)

    async def publish(self, envelopes: Sequence[Envelope]) -> None:
        if self.last is not None:
            await self.then(self.last.aggregate, None)
        await self.store.publish(envelopes)

    def fingerprint(self, account: OrderAccount) -> object:
        return self.store.fingerprint(account)
