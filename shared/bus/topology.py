"""RabbitMQ names and declarations, idempotent, declared from code at start-up.

Per service S with prefix P:
- ``P.bus``           topic exchange all messages are published to;
- ``P.S``             the service's durable quorum work queue, with a delivery limit
                      (crash loops) dead-lettering to ``P.dlx`` -> ``P.S.parked``;
- ``P.S.retry.<ms>``  one TTL queue per back-off tier; expired messages dead-letter
                      through the default exchange straight back to ``P.S`` only
                      (an event must not be re-delivered to every other subscriber);
- ``P.S.parked``      where poison messages wait for a person, with their error.
"""

from __future__ import annotations

from dataclasses import dataclass

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractExchange, AbstractQueue


@dataclass(frozen=True)
class Names:
    prefix: str
    service: str

    @property
    def exchange(self) -> str:
        return f"{self.prefix}.bus"

    @property
    def dead_letter_exchange(self) -> str:
        return f"{self.prefix}.dlx"

    @property
    def queue(self) -> str:
        return f"{self.prefix}.{self.service}"

    @property
    def parked(self) -> str:
        return f"{self.queue}.parked"

    def retry(self, delay_ms: int) -> str:
        return f"{self.queue}.retry.{delay_ms}"


async def declare_exchange(channel: AbstractChannel, names: Names) -> AbstractExchange:
    return await channel.declare_exchange(names.exchange, aio_pika.ExchangeType.TOPIC, durable=True)


async def declare_service_queues(
    channel: AbstractChannel,
    names: Names,
    routing_keys: list[str],
    retry_delays_ms: list[int],
    delivery_limit: int,
) -> AbstractQueue:
    """Declare the work, retry and parking queues of one service and bind what it consumes."""
    exchange = await declare_exchange(channel, names)
    dlx = await channel.declare_exchange(
        names.dead_letter_exchange, aio_pika.ExchangeType.DIRECT, durable=True
    )
    parked = await channel.declare_queue(names.parked, durable=True, arguments={"x-queue-type": "quorum"})
    await parked.bind(dlx, routing_key=names.queue)
    work = await channel.declare_queue(
        names.queue,
        durable=True,
        arguments={
            "x-queue-type": "quorum",
            "x-delivery-limit": delivery_limit,
            "x-dead-letter-exchange": names.dead_letter_exchange,
            "x-dead-letter-routing-key": names.queue,
        },
    )
    for delay in sorted(set(retry_delays_ms)):
        await channel.declare_queue(
            names.retry(delay),
            durable=True,
            arguments={
                "x-message-ttl": delay,
                "x-dead-letter-exchange": "",
                "x-dead-letter-routing-key": names.queue,
            },
        )
    for key in sorted(set(routing_keys)):
        await work.bind(exchange, routing_key=key)
    return work
