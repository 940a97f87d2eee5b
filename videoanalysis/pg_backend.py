"""Tortoise's asyncpg client with every wait bounded.

A database call with no deadline hangs its caller for ever, and with it a request, a job's
run or a test: a pool whose connections are all held (by callers stuck behind a lock, or by a
transaction whose coroutine never resumed), a lock held by a transaction left open, a server
that stopped answering. Each of those waits ends here after `timeout_s` (`VA_DB_TIMEOUT_S`):

- a pooled connection is handed out within it, else asyncpg's `TimeoutError`;
- a lock is waited for at most that long (`lock_timeout`: `LockNotAvailableError`);
- each statement answers within twice that (`command_timeout`, the client's backstop for a
  server that stopped answering: asyncpg cancels the statement and raises `TimeoutError`);
- a transaction left idle for twice that long is ended by the server
  (`idle_in_transaction_session_timeout`), so the locks of a client that stopped half-way do
  not block everyone else.

`videoanalysis.db.is_transient_db_error` counts these as transient: the caller's retry, or its
error, says what happened instead of a silence. Selected by `videoanalysis.db.tortoise_config`.

A transaction also gives its connection back when it fails to start: Tortoise's pooled
transaction takes a connection, then awaits BEGIN, and only its exit (never reached when BEGIN
raises on a connection the server dropped, or when the task is cancelled there) releases it.
Each such failure took one pooled connection for good; after `maxsize` of them (a database
restart or a few cancelled requests) every query of the process waited for ever.
"""

from __future__ import annotations

from typing import Any

import asyncpg
from tortoise.backends.asyncpg.client import AsyncpgDBClient, TransactionWrapper
from tortoise.backends.base.client import TransactionContext, TransactionContextPooled
from tortoise.connection import get_connections


def bounded_credentials(timeout_s: float) -> dict[str, Any]:
    """The connection settings that bound every wait by `timeout_s` seconds."""
    millis = round(timeout_s * 1000)
    return {
        "acquire_timeout": timeout_s,
        "command_timeout": 2 * timeout_s,
        "server_settings": {
            "lock_timeout": f"{millis}ms",
            "idle_in_transaction_session_timeout": f"{2 * millis}ms",
        },
    }


class PoolTimeout(TimeoutError):
    """No pooled connection was handed out in time."""


class BoundedPool(asyncpg.Pool):
    """An asyncpg pool whose `acquire()` waits `acquire_timeout` seconds unless told otherwise
    (Tortoise acquires without a timeout)."""

    __slots__ = ("_acquire_timeout",)

    def __init__(self, *args: Any, acquire_timeout: float, **kwargs: Any) -> None:
        self._acquire_timeout = acquire_timeout
        super().__init__(*args, **kwargs)

    def acquire(self, *, timeout: float | None = None) -> Any:
        return super().acquire(timeout=self._acquire_timeout if timeout is None else timeout)

    async def _acquire(self, timeout: float | None) -> Any:
        try:
            return await super()._acquire(timeout)
        except TimeoutError as exc:
            raise PoolTimeout(
                f"no database connection was free within {timeout:g} s (all {self._maxsize} in use)"
            ) from exc


class ReleasingTransactionContext(TransactionContextPooled):
    """Tortoise's pooled transaction, which releases its connection when BEGIN fails."""

    async def __aenter__(self) -> Any:
        await self.ensure_connection()
        pool = self.client._parent._pool
        self.client._connection = await pool.acquire()
        self.token = get_connections().set(self.connection_name, self.client)
        try:
            await self.client.begin()
        except BaseException:
            get_connections().reset(self.token)
            await pool.release(self.client._connection)
            raise
        return self.client


class BoundedAsyncpgClient(AsyncpgDBClient):
    def __init__(self, **kwargs: Any) -> None:
        self.acquire_timeout = float(kwargs.pop("acquire_timeout"))
        super().__init__(**kwargs)

    def _in_transaction(self) -> TransactionContext:
        return ReleasingTransactionContext(TransactionWrapper(self), self._pool_init_lock)

    async def create_pool(self, **kwargs: Any) -> asyncpg.Pool:
        # asyncpg.create_pool's own defaults, with the pool class that bounds acquire
        defaults = {
            "max_queries": 50000,
            "max_inactive_connection_lifetime": 300.0,
            "record_class": asyncpg.Record,
            "connection_class": asyncpg.connection.Connection,
            "loop": None,
        }
        return await BoundedPool(None, acquire_timeout=self.acquire_timeout, **{**defaults, **kwargs})


client_class = BoundedAsyncpgClient
