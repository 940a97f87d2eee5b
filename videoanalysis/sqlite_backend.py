"""Tortoise's SQLite client with writers that wait instead of failing.

Every transaction starts `BEGIN IMMEDIATE`: it takes the write lock at its start, so a
read-then-write (taking a lease, moving a task) never fails half-way with "database is locked"
when another process writes; `busy_timeout` makes it wait for that lock, and WAL lets readers
(the API's polls) go on meanwhile. Selected by `videoanalysis.db.tortoise_config`.

A transaction that fails to begin (BEGIN IMMEDIATE still locked after the busy timeout, or the
task cancelled there) releases the connection's lock: Tortoise's context releases it only on
exit, never reached then, and every later query of the process waited for ever.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from tortoise.backends.sqlite.client import SqliteClient, SqliteTransactionWrapper
from tortoise.backends.sqlite.client import SqliteTransactionContext as _Context
from tortoise.connection import get_connections
from tortoise.exceptions import TransactionManagementError

BUSY_TIMEOUT_MS = 30_000
PRAGMAS = {"journal_mode": "WAL", "busy_timeout": BUSY_TIMEOUT_MS, "synchronous": "NORMAL"}


class ImmediateTransactionWrapper(SqliteTransactionWrapper):
    async def begin(self) -> None:
        try:
            await self._connection.commit()
            await self._connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise TransactionManagementError(exc) from exc


class ReleasingContext(_Context):
    async def __aenter__(self) -> Any:
        await self._trxlock.acquire()
        try:
            await self.ensure_connection()
            self.token = get_connections().set(self.connection_name, self.connection)
            try:
                await self.connection.begin()
            except BaseException:
                get_connections().reset(self.token)
                raise
        except BaseException:
            self._trxlock.release()
            raise
        return self.connection


class ImmediateSqliteClient(SqliteClient):
    def _in_transaction(self) -> _Context:
        return ReleasingContext(ImmediateTransactionWrapper(self), self._lock)


client_class = ImmediateSqliteClient
