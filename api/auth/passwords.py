"""Password hashing: argon2 through passlib, off the event loop.

argon2 costs tens of milliseconds of CPU by design: the async handlers call the app's
`PasswordHasher` (`hash_async`, `verify_async`), which runs it in a small thread pool of its own
(argon2 releases the GIL), never on the event loop. The pool's queue is bounded: past
`threads + queue` jobs waiting or running, a job is refused at once (`HashingBusy`, answered 503
with Retry-After) rather than queued behind minutes of hashing. An unknown email is verified
against a dummy hash, so it takes as long as a wrong password (and holds a place in the queue
like one).
"""

from __future__ import annotations

import asyncio
import functools
import math
import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from passlib.context import CryptContext

pwd_context = CryptContext(schemes=["argon2"], deprecated="auto")
HASH_THREADS = 2  # argon2 runs in at most this many threads at once; more jobs wait in a bounded queue
HASH_QUEUE = 64  # jobs that may wait for a thread (VA_PASSWORD_HASH_QUEUE's default is the same)
MAX_RETRY_AFTER_S = 30  # the most a busy answer's Retry-After says


def hash_password(password: str) -> str:
    return pwd_context.hash(password)


def verify_password(password: str, password_hash: str) -> bool:
    try:
        return pwd_context.verify(password, password_hash)
    except (ValueError, TypeError):
        return False


@functools.cache
def dummy_hash() -> str:
    """A hash of a random password, verified in place of an unknown account's."""
    return hash_password(secrets.token_urlsafe(16))


class HashingBusy(Exception):
    """The hashing pool's queue is full: the job was refused, not queued."""

    def __init__(self, retry_after_s: int) -> None:
        super().__init__("the server is busy verifying passwords; retry shortly")
        self.retry_after_s = retry_after_s


class PasswordHasher:
    """argon2 in `threads` threads behind a queue of at most `queue` waiting jobs.

    A job holds its place from submission until its thread is done with it (a cancelled request
    whose job already runs keeps the place until the job ends), so the bound is on the work the
    threads really have. Thread-safe; one per app, closed with it."""

    def __init__(self, threads: int = HASH_THREADS, queue: int = HASH_QUEUE) -> None:
        if threads < 1 or queue < 0:
            raise ValueError("a password hasher needs at least one thread and a queue of at least 0")
        self.threads, self.queue = threads, queue
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="va-password-hash")
        self._lock = threading.Lock()
        self._pending = 0  # jobs submitted and not done: waiting or running
        self._seconds = 0.1  # a running average of one job's duration, for Retry-After

    @property
    def pending(self) -> int:
        return self._pending

    def _submit(self, fn: Callable[..., object], *args: object) -> Future[object]:
        with self._lock:
            if self._pending >= self.threads + self.queue:
                # The whole backlog drains in about pending * seconds / threads.
                wait = math.ceil(self._pending * self._seconds / self.threads)
                raise HashingBusy(min(MAX_RETRY_AFTER_S, max(1, wait)))
            self._pending += 1
        try:
            future = self._pool.submit(self._timed, fn, *args)
        except BaseException:
            self._done()
            raise
        future.add_done_callback(lambda _: self._done())
        return future

    def _timed(self, fn: Callable[..., object], *args: object) -> object:
        start = time.perf_counter()
        try:
            return fn(*args)
        finally:
            elapsed = time.perf_counter() - start
            with self._lock:
                self._seconds = 0.8 * self._seconds + 0.2 * elapsed

    def _done(self) -> None:
        with self._lock:
            self._pending -= 1

    async def _run(self, fn: Callable[..., object], *args: object) -> object:
        return await asyncio.wrap_future(self._submit(fn, *args))

    async def hash_async(self, password: str) -> str:
        return str(await self._run(hash_password, password))

    async def verify_async(self, password: str, password_hash: str | None) -> bool:
        """Verify off the event loop; `None` (no such account) costs the same and is False."""
        if password_hash is None:
            await self._run(_verify_dummy, password)
            return False
        return bool(await self._run(verify_password, password, password_hash))

    def close(self) -> None:
        """Stop taking jobs: the queued ones are cancelled, the running ones finish in their threads."""
        self._pool.shutdown(wait=False, cancel_futures=True)


def _verify_dummy(password: str) -> bool:
    verify_password(password, dummy_hash())  # the dummy is made here the first time: one job
    return False
