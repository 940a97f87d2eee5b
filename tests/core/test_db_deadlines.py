"""Every database wait ends (`videoanalysis.pg_backend`): a pool whose connections are all
held, a lock held by a transaction left open, and that transaction itself, on the real
PostgreSQL server. Each would have waited for ever; here each ends after the timeout with an
error the callers' retries count as transient."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import asyncpg
import pytest

from videoanalysis.db import is_transient_db_error, tortoise_config
from videoanalysis.pg_backend import BoundedAsyncpgClient, PoolTimeout

TIMEOUT_S = 1.0


@pytest.fixture
async def client(pg_url: str) -> AsyncIterator[BoundedAsyncpgClient]:
    config = tortoise_config(f"{pg_url}?maxsize=1", timeout_s=TIMEOUT_S)["connections"]["default"]
    assert config["engine"] == "videoanalysis.pg_backend"
    bounded = BoundedAsyncpgClient(connection_name="bounded", **config["credentials"])
    await bounded.create_connection(with_db=True)
    await bounded.execute_script("CREATE TABLE IF NOT EXISTS deadline_probe (id int PRIMARY KEY, n int)")
    await bounded.execute_script("INSERT INTO deadline_probe VALUES (1, 0) ON CONFLICT DO NOTHING")
    yield bounded
    await bounded.close()


async def ends_within(coro, limit: float) -> BaseException:
    """The exception `coro` ends with, which it must do by itself within `limit` seconds."""
    scope = asyncio.timeout(limit)
    try:
        async with scope:
            await coro
    except Exception as exc:
        if scope.expired():
            raise AssertionError(f"still waiting after {limit} s") from exc
        return exc
    raise AssertionError("the call ended without an error")


async def test_a_pool_whose_connections_are_all_held_answers_within_the_timeout(client) -> None:
    held = asyncio.Event()
    release = asyncio.Event()

    async def hold() -> None:
        async with client.acquire_connection():
            held.set()
            await release.wait()

    holder = asyncio.create_task(hold())
    await asyncio.wait_for(held.wait(), 5)
    started = time.monotonic()
    error = await ends_within(client.execute_query("SELECT 1"), 4 * TIMEOUT_S)
    assert isinstance(error, PoolTimeout) and "no database connection was free within 1 s" in str(error)
    assert TIMEOUT_S * 0.9 <= time.monotonic() - started < 3 * TIMEOUT_S
    assert is_transient_db_error(error)
    release.set()
    await asyncio.wait_for(holder, 5)
    assert await client.execute_query_dict("SELECT n FROM deadline_probe WHERE id = 1") == [{"n": 0}]


async def test_a_lock_held_by_an_open_transaction_is_waited_for_at_most_the_timeout(client, pg_url: str) -> None:
    other = await asyncpg.connect(pg_url)
    try:
        await other.execute("BEGIN; SELECT * FROM deadline_probe WHERE id = 1 FOR UPDATE")
        error = await ends_within(
            client.execute_query("UPDATE deadline_probe SET n = n + 1 WHERE id = 1"), 4 * TIMEOUT_S
        )
        assert type(error).__name__ == "LockNotAvailableError", repr(error)
        assert is_transient_db_error(error)
    finally:
        await other.close()
    await client.execute_query("UPDATE deadline_probe SET n = n + 1 WHERE id = 1")  # the lock went with it


async def test_a_transaction_left_open_is_ended_by_the_server(client) -> None:
    """A client that stopped half-way (its coroutine never resumes) does not keep its locks:
    the server ends the session after twice the timeout."""
    async with client.acquire_connection() as conn:
        await conn.execute("BEGIN")
        await conn.execute("SELECT * FROM deadline_probe WHERE id = 1 FOR UPDATE")
        await asyncio.sleep(2 * TIMEOUT_S + 1.0)
        with pytest.raises(Exception) as caught:
            await conn.execute("SELECT 1")
        assert is_transient_db_error(caught.value), repr(caught.value)
    await client.execute_query("UPDATE deadline_probe SET n = n + 1 WHERE id = 1")


def test_migrations_keep_unbounded_statements() -> None:
    config = tortoise_config("postgres://va@db:5432/videos", migrations=True, timeout_s=None)
    assert config["connections"]["default"] == "postgres://va@db:5432/videos"


async def test_a_transaction_that_cannot_begin_gives_its_connection_back(
    client, db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """BEGIN fails (a connection the server dropped) or is cancelled (a request cut off) after
    the pooled connection was taken: it still returns to the pool. Tortoise's own transaction
    kept it for good: with a pool of one, every later query of the process then waited for a
    connection that never came back."""
    from tortoise.backends.asyncpg.client import TransactionWrapper

    begin = TransactionWrapper.begin
    failures = [asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed"), asyncio.CancelledError()]

    async def failing_begin(self) -> None:
        if failures:
            raise failures.pop(0)
        await begin(self)

    monkeypatch.setattr(TransactionWrapper, "begin", failing_begin)
    for expected in (asyncpg.exceptions.ConnectionDoesNotExistError, asyncio.CancelledError):
        with pytest.raises(expected):
            async with client._in_transaction() as tx:
                await tx.execute_query("SELECT 1")
    rows = await asyncio.wait_for(client.execute_query_dict("SELECT 1 AS one"), 4 * TIMEOUT_S)
    assert rows == [{"one": 1}]
    async with client._in_transaction() as tx:  # and a transaction begins on it again
        assert await tx.execute_query_dict("SELECT 2 AS two") == [{"two": 2}]


def test_on_sqlite_a_transaction_that_cannot_begin_releases_the_connection(tmp_path) -> None:
    """The embedded database has one connection behind a lock: BEGIN IMMEDIATE failing (still
    locked after the busy timeout) left that lock taken, and every later query of the server
    waited for ever (a child process with its own Tortoise, stopped after 20 s)."""
    import subprocess
    import sys

    code = f"""
import asyncio
from tortoise import Tortoise
from tortoise.exceptions import TransactionManagementError
from tortoise.transactions import in_transaction
import videoanalysis.sqlite_backend as backend
from videoanalysis.db import tortoise_config
from videoanalysis.tables import User

async def main():
    await Tortoise.init(config=tortoise_config("sqlite://{tmp_path}/t.sqlite3"))
    await Tortoise.generate_schemas()
    begin = backend.ImmediateTransactionWrapper.begin
    failures = [TransactionManagementError("database is locked"), asyncio.CancelledError()]
    async def failing_begin(self):
        if failures:
            raise failures.pop(0)
        await begin(self)
    backend.ImmediateTransactionWrapper.begin = failing_begin
    for _ in range(2):
        try:
            async with in_transaction():
                pass
        except (TransactionManagementError, asyncio.CancelledError):
            pass
    await asyncio.wait_for(User.create(email="a@example.com", password_hash="x"), 5)
    async with in_transaction():
        print(await asyncio.wait_for(User.all().count(), 5))
    await Tortoise.close_connections()

asyncio.run(main())
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=20)
    assert out.returncode == 0 and out.stdout.strip() == "1", out.stderr[-2000:]
