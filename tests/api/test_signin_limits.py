"""Sign-in abuse: argon2 off the event loop behind a bounded queue, failed attempts throttled without
locking the owner out, attempts reserved before they are verified so parallel guesses are counted."""

from __future__ import annotations

import asyncio
import threading
import time

import httpx
import pytest

from api.auth import passwords
from api.auth.signin_limits import SigninLimiter, TooManyAttempts

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
    real_verify, real_hash = passwords.pwd_context.verify, passwords.pwd_context.hash

    def verify(*args, **kwargs):
        threads.append(threading.current_thread().name)
        assert threading.current_thread() is not loop_thread
        return real_verify(*args, **kwargs)

    def hash_(*args, **kwargs):
        threads.append(threading.current_thread().name)
        assert threading.current_thread() is not loop_thread
        return real_hash(*args, **kwargs)

    monkeypatch.setattr(passwords.pwd_context, "verify", verify)
    monkeypatch.setattr(passwords.pwd_context, "hash", hash_)
    data, _ = await signup_user(api_client)  # hashes
    assert (
        await api_client.post("/signin", json={"email": data["user"]["email"], "password": "no"})
    ).status_code == 401
    assert (await api_client.post("/signin", json={"email": "nobody@example.com", "password": "no"})).status_code == 401
    assert len(threads) >= 3  # the unknown email was verified too (against the dummy hash)
    assert all(name.startswith("va-password-hash") for name in threads)


# --- Attempts in flight: reserved before the password is verified --------------------------


def test_attempts_in_flight_count_against_the_pair_until_they_end():
    limiter = SigninLimiter(max_failures=2, window_s=60, clock=Clock())
    first, second = limiter.reserve("a@x", "1.1.1.1"), limiter.reserve("a@x", "1.1.1.1")
    with pytest.raises(TooManyAttempts, match="in progress") as refused:
        limiter.reserve("a@x", "1.1.1.1")
    assert refused.value.retry_after_s == 1
    first.failed()
    second.release()  # not verified after all: nothing counted
    second.failed()  # an attempt ends once
    assert limiter.inflight() == 0
    third = limiter.reserve("a@x", "1.1.1.1")  # one failure, nothing in flight
    third.failed()
    with pytest.raises(TooManyAttempts, match="too many failed sign-ins") as refused:
        limiter.reserve("a@x", "1.1.1.1")
    assert refused.value.retry_after_s == 60


def test_an_attempt_left_without_an_outcome_is_released():
    limiter = SigninLimiter(max_failures=1, window_s=60, clock=Clock())
    with pytest.raises(RuntimeError), limiter.reserve("a@x", "1.1.1.1"):
        raise RuntimeError("the database went away")
    assert limiter.inflight() == 0
    with limiter.reserve("a@x", "1.1.1.1") as attempt:
        attempt.succeeded()
    limiter.reserve("a@x", "1.1.1.1")  # no failure was counted


def test_in_flight_caps_per_account_and_per_address():
    limiter = SigninLimiter(max_failures=5, account_max_inflight=2, address_max_inflight=3, clock=Clock())
    limiter.reserve("a@x", "1.0.0.1")
    limiter.reserve("a@x", "1.0.0.2")
    with pytest.raises(TooManyAttempts, match="in progress for this account") as refused:
        limiter.reserve("a@x", "1.0.0.3")
    assert refused.value.retry_after_s == 1
    limiter.reserve("b@x", "9.9.9.9")
    limiter.reserve("c@x", "9.9.9.9")
    limiter.reserve("d@x", "9.9.9.9")
    with pytest.raises(TooManyAttempts, match="in progress from your address"):
        limiter.reserve("e@x", "9.9.9.9")


def test_attempts_in_flight_count_against_the_account_for_addresses_that_failed():
    limiter = SigninLimiter(max_failures=5, account_max_failures=3, clock=Clock())
    limiter.failed("a@x", "1.0.0.1")
    limiter.reserve("a@x", "1.0.0.1")
    limiter.reserve("a@x", "1.0.0.2")
    with pytest.raises(TooManyAttempts, match="for this account"):
        limiter.reserve("a@x", "1.0.0.1")  # 1 failure + 2 in flight: as if they had failed
    limiter.reserve("a@x", "1.0.0.3")  # an address that never failed still goes through


class HeldVerify:
    """pwd_context.verify wrapped: counts the calls with `password` (in the hashing threads),
    the most running at once, and holds each until `release` is set (or `hold_s` passed)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, password: str | None = None, hold_s: float = 10.0) -> None:
        self.password, self.hold_s = password, hold_s
        self.release = threading.Event()
        self.calls = self.running = self.most_at_once = 0
        self.loop_thread = threading.current_thread()
        self._lock = threading.Lock()
        self._real = passwords.pwd_context.verify
        monkeypatch.setattr(passwords.pwd_context, "verify", self)

    def __call__(self, secret, *args, **kwargs):
        assert threading.current_thread() is not self.loop_thread
        if self.password is not None and secret != self.password:
            return self._real(secret, *args, **kwargs)
        with self._lock:
            self.calls += 1
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
        try:
            self.release.wait(self.hold_s)
            return self._real(secret, *args, **kwargs)
        finally:
            with self._lock:
                self.running -= 1


async def wait_for(predicate, timeout_s: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.01)


async def test_parallel_wrong_passwords_verify_at_most_the_limit(open_api_client, signup_user, monkeypatch):
    k, n = 3, 12
    async with open_api_client(signin_max_failures=k) as client:
        data, _ = await signup_user(client)
        email = data["user"]["email"]
        held = HeldVerify(monkeypatch, password="parallel guess", hold_s=0.3)
        async with from_address(client, "203.0.113.70") as attacker:
            answers = await asyncio.gather(
                *(attacker.post("/signin", json={"email": email, "password": "parallel guess"}) for _ in range(n))
            )
            statuses = sorted(r.status_code for r in answers)
            assert held.calls <= k and statuses == [401] * k + [429] * (n - k), statuses
            assert held.most_at_once >= 2  # the verifications really ran in parallel threads
            for refused in (r for r in answers if r.status_code == 429):
                assert int(refused.headers["retry-after"]) >= 1 and "sign-ins" in refused.json()["detail"]
            assert client.app.state.signin_limiter.inflight() == 0
            after = await attacker.post("/signin", json={"email": email, "password": PASSWORD})
            assert after.status_code == 429 and "too many failed sign-ins" in after.json()["detail"]


async def test_in_flight_caps_refuse_a_parallel_burst(open_api_client, signup_user, monkeypatch):
    async with open_api_client(signin_max_inflight_per_account=2, signin_max_inflight_per_address=3) as client:
        data, _ = await signup_user(client)
        email = data["user"]["email"]
        held = HeldVerify(monkeypatch, hold_s=0.3)

        async def guess(address: str, account: str) -> httpx.Response:
            async with from_address(client, address) as c:
                return await c.post("/signin", json={"email": account, "password": "spray"})

        # One account, ten addresses: two verified at once, the rest refused.
        answers = await asyncio.gather(*(guess(f"203.0.113.{n}", email) for n in range(10)))
        assert sorted(r.status_code for r in answers) == [401] * 2 + [429] * 8 and held.calls == 2
        assert all("in progress for this account" in r.json()["detail"] for r in answers if r.status_code == 429)
        # One address, ten accounts (unknown ones cost a dummy hash): three at once.
        answers = await asyncio.gather(*(guess("198.51.100.1", f"nobody{n}@example.com") for n in range(10)))
        assert sorted(r.status_code for r in answers) == [401] * 3 + [429] * 7 and held.calls == 5
        assert all("in progress from your address" in r.json()["detail"] for r in answers if r.status_code == 429)
        assert client.app.state.signin_limiter.inflight() == 0
        async with from_address(client, "192.0.2.50") as owner:  # the burst is over: nothing held
            assert (await owner.post("/signin", json={"email": email, "password": PASSWORD})).status_code == 200


# --- The bounded hashing queue -------------------------------------------------------------


async def test_a_full_hashing_queue_answers_503_and_healthz_stays_fast(open_api_client, monkeypatch):
    n = 12
    admitted = passwords.HASH_THREADS + 1  # running, plus a queue of 1 waiting
    async with open_api_client(password_hash_queue=1) as client:
        held = HeldVerify(monkeypatch)  # every verification waits for `release`

        async def signin(i: int) -> httpx.Response:
            async with from_address(client, f"203.0.113.{i}") as c:
                return await c.post("/signin", json={"email": f"nobody{i}@example.com", "password": "x"})

        burst = [asyncio.create_task(signin(i)) for i in range(n)]
        try:
            await wait_for(lambda: held.running == passwords.HASH_THREADS)
            await asyncio.sleep(0.3)  # the refusals do not wait for a thread
            refused = [t.result() for t in burst if t.done()]
            assert len(refused) == n - admitted, f"{len(refused)} of {n} answered while the hashing was held"
            for resp in refused:
                assert resp.status_code == 503, resp.text
                assert int(resp.headers["retry-after"]) >= 1 and "busy verifying passwords" in resp.json()["detail"]
            start = time.perf_counter()
            health = await client.get("/healthz")
            assert health.status_code == 200 and time.perf_counter() - start < 0.5
            assert client.app.state.password_hasher.pending == admitted
        finally:
            held.release.set()
        answers = await asyncio.gather(*burst)
        assert sorted(r.status_code for r in answers) == [401] * admitted + [503] * (n - admitted)
        assert client.app.state.password_hasher.pending == 0 and client.app.state.signin_limiter.inflight() == 0
        # The refused attempts were not verified: no failure counted against them.
        assert len(client.app.state.signin_limiter._pairs) == admitted


async def test_hasher_bounds_its_queue_and_frees_the_place_of_a_cancelled_job(monkeypatch):
    hasher = passwords.PasswordHasher(threads=1, queue=1)
    held = HeldVerify(monkeypatch)
    try:
        running = asyncio.ensure_future(hasher.verify_async("a", None))
        waiting = asyncio.ensure_future(hasher.verify_async("b", None))
        await wait_for(lambda: held.running == 1)
        with pytest.raises(passwords.HashingBusy) as busy:
            await hasher.verify_async("c", None)
        assert busy.value.retry_after_s >= 1
        waiting.cancel()  # still queued: its place is given back at once
        await wait_for(lambda: hasher.pending == 1)
        third = asyncio.ensure_future(hasher.verify_async("d", None))
        held.release.set()
        assert await running is False and await third is False
        assert hasher.pending == 0
    finally:
        held.release.set()
        hasher.close()
