"""The bus's users and the consumers' sender check (issue 7), without a broker: the permissions
come from the code, fit any prefix, and a consumer believes only what the broker vouches for."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, ClassVar

import httpx
import pytest

from shared.bus import traffic
from shared.bus.access import SenderCheck, bus_user, password_for, service_url, url_user
from shared.bus.users import ManagementApi, definitions, grants, password_hash
from shared.contracts import MESSAGE_TYPES
from shared.registry import SERVICES
from shared.settings import ServiceSettings


class BillingSettings(ServiceSettings):
    service_name: ClassVar[str] = "billing"


def _matches(pattern: str, name: str) -> bool:
    return re.fullmatch(pattern, name) is not None  # RabbitMQ: re:run on the whole name, anchored here


@pytest.mark.parametrize("service", SERVICES)
def test_a_users_topic_permissions_are_exactly_what_its_code_sends_and_binds(service: str):
    g = grants(service)
    sent, consumed = traffic.senders(), traffic.consumed_by(service)

    for name, cls in MESSAGE_TYPES.items():
        assert _matches(g.topic_write, cls.routing_key()) == (service in sent[name]), name
        assert _matches(g.topic_read, cls.routing_key()) == (cls in consumed), name
    assert not _matches(g.topic_read, "cmd.#") and not _matches(g.topic_write, "#")


def test_logistics_may_not_publish_the_billing_commands_only_intake_sends():
    key = MESSAGE_TYPES["ReleaseCredit"].routing_key()

    assert not _matches(grants("logistics").topic_write, key)
    assert _matches(grants("intake").topic_write, key)
    assert traffic.senders()["ReleaseCredit"] == {"intake"}
    assert traffic.senders()["IssueCreditNote"] == {"aftersales"}


@pytest.mark.parametrize("prefix", ["oms", "t0a1b2c3d4e", "staging-2"])
def test_a_users_queue_permissions_fit_any_prefix_and_only_its_own_queues(prefix: str):
    g = grants("billing")
    own = [f"{prefix}.billing", f"{prefix}.billing.parked", f"{prefix}.billing.retry.200"]
    foreign = [f"{prefix}.intake", f"{prefix}.intake.parked", f"{prefix}.aftersales", f"{prefix}.billing.x"]

    assert all(_matches(g.configure, name) for name in [*own, f"{prefix}.bus", f"{prefix}.dlx"])
    assert not any(_matches(g.configure, name) for name in foreign)
    assert _matches(g.read, f"{prefix}.billing") and not _matches(g.read, f"{prefix}.intake")
    assert not _matches(g.read, f"{prefix}.billing.parked")  # nobody but a person reads what is parked
    assert not any(_matches(g.write, name) for name in foreign)


def test_a_pinned_prefix_is_only_that_prefix():
    g = grants("billing", prefix="oms")

    assert _matches(g.configure, "oms.billing") and not _matches(g.configure, "other.billing")


def test_the_definitions_are_the_same_document_every_time():
    first, second = definitions(prefix="oms", env={}), definitions(prefix="oms", env={})

    assert json.dumps(first, sort_keys=True) == json.dumps(second, sort_keys=True)
    assert [u["name"] for u in first["users"]] == [bus_user(s) for s in SERVICES]
    assert all(u["tags"] == [] for u in first["users"])  # no management, no impersonation
    assert {p["exchange"] for p in first["topic_permissions"]} == {"oms.bus"}
    assert "guest" not in json.dumps(first)


def test_topic_permissions_alone_for_a_test_stacks_prefix():
    doc = definitions(prefix="t123", users=False, env={})

    assert set(doc) == {"topic_permissions"}


def test_password_hash_is_rabbitmqs_salted_sha256():
    import base64
    import hashlib

    raw = base64.b64decode(password_hash("oms-billing", "secret"))
    salt, digest = raw[:4], raw[4:]

    assert digest == hashlib.sha256(salt + b"secret").digest()
    assert password_hash("oms-billing", "secret") != password_hash("oms-billing", "other")


def test_passwords_and_urls_come_from_the_environment_or_the_dev_default():
    env = {"BILLING_AMQP_PASSWORD": "s3cr/t", "INTAKE_AMQP_URL": "amqp://oms-intake:from-url@mq:5672/x"}

    assert password_for("billing", env) == "s3cr/t"
    assert password_for("intake", env) == "from-url"
    assert password_for("logistics", env) == "oms-logistics-dev"
    url = service_url("amqp://guest:guest@mq.internal:5671/oms?heartbeat=30", "billing", env=env)
    assert url == "amqp://oms-billing:s3cr%2Ft@mq.internal:5671/oms?heartbeat=30"
    assert url_user(url) == "oms-billing" and url_user("amqp://127.0.0.1/") == "guest"


def test_a_service_without_a_url_connects_as_its_own_user(monkeypatch: pytest.MonkeyPatch):
    for name in ("AMQP_URL", "BILLING_AMQP_URL", "BILLING_AMQP_PASSWORD"):
        monkeypatch.delenv(name, raising=False)

    assert url_user(BillingSettings().amqp_url) == "oms-billing"
    monkeypatch.setenv("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
    monkeypatch.setenv("BILLING_AMQP_URL", "amqp://oms-billing:pw@127.0.0.1:5672/")
    assert BillingSettings().amqp_url == "amqp://oms-billing:pw@127.0.0.1:5672/"


def test_the_management_api_gets_the_same_document(monkeypatch: pytest.MonkeyPatch):
    seen: list[tuple[str, str, Any]] = []

    def request(method: str, url: str, **kwargs: Any) -> httpx.Response:
        seen.append((method, url, kwargs["json"]))
        return httpx.Response(204, request=httpx.Request(method, url))

    monkeypatch.setattr(httpx, "request", request)
    doc = definitions(prefix="oms", env={})
    ManagementApi("http://admin:pw@rabbitmq:15672").import_definitions(doc)

    assert seen == [("POST", "http://rabbitmq:15672/api/definitions", doc)]


@dataclass
class Delivery:
    user_id: str | None
    headers: dict[str, Any] = field(default_factory=dict)


def _check(**settings: Any) -> SenderCheck:
    return SenderCheck(BillingSettings(amqp_url="amqp://oms-billing:x@127.0.0.1/", **settings), "oms-billing")


def test_a_command_is_accepted_from_the_service_the_code_names_and_refused_from_any_other():
    check = _check()

    assert check.refusal("ReleaseCredit", check.sender(Delivery("oms-intake"))) is None  # type: ignore[arg-type]
    refusal = check.refusal("ReleaseCredit", check.sender(Delivery("oms-logistics")))  # type: ignore[arg-type]
    assert refusal == "refused: ReleaseCredit sent by 'oms-logistics'; only oms-intake may send it"
    assert check.refusal("IssueCreditNote", "oms-aftersales") is None
    assert check.refusal("IssueCreditNote", "oms-intake") is not None


def test_an_event_is_accepted_from_its_owner_only():
    check = _check()

    assert check.refusal("CreditReserved", "oms-billing") is None
    assert check.refusal("ShipmentDelivered", "oms-logistics") is None
    assert check.refusal("ShipmentDelivered", "oms-inventory") is not None


def test_the_sender_header_counts_only_on_the_consumers_own_copy():
    check = _check()

    own_copy = Delivery("oms-billing", {"x-sender": "oms-intake"})
    claimed = Delivery("oms-logistics", {"x-sender": "oms-intake"})
    assert check.sender(own_copy) == "oms-intake"  # type: ignore[arg-type]
    assert check.sender(claimed) == "oms-logistics"  # type: ignore[arg-type]
    assert check.sender(Delivery("oms-billing", {"x-sender": b""})) is None  # type: ignore[arg-type]


def test_operators_are_trusted_and_no_user_id_is_refused_unless_allowed():
    check = _check()

    assert check.refusal("ReleaseCredit", "guest") is None
    assert "carries no user_id" in str(check.refusal("ReleaseCredit", None))
    assert _check(bus_require_sender=False).refusal("ReleaseCredit", None) is None
    assert _check(bus_trusted_senders="").refusal("ReleaseCredit", "guest") is not None
    assert _check(bus_trusted_senders="ops-admin, guest").trusted == {"ops-admin", "guest"}


def test_the_consumes_tables_read_from_source_are_the_imported_ones():
    for service in SERVICES:
        assert traffic.consumed_by(service) == traffic.imported_consumes(service), service
