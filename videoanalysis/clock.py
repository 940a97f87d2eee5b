"""Whose clock decides an expiry: the database's.

Leases, retries and claims are stamped by one machine and compared by another (a job's Pod
and a replacement Pod on another node, the API and a job). Their clocks differ; the database
server's is the one they share. On PostgreSQL `db_now` reads `now()` (the current
transaction's start, so a transaction stamps and compares with one instant); on SQLite the
embedded server is the only machine, and its clock is the database's.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tortoise import Tortoise
from tortoise.backends.base.client import BaseDBAsyncClient

#: How far this process's clock is off (tests skew it to stand for another machine).
SKEW = timedelta(0)


def local_now() -> datetime:
    """This machine's time: for what it alone compares (its own timers, log lines)."""
    return datetime.now(UTC) + SKEW


async def db_now(conn: BaseDBAsyncClient | None = None) -> datetime:
    """The database's time now (aware, UTC), read through `conn` (inside its transaction) or
    the default connection."""
    client = conn or Tortoise.get_connection("default")
    if client.capabilities.dialect != "postgres":
        return local_now()
    _, rows = await client.execute_query("SELECT now() AS now")
    return rows[0]["now"].astimezone(UTC)
