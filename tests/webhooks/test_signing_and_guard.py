"""Pure parts of the webhooks: signatures, the SSRF guard, the back-off."""

from __future__ import annotations

from datetime import timedelta

import pytest

from videoanalysis.webhooks import (
    UnsafeCallbackURL,
    WebhookPolicy,
    check_url,
    encode_body,
    retry_delay,
    sign,
    verify,
)


def test_signature_verifies_and_detects_tampering():
    body = encode_body({"task_id": "t", "status": "SUCCEEDED"})
    signature = sign("k" * 64, "1700000000", body)
    assert signature.startswith("sha256=") and len(signature) == 7 + 64
    assert verify("k" * 64, "1700000000", body, signature)
    assert not verify("k" * 64, "1700000001", body, signature)  # replayed with another time
    assert not verify("x" * 64, "1700000000", body, signature)  # another user's key
    assert not verify("k" * 64, "1700000000", body.replace(b"SUCCEEDED", b"FAILED"), signature)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "http://10.1.2.3/",
        "http://192.168.0.7/",
        "http://172.16.0.1/",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/",
        "http://0.0.0.0/",
        "http://[::ffff:127.0.0.1]/",
    ],
)
def test_guard_refuses_internal_addresses(url):
    with pytest.raises(UnsafeCallbackURL, match="non-public address"):
        check_url(url, WebhookPolicy())


@pytest.mark.parametrize(
    "url, message",
    [
        ("ftp://example.com/x", "absolute http"),
        ("/relative", "absolute http"),
        ("http://user:pw@example.com/", "credentials"),
        ("http://no-such-host.invalid/", "does not resolve"),
    ],
)
def test_guard_refuses_malformed_urls(url, message):
    with pytest.raises(UnsafeCallbackURL, match=message):
        check_url(url, WebhookPolicy())


def test_guard_can_be_relaxed_for_private_receivers():
    check_url("http://127.0.0.1:9/hook", WebhookPolicy(allow_private=True))
    with pytest.raises(UnsafeCallbackURL):  # the scheme is checked even then
        check_url("file:///etc/passwd", WebhookPolicy(allow_private=True))


def test_retry_delay_doubles_and_is_capped():
    policy = WebhookPolicy(base_delay_s=5, max_delay_s=60)
    assert [retry_delay(n, policy) for n in (1, 2, 3, 4, 5)] == [timedelta(seconds=s) for s in (5, 10, 20, 40, 60)]
