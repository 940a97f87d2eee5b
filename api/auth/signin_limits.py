"""Sign-in throttling: failed attempts in sliding windows, and attempts in flight.

An attempt is reserved before its password is verified (`reserve`), so the attempts still being
verified count as if they had failed already: a burst of parallel guesses cannot all pass the
check before the first of them is recorded as a failure. The reservation ends as a failure
(`Attempt.failed`), a success (`Attempt.succeeded`) or, when neither is said (an error, a busy
hashing pool, a cancelled request), is released without counting.

Two sliding windows of failures, in-flight attempts counted with them:
- per (account, client address): `max_failures` in `window_s`, then 429 for that pair;
- per account: past `account_max_failures`, an address that has already failed on the account
  is refused at once, while an address that has not failed is still let through, so a stranger
  spraying guesses cannot lock the owner out for the window.
And two caps on attempts in flight, whatever their outcome will be: `account_max_inflight` per
account (every address together) and `address_max_inflight` per client address (every account
together); past them, 429 with a Retry-After of one second. A flood from many addresses can so
keep an account's owner waiting, but only while the flood's attempts are being verified.
A correct password clears the pair's failures. Counters live in this process: with several
replicas each keeps its own, so the effective limits are multiplied by the replica count
(sticky sessions or a shared store would be needed for exact limits).
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, TypeVar

K = TypeVar("K")
MAX_KEYS = 100_000  # the oldest keys are dropped past this: memory stays bounded under a flood
INFLIGHT_RETRY_S = 1  # an attempt in flight ends within about a hash's time


class TooManyAttempts(Exception):
    def __init__(self, retry_after_s: int, message: str) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


@dataclass
class SigninLimiter:
    max_failures: int = 5
    account_max_failures: int = 20
    window_s: float = 900.0
    account_max_inflight: int = 8
    address_max_inflight: int = 16
    clock: Callable[[], float] = time.monotonic
    _pairs: dict[tuple[str, str], deque[float]] = field(default_factory=dict)
    _accounts: dict[str, deque[float]] = field(default_factory=dict)
    # Attempts reserved and not yet ended; an entry exists only while its count is positive.
    _inflight_pairs: dict[tuple[str, str], int] = field(default_factory=dict)
    _inflight_accounts: dict[str, int] = field(default_factory=dict)
    _inflight_addresses: dict[str, int] = field(default_factory=dict)

    def _recent(self, table: dict[Any, deque[float]], key: object) -> deque[float]:
        stamps = table.get(key)
        if stamps is None:
            return deque()
        horizon = self.clock() - self.window_s
        while stamps and stamps[0] <= horizon:
            stamps.popleft()
        if not stamps:
            del table[key]
        return stamps

    def _retry_after(self, stamps: deque[float], allowed: int) -> int:
        """Seconds until the window holds fewer than `allowed` failures again (one second when
        the failures alone do not reach it: attempts in flight make up the rest)."""
        if len(stamps) < allowed:
            return INFLIGHT_RETRY_S
        oldest_that_blocks = stamps[len(stamps) - allowed]
        return max(1, math.ceil(oldest_that_blocks + self.window_s - self.clock()))

    def check(self, account: str, address: str) -> None:
        """Raise TooManyAttempts when an attempt must not even be verified now. Reserves
        nothing: `reserve` is what a caller that goes on to verify uses."""
        pair = self._recent(self._pairs, (account, address))
        pair_inflight = self._inflight_pairs.get((account, address), 0)
        if len(pair) + pair_inflight >= self.max_failures:
            raise TooManyAttempts(
                self._retry_after(pair, self.max_failures),
                "too many failed sign-ins for this account from your address; retry later"
                if len(pair) >= self.max_failures
                else "too many sign-ins in progress for this account from your address; retry shortly",
            )
        per_account = self._recent(self._accounts, account)
        account_inflight = self._inflight_accounts.get(account, 0)
        if pair and len(per_account) + account_inflight >= self.account_max_failures:
            raise TooManyAttempts(
                self._retry_after(per_account, self.account_max_failures),
                "too many failed sign-ins for this account; retry later",
            )
        if account_inflight >= self.account_max_inflight:
            raise TooManyAttempts(INFLIGHT_RETRY_S, "too many sign-ins in progress for this account; retry shortly")
        if self._inflight_addresses.get(address, 0) >= self.address_max_inflight:
            raise TooManyAttempts(INFLIGHT_RETRY_S, "too many sign-ins in progress from your address; retry shortly")

    def reserve(self, account: str, address: str) -> Attempt:
        """Check, then count the attempt as in flight until it ends: use it as a context
        manager, calling `failed()` or `succeeded()` inside; leaving without either releases it."""
        self.check(account, address)  # no await between the check and the count: atomic on the loop
        _add(self._inflight_pairs, (account, address), 1)
        _add(self._inflight_accounts, account, 1)
        _add(self._inflight_addresses, address, 1)
        return Attempt(self, account, address)

    def _end(self, account: str, address: str) -> None:
        _add(self._inflight_pairs, (account, address), -1)
        _add(self._inflight_accounts, account, -1)
        _add(self._inflight_addresses, address, -1)

    def inflight(self) -> int:
        """Attempts reserved and not ended (all accounts)."""
        return sum(self._inflight_accounts.values())

    def failed(self, account: str, address: str) -> None:
        now = self.clock()
        _append(self._pairs, (account, address), now)
        _append(self._accounts, account, now)

    def succeeded(self, account: str, address: str) -> None:
        self._pairs.pop((account, address), None)


class Attempt:
    """One reserved sign-in attempt; ends once (later calls do nothing)."""

    def __init__(self, limiter: SigninLimiter, account: str, address: str) -> None:
        self._limiter, self.account, self.address = limiter, account, address
        self._open = True

    def _close(self) -> bool:
        if not self._open:
            return False
        self._open = False
        self._limiter._end(self.account, self.address)
        return True

    def failed(self) -> None:
        """The password was wrong (or the account unknown): a failure in the windows."""
        if self._close():
            self._limiter.failed(self.account, self.address)

    def succeeded(self) -> None:
        if self._close():
            self._limiter.succeeded(self.account, self.address)

    def release(self) -> None:
        """Not verified after all: nothing counted."""
        self._close()

    def __enter__(self) -> Attempt:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.release()


def _add(table: dict[K, int], key: K, delta: int) -> None:
    count = table.get(key, 0) + delta
    if count > 0:
        table[key] = count
    else:
        table.pop(key, None)


def _append(table: dict[K, deque[float]], key: K, now: float) -> None:
    if key not in table and len(table) >= MAX_KEYS:
        del table[next(iter(table))]  # the oldest key: insertion order
    table.setdefault(key, deque()).append(now)
