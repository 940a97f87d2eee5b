"""What the operator sets on Kopf's own settings at start-up (`apply_kopf_settings`)."""

from __future__ import annotations

import kopf

from va_operator.config import OperatorSettings, apply_kopf_settings


def test_a_deleted_resource_whose_timer_is_mid_run_is_looked_at_again_within_a_second() -> None:
    """Kopf's default (60 s) kept the finalizer of a resource deleted while its progress timer
    ran for a minute after the timer ended, and with it the namespace being deleted."""
    settings = kopf.OperatorSettings()
    assert settings.background.cancellation_polling == 60  # what Kopf would do
    apply_kopf_settings(settings, OperatorSettings())
    assert settings.background.cancellation_polling == 1.0
    apply_kopf_settings(settings, OperatorSettings(timer_exit_polling_s=0.5))
    assert settings.background.cancellation_polling == 0.5
    assert settings.persistence.finalizer == "videoanalysis.io/operator"
