"""The one SSRF guard (`videoanalysis.netguard`) the webhooks and the video URLs share: which
addresses it refuses. Through its callers: tests/core/webhooks/test_signing_and_guard.py and
tests/core/test_remote.py."""

from __future__ import annotations

from videoanalysis.netguard import refusal


def test_special_purpose_table_does_not_depend_on_is_global():
    """Addresses whose `is_global` differs between Python patch releases are refused here."""
    for address in ("192.0.0.9", "2001:1::1", "2001:20::1", "::ffff:8.8.8.8", "64:ff9b::808:808"):
        assert refusal(address), address
    assert refusal("8.8.8.8") is None and refusal("2a00:1450:4001:80b::200e") is None
