"""Sign-in throttling that counts failed attempts only.

Two sliding windows of failures:
- per (account, client address): `max_failures` in `window_s`, then 429 for that pair;
- per account: past `account_max_failures`, an address that has already failed on the account
  is refused at once, while an address that has not failed is still let through, so a stranger
  spraying guesses cannot lock the owner out.
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
from typing import Any, TypeVar

K = TypeVar("K")
MAX_KEYS = 100_000  # the oldest keys are dropped past this: memory stays bounded under a flood


class TooManyAttempts(Exception):
    def __init__(self, retry_after_s: int, message: str) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


@dataclass
class SigninLimiter:
    max_failures: int = 5
    account_max_failures: int = 20
    window_s: float = 900.0
    clock: Callable[[], float] = time.monotonic
    _pairs: dict[tuple[str, str], deque[float]] = field(default_factory=dict)
    _accounts: dict[str, deque[float]] = field(default_factory=dict)

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
        """Seconds until the window holds fewer than `allowed` failures again."""
        oldest_that_blocks = stamps[len(stamps) - allowed]
        return max(1, math.ceil(oldest_that_blocks + self.window_s - self.clock()))

    def check(self, account: str, address: str) -> None:
        """Raise TooManyAttempts when this attempt must not even be verified."""
        pair = self._recent(self._pairs, (account, address))
        if len(pair) >= self.max_failures:
            raise TooManyAttempts(
                self._retry_after(pair, self.max_failures),
                "too many failed sign-ins for this account from your address; retry later",
            )
        per_account = self._recent(self._accounts, account)
        if pair and len(per_account) >= self.account_max_failures:
            raise TooManyAttempts(
                self._retry_after(per_account, self.account_max_failures),
                "too many failed sign-ins for this account; retry later",
            )

    def failed(self, account: str, address: str) -> None:
        now = self.clock()
        _append(self._pairs, (account, address), now)
        _append(self._accounts, account, now)

    def succeeded(self, account: str, address: str) -> None:
        self._pairs.pop((account, address), None)


def _append(table: dict[K, deque[float]], key: K, now: float) -> None:
    if key not in table and len(table) >= MAX_KEYS:
        del table[next(iter(table))]  # the oldest key: insertion order
    table.setdefault(key, deque()).append(now)
