"""Who is on the bus (issue 7): one RabbitMQ user per service, and who may send a consumer what.

Accounts: service S connects as ``BUS_USER_TEMPLATE`` with ``{service}`` = S (``oms-intake`` ...),
with ``<SERVICE>_AMQP_URL``, else ``AMQP_URL``, else its development account on the local broker
(password ``<SERVICE>_AMQP_PASSWORD`` or the development default ``dev_password(S)``).
shared/bus/users.py creates the users and their permissions (``python -m shared.bus.users``).

Senders: every publisher sets the AMQP ``user_id`` property to its connection's user, which RabbitMQ
checks (a publish naming another user is refused), so ``user_id`` is who sent a delivery. A consumer
accepts a command only from the services whose code sends it, an event only from its owner
(shared/bus/traffic.py), and anything from the operator accounts of ``BUS_TRUSTED_SENDERS`` (they
hold the broker's keys anyway: test probes, a person replaying a parked message). A delivery without
``user_id`` is refused while ``BUS_REQUIRE_SENDER`` is on (the default). A refused delivery is parked
with its reason and never handled (shared/bus/delivery.py).

A service's own retry and parking copies carry its own ``user_id`` (the broker allows no other) and
the original sender in the ``x-sender`` header, which is believed only on a copy the consuming
service itself published: another service cannot claim a sender by setting the header.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote, urlsplit, urlunsplit

if TYPE_CHECKING:
    from aio_pika.abc import AbstractIncomingMessage

    from shared.settings import ServiceSettings

SENDER_HEADER = "x-sender"
DEFAULT_USER_TEMPLATE = "oms-{service}"
LOCAL_BROKER = "amqp://127.0.0.1:5672/"


def bus_user(service: str, template: str = DEFAULT_USER_TEMPLATE) -> str:
    """The RabbitMQ user of ``service``."""
    return template.format(service=service)


def dev_password(service: str) -> str:
    """The development password of ``service``'s user: only for a local broker, never deployed."""
    return f"oms-{service}-dev"


def password_for(service: str, env: Mapping[str, str] | None = None) -> str:
    """``<SERVICE>_AMQP_PASSWORD``, else the password in ``<SERVICE>_AMQP_URL``, else the dev default."""
    env = os.environ if env is None else env
    upper = service.upper()
    if env.get(f"{upper}_AMQP_PASSWORD"):
        return env[f"{upper}_AMQP_PASSWORD"]
    url = env.get(f"{upper}_AMQP_URL")
    if url and urlsplit(url).password:
        return unquote(urlsplit(url).password or "")
    return dev_password(service)


def with_account(url: str, user: str, password: str) -> str:
    """``url`` (scheme, host, port, vhost, query) with another user and password."""
    parts = urlsplit(url)
    host = parts.hostname or "127.0.0.1"
    if ":" in host:  # an IPv6 literal
        host = f"[{host}]"
    netloc = f"{quote(user, safe='')}:{quote(password, safe='')}@{host}"
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme or "amqp", netloc, parts.path or "/", parts.query, ""))


def service_url(
    base_url: str, service: str, template: str = DEFAULT_USER_TEMPLATE, env: Mapping[str, str] | None = None
) -> str:
    """The URL ``service`` connects with: ``base_url``'s broker, the service's own user and password."""
    return with_account(base_url, bus_user(service, template), password_for(service, env))


def service_urls(base_url: str, services: Iterable[str]) -> dict[str, str]:
    """``<SERVICE>_AMQP_URL`` for each service: the environment a launcher gives the services."""
    return {f"{name.upper()}_AMQP_URL": service_url(base_url, name) for name in services}


def url_user(url: str) -> str:
    """The user a connection to ``url`` logs in as (aio-pika's default is guest)."""
    return unquote(urlsplit(url).username or "") or "guest"


def _text(value: object) -> str | None:
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    return value if isinstance(value, str) else None


class SenderCheck:
    """What one consuming service accepts from whom (the module's docstring)."""

    def __init__(self, settings: ServiceSettings, own_user: str) -> None:
        from shared.bus import traffic  # the source tables: read once, at start-up
        from shared.registry import SERVICES

        self.own_user = own_user
        self.trusted = frozenset(settings.bus_trusted_senders)
        self.require = settings.bus_require_sender
        self._services = {bus_user(s, settings.bus_user_template): s for s in SERVICES}
        self._allowed = traffic.senders()
        self._template = settings.bus_user_template

    def sender(self, delivery: AbstractIncomingMessage) -> str | None:
        """The user that sent the delivery; for this service's own retry copy, the original's."""
        user = delivery.user_id or None
        if user is not None and user == self.own_user:
            copied = _text((delivery.headers or {}).get(SENDER_HEADER))
            if copied is not None:
                return copied or None
        return user

    def refusal(self, type_name: str, sender: str | None) -> str | None:
        """Why a ``type_name`` from ``sender`` must not be handled, or None when it may."""
        if sender is None:
            if not self.require:
                return None
            return f"refused: {type_name} carries no user_id (BUS_REQUIRE_SENDER is on)"
        if sender in self.trusted:
            return None
        allowed = self._allowed.get(type_name, frozenset())
        if self._services.get(sender) in allowed:
            return None
        who = ", ".join(bus_user(s, self._template) for s in sorted(allowed)) or "an operator"
        return f"refused: {type_name} sent by {sender!r}; only {who} may send it"
