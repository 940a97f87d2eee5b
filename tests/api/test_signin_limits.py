"""Sign-in abuse: argon2 off the event loop, failed attempts throttled without locking the owner out."""

from __future__ import annotations

import threading

import httpx
import pytest

from api import security
from api.ratelimit import SigninLimiter, TooManyAttempts

PASSWORD = "correct horse battery"


def from_address(client: httpx.AsyncClient, address: str) -> httpx.AsyncClient:
    """Another client of the same app, seen as coming from `address`."""
    transport = httpx.ASGITransport(app=client.app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://api.test")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_limiter_counts_failures_per_pair_and_expires_them():
    clock = Clock()
    limiter = SigninLimiter(max_failures=2, account_max_failures=100, window_s=60, clock=clock)
    limiter.failed("a@x", "1.1.1.1")
    clock.now += 10
    limiter.failed("a@x", "1.1.1.1")
    with pytest.raises(TooManyAttempts) as refused:
        limiter.check("a@x", "1.1.1.1")
    assert refused.value.retry_after_s == 50  # until the first failure leaves the window
    limiter.check("a@x", "2.2.2.2")  # another address is not concerned
    limiter.check("b@x", "1.1.1.1")  # nor another account
    clock.now += 51
    limiter.check("a@x", "1.1.1.1")


def test_account_throttle_spares_addresses_that_have_not_failed():
    limiter = SigninLimiter(max_failures=5, account_max_failures=3, window_s=60, clock=Clock())
    for address in ("1.0.0.1", "1.0.0.2", "1.0.0.3"):
        limiter.failed("a@x", address)
    with pytest.raises(TooManyAttempts, match="for this account"):
        limiter.check("a@x", "1.0.0.1")
    limiter.check("a@x", "9.9.9.9")  # the owner, from an address that never failed


def test_success_clears_the_pair():
    limiter = SigninLimiter(max_failures=2, window_s=60, clock=Clock())
    limiter.failed("a@x", "1.1.1.1")
    limiter.succeeded("a@x", "1.1.1.1")
    limiter.failed("a@x", "1.1.1.1")
    limiter.check("a@x", "1.1.1.1")


async def test_wrong_passwords_get_429_with_retry_after_and_the_owner_still_signs_in(api_client, signup_user):
    data, _ = await signup_user(api_client)
    email = data["user"]["email"]
    async with from_address(api_client, "203.0.113.7") as attacker, from_address(api_client, "198.51.100.9") as owner:
        for _ in range(5):
            resp = await attacker.post("/signin", json={"email": email, "password": "guess"})
            assert resp.status_code == 401
        refused = await attacker.post("/signin", json={"email": email, "password": PASSWORD})
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
        assert "too many failed sign-ins" in refused.json()["detail"]
        assert (await owner.post("/signin", json={"email": email, "password": PASSWORD})).status_code == 200


async def test_a_spray_from_many_addresses_cannot_lock_the_owner_out(open_api_client, signup_user):
    async with open_api_client(signin_account_max_failures=3) as client:
        data, _ = await signup_user(client)
        email = data["user"]["email"]
        for n in range(4):
            async with from_address(client, f"203.0.113.{n}") as stranger:
                assert (await stranger.post("/signin", json={"email": email, "password": "x"})).status_code == 401
        async with from_address(client, "203.0.113.0") as stranger:  # failed before: refused now
            assert (await stranger.post("/signin", json={"email": email, "password": PASSWORD})).status_code == 429
        async with from_address(client, "192.0.2.50") as owner:
            assert (await owner.post("/signin", json={"email": email, "password": PASSWORD})).status_code == 200


async def test_argon2_runs_off_the_event_loop_for_known_and_unknown_emails(api_client, signup_user, monkeypatch):
    loop_thread = threading.current_thread()
    threads: list[str] = []
    real_verify, real_hash = security.pwd_context.verify, security.pwd_context.hash

    def verify(*args, **kwargs):
        threads.append(threading.current_thread().name)
        assert threading.current_thread() is not loop_thread
        return real_verify(*args, **kwargs)

    def hash_(*args, **kwargs):
        threads.append(threading.current_thread().name)
        assert threading.current_thread() is not loop_thread
        return real_hash(*args, **kwargs)

    monkeypatch.setattr(security.pwd_context, "verify", verify)
    monkeypatch.setattr(security.pwd_context, "hash", hash_)
    data, _ = await signup_user(api_client)  # hashes
    assert (
        await api_client.post("/signin", json={"email": data["user"]["email"], "password": "no"})
    ).status_code == 401
    assert (await api_client.post("/signin", json={"email": "nobody@example.com", "password": "no"})).status_code == 401
    assert len(threads) >= 3  # the unknown email was verified too (against the dummy hash)
    assert all(name.startswith("va-password-hash") for name in threads)
