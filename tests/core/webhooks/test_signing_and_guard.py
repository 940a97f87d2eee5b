"""Pure parts of the webhooks: signatures, the SSRF guard on callback URLs, the back-off."""

from __future__ import annotations

import asyncio
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
        "http://[64:ff9b::7f00:1]/",  # NAT64 of 127.0.0.1
        "http://[2002:7f00:1::1]/",  # 6to4 of 127.0.0.1
        "http://[::127.0.0.1]/",  # IPv4-compatible
        "http://[fec0::1]/",  # site-local
        "http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/",  # Teredo
        "http://[fd00::1]/",
        "http://[fe80::1]/",
        "http://[ff02::1]/",
        "http://100.64.0.1/",
        "http://198.18.0.1/",
        "http://192.0.0.170/",
        "http://224.0.0.1/",
        "http://255.255.255.255/",
        "http://2130706433/",  # 127.0.0.1 written as one number
        "http://0x7f.1/",
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
        ("http://93.184.215.14:99999/", "port must be a number"),
        ("http://93.184.215.14:0/", "port must be a number"),
        ("http://93.184.215.14/a\x00b", "control characters"),
        ("http://93.184.215.14/a b", "spaces"),
        ("http://93.184.215.14/\r\nX-Injected: 1", "control characters"),
        ("http://93.184.215.14/" + "a" * 2100, "longer than 2048"),
        ("javascript:alert(1)", "absolute http"),
        ("http://[::1/hook", "cannot be parsed"),
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


@pytest.mark.parametrize(
    "url",
    [
        "http://93.184.215.14/hook",
        "https://93.184.215.14:8443/x?y=1",
        "http://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]/",
    ],
)
def test_guard_accepts_public_addresses(url):
    check_url(url, WebhookPolicy())


async def test_two_first_uses_of_the_secret_agree(db: str) -> None:
    """Two deliveries (or one and GET /me/webhook-secret) making the key at once: both sign with
    the one key the user keeps."""
    import uuid

    from videoanalysis.tables import User
    from videoanalysis.webhooks import user_secret

    made = await User.create(email=f"wh-{uuid.uuid4().hex[:8]}@example.com", password_hash="x")
    first, second = await User.get(id=made.id), await User.get(id=made.id)  # both read no key
    keys = await asyncio.gather(user_secret(first), user_secret(second))
    kept = (await User.get(id=made.id)).webhook_secret
    assert keys[0] == keys[1] == kept and len(kept) == 64
    assert await user_secret(await User.get(id=made.id)) == kept
