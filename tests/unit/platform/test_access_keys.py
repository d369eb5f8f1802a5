"""Keys, principals and the rate limiter (issue 7): pure logic, no store."""

from __future__ import annotations

import pytest

from shared.access.door import RateLimiter, parse_rate_limits
from shared.access.keys import InvalidKeySpec, KeyRecord, digest, issue, key_id_of
from shared.access.principal import Principal, customer_query
from shared.access.roles import ROLES

NOW = 1_800_000_000_000


def test_a_key_is_random_its_id_findable_and_only_its_hash_is_kept():
    spec = {"name": "web-shop", "role": "storefront", "channel": "storefront", "customers": ("WEB-*",)}
    record, key = issue(**spec, now_ms=NOW)  # type: ignore[arg-type]
    _, other = issue(**spec, now_ms=NOW)  # type: ignore[arg-type]

    assert key != other and key.startswith("oms_") and len(key) > 50
    assert key_id_of(key) == record.key_id
    assert record.hash == digest(key) and key not in str(record.to_doc())
    assert record.matches(key) and not record.matches(other)
    assert KeyRecord.from_doc(record.to_doc()) == record


@pytest.mark.parametrize(
    "bogus", ["nonsense", "oms_", "oms_0123456789ab_short", "Bearer x", "oms_ZZZZZZZZZZZZ_" + "a" * 43]
)
def test_a_malformed_key_has_no_id_so_it_is_never_looked_up(bogus):
    assert key_id_of(bogus) is None


def test_revoked_and_expired_keys_are_unusable():
    record, _ = issue(name="ops.li", role="ops", now_ms=NOW, expires_at=NOW + 1000)

    assert record.usable(NOW) and not record.usable(NOW + 1000)
    revoked = KeyRecord.from_doc({**record.to_doc(), "revoked_at": NOW})
    assert not revoked.usable(NOW)


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"role": "root"}, "role"),
        ({"role": "storefront", "channel": "storefront"}, "customers"),  # scoped: needs customers
        ({"role": "storefront", "customers": ("WEB-*",)}, "channel"),  # storefront: one channel
        ({"role": "ops", "customers": ("WEB-*",)}, "customers"),  # internal: not bound
        ({"role": "erp", "customers": ("bad id with spaces",)}, "customers"),
        ({"role": "ops", "expires_at": NOW}, "expires_at"),
    ],
)
def test_a_key_description_that_makes_no_sense_is_refused_naming_the_field(spec, field):
    with pytest.raises(InvalidKeySpec) as refused:
        issue(name="x", now_ms=NOW, **spec)

    assert field in refused.value.fields and refused.value.status == 422


def test_a_scoped_principal_acts_for_its_customers_and_prefixes_only():
    erp = Principal("k", "erp.acme", ROLES["erp"], customers=("ACME-*", "CUST-7"))
    ops = Principal("k", "ops.zhao", ROLES["ops"])

    assert erp.acts_for("ACME-1") and erp.acts_for("CUST-7")
    assert not erp.acts_for("CUST-77") and not erp.acts_for("OTHER-1") and not erp.acts_for(None)
    assert ops.acts_for("OTHER-1") and ops.customer_filter() is None
    assert not erp.internal and ops.internal


def test_the_customer_filter_escapes_prefixes():
    assert customer_query(("A.B*",)) == {"customer_id": {"$regex": "^A\\.B"}}
    assert customer_query(("X", "Y*")) == {"$or": [{"customer_id": "X"}, {"customer_id": {"$regex": "^Y"}}]}


def test_the_token_bucket_allows_the_burst_then_asks_to_wait():
    limiter = RateLimiter({"storefront": (1.0, 3.0)}, default=(100.0, 100.0))
    shop = Principal("k1", "shop", ROLES["storefront"], "storefront", ("W-*",))

    waits = [limiter.wait_s(shop) for _ in range(4)]

    assert waits[:3] == [0.0, 0.0, 0.0] and 0 < waits[3] <= 1.0
    assert limiter.wait_s(Principal("k2", "ops", ROLES["ops"])) == 0.0  # another key, own bucket


@pytest.mark.parametrize("spec", ["nobody=1/2", "ops=0/1", "ops=fast"])
def test_rate_limit_settings_fail_fast(spec):
    with pytest.raises(ValueError):
        parse_rate_limits(spec)
