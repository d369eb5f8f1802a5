"""Settings read from the environment the way an operator writes them."""

from __future__ import annotations

import pytest

from shared.settings import ServiceSettings


@pytest.mark.parametrize("raw", ["100,300,600", "[100, 300, 600]", " 100, 300 ,600 "])
def test_retry_delays_read_as_a_comma_list_or_a_json_list(monkeypatch: pytest.MonkeyPatch, raw: str):
    monkeypatch.setenv("RETRY_DELAYS_MS", raw)

    assert ServiceSettings().retry_delays_ms == [100, 300, 600]


def test_a_bad_number_fails_fast_at_start_up(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("MAX_ATTEMPTS", "0")

    with pytest.raises(ValueError):
        ServiceSettings()


def test_a_service_reads_its_own_port_variable_over_the_shared_one(monkeypatch: pytest.MonkeyPatch):
    from services.billing.settings import Settings as BillingSettings
    from services.intake.settings import Settings as IntakeSettings

    monkeypatch.setenv("PORT", "9000")
    monkeypatch.setenv("BILLING_PORT", "9105")

    assert BillingSettings().port == 9105
    assert IntakeSettings().port == 9000
