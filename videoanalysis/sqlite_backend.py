"""Tortoise's SQLite client with writers that wait instead of failing.

Every transaction starts `BEGIN IMMEDIATE`: it takes the write lock at its start, so a
read-then-write (taking a lease, moving a task) never fails half-way with "database is locked"
when another process writes; `busy_timeout` makes it wait for that lock, and WAL lets readers
(the API's polls) go on meanwhile. Selected by `videoanalysis.db.tortoise_config`.
"""

from __future__ import annotations

import sqlite3

from tortoise.backends.sqlite.client import SqliteClient, SqliteTransactionWrapper
from tortoise.backends.sqlite.client import SqliteTransactionContext as _Context
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


class ImmediateSqliteClient(SqliteClient):
    def _in_transaction(self) -> _Context:
        return _Context(ImmediateTransactionWrapper(self), self._lock)


client_class = ImmediateSqliteClient
